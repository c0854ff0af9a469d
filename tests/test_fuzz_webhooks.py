"""Fuzzing the webhook intake and the delivery's job, in-process through the real WSGI app.

Every body is signed with the webhook secret, so the fuzz reaches past the signature check. The
property: the intake answers a clear 4xx, or 2xx with the delivery stored, never 5xx; then the
stored delivery's job, and every job it enqueues, runs once in-process against the fake GitHub and
ends `done` (the delivery `done` or `ignored`) or `dead` with a clear error. A job left queued for
a retry would mean a malformed payload is retried as if GitHub were down.
"""

from __future__ import annotations

import copy
import json
import math
import time
import uuid

import pytest
from hypothesis import event, example, given, strategies as st
from hypothesis.errors import InvalidArgument
from sqlalchemy import select

from bot.db import deliveries, jobs
from tests import agentlogs, sessions_payloads as hooks
from tests.copilot_pr import INSTALLATION, PR, REPO, RUN, comment_payload
from tests.fakegithub import APP_ID, payloads
from tests.fakegithub.server import FakeGitHub
from tests.harness import databases
from tests.harness.inprocess import InProcessBot

SECRET = "fuzz-secret"
COMMENT_LOGIN = "hubot"  # comment_payload's default commenter


class Scene:
    """The bot in this process, the fake GitHub, and real payloads (GitHub's examples, agreeing with
    the fake) by name."""

    def __init__(self, bot: InProcessBot, real: dict):
        self.bot, self.fake, self.runtime, self.real = bot, bot.fake, bot.runtime, real

    def __repr__(self) -> str:
        return "Scene(...)"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def scene(request, app_key, tmp_path_factory):
    """One app and one fake GitHub for all examples: a Copilot PR with a running session, a comment."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/bot.sqlite3"
    else:
        url = databases.emptied(request.getfixturevalue("postgres_url"))
    fake = FakeGitHub(app_id=APP_ID, public_key_pem=app_key.public_pem).start()
    fake.add_installation(INSTALLATION, "octo-org", [REPO])
    fake.permissions[(REPO, COMMENT_LOGIN)] = "write"
    t0 = float(int(time.time()) - 120)
    run = fake.add_run(REPO, RUN, status="in_progress", conclusion=None, pull_requests=[PR], created_at=t0,
                       run_started_at=t0 + 1, updated_at=t0 + 5, triggering_actor="monalisa")
    pull = fake.add_pull(REPO, PR, created_at=t0 + 20)
    log = agentlogs.AgentLog()
    agentlogs.opening(log)
    log.bash("pytest -q", "3 passed in 0.1s")
    log.final("Done.")
    fake.set_run_log(REPO, RUN, agentlogs.run_logs_zip(log.sink.getvalue()))
    bot = InProcessBot(fake, app_key, url, secret=SECRET, job_lease=60.0, log_level="WARNING",
                       command_rate_limit=10**6)
    real = {
        "workflow_run": hooks.workflow_run("in_progress", fake, run, INSTALLATION),
        "workflow_run.completed": hooks.workflow_run("completed", fake, hooks.run_at(run, "completed",
                                                     conclusion="success"), INSTALLATION),
        "workflow_job": hooks.workflow_job("in_progress", fake, run, INSTALLATION, job_id=77),
        "pull_request": hooks.pull_request("opened", fake, pull, INSTALLATION),
        "pull_request.closed": hooks.pull_request("closed", fake, pull, INSTALLATION),
        "issue_comment": comment_payload(fake, "/session list\n/session log\n/session stop 1")[1],
        "issue_comment.edited": _edited(comment_payload(fake, "/session help\n/session stop all")[1]),
        "installation": payloads.with_installation(payloads.example("installation", "created"), INSTALLATION),
        "installation_repositories": payloads.with_installation(
            payloads.example("installation_repositories", "added"), INSTALLATION),
    }
    try:
        yield Scene(bot, real)
    finally:
        bot.dispose()
        fake.stop()


def _edited(payload: dict) -> dict:
    payload.update(action="edited", changes={"body": {"from": "/session help"}})
    return payload


# -- driving the app ----------------------------------------------------------------------------


def deliver(scene: Scene, body: bytes, *, event: str | None = "issue_comment", guid: str | None = None,
            content_type: str | None = "application/json") -> tuple[int, dict]:
    """POST `body`, correctly signed, straight into the WSGI app (headers as a WSGI server passes them)."""
    status, answer = scene.bot.post(body, {
        "X-Hub-Signature-256": payloads.sign(body, SECRET),
        "X-GitHub-Delivery": str(uuid.uuid4()) if guid is None else guid,
        "X-GitHub-Event": event, "Content-Type": content_type})
    return status, json.loads(answer)


def check(scene: Scene, status: int, answer: dict, guid: str) -> None:
    """The property: a clear 4xx, or a stored 2xx whose jobs all end done or dead (clearly)."""
    try:
        _check(scene, status, answer, guid)
    finally:  # a failing example leaves no job behind for the next one to trip on
        with scene.runtime.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.state.in_(["queued", "running"])).values(state="dead"))


def _check(scene: Scene, status: int, answer: dict, guid: str) -> None:
    assert status < 500, f"{status}: {answer}"
    note(f"answer {status}")  # --hypothesis-show-statistics: how far the examples got
    if 400 <= status < 500:
        assert isinstance(answer.get("error"), str) and answer["error"], answer
        return
    assert 200 <= status < 300, status
    if status == 200:
        assert answer == {"msg": "pong"}
        return
    with scene.runtime.engine.connect() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.guid == guid)).first()
    assert row is not None, "a 202 promises the delivery is stored"
    for kind, state, error in scene.bot.drain(limit=200):
        note(f"{kind} job {state}" + (f": {error.split(':', 1)[0]}" if error and state == "dead" else ""))
        assert state in ("done", "dead"), f"{kind} job left {state}: {error}"
        if state == "dead":
            assert error and _clear(error), f"{kind} job dead without a clear error: {error!r}"
    with scene.runtime.engine.connect() as conn:
        outcome = conn.execute(select(deliveries.c.outcome).where(deliveries.c.guid == guid)).scalar()
        job_state = conn.execute(select(jobs.c.state).where(jobs.c.delivery_id == row.id)).scalar()
    if job_state is None:
        assert outcome == "ignored", "a delivery stored without a job is one no handler wants"
    else:
        assert job_state in ("done", "dead")
        assert outcome in ("done", "ignored") if job_state == "done" else outcome == "failed"


def note(what: str) -> None:
    """Count `what` in hypothesis's statistics (outside a hypothesis test, nothing)."""
    try:
        event(what)
    except InvalidArgument:
        pass


def _clear(error: str) -> bool:
    """A dead job's error names what was wrong: ours or GitHub's words, not a bare KeyError."""
    return error.startswith(("bot.errors.PermanentError:", "bot.github.errors.GitHubError:"))


# -- strategies -----------------------------------------------------------------------------------

EVENTS = ["issue_comment", "workflow_run", "workflow_job", "pull_request", "installation",
          "installation_repositories", "ping", "push", "issues"]
ODD_TEXT = st.one_of(
    st.text(max_size=80),
    st.text(st.characters(codec="latin-1"), max_size=80),  # what a WSGI server can pass in a header
    st.sampled_from(["", " ", "\x00", "\r\n", "a" * 65, "a" * 10_000, "\u202e", "é", "../../etc", "issue_comment\x00"]),
)
CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
                     "application/x-www-form-urlencoded", "text/plain", "", ";", "application/json;;;",
                     "multipart/form-data; boundary=x"]),
    st.text(max_size=40),
)
JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
WRONG = st.one_of(
    st.sampled_from([None, "", "x", 0, -1, 2**31, 2**63, 2**80, True, 1.5, math.inf, math.nan, [], {},
                     "\x00", "\ud800", "🙂" * 3, "a" * 5_000, {"id": "x"}, [1, 2], "/session stop",
                     "../../../app/installations", "Codertocat/Hello-World"]),
    JSON_LEAVES,
)
TOP_KEYS = ["action", "installation", "repository", "sender", "comment", "issue", "changes", "workflow_run",
            "workflow_job", "pull_request", "repositories_added", "repositories_removed", "number"]


def _paths(value, prefix=()):
    for key, child in (value.items() if isinstance(value, dict) else
                       enumerate(value[:2]) if isinstance(value, list) else ()):
        yield prefix + (key,)
        yield from _paths(child, prefix + (key,))


SCENE_PAYLOAD_NAMES = ["workflow_run", "workflow_run.completed", "workflow_job", "pull_request",
                       "pull_request.closed", "issue_comment", "issue_comment.edited", "installation",
                       "installation_repositories"]


def apply(payload: dict, changes) -> dict:
    """Delete or replace the fields `changes` pick (by index into the payload's paths, shallow ones likelier)."""
    for pick, delete, value in changes:
        paths = list(_paths(payload))
        if not paths:
            break
        if isinstance(pick, tuple):  # an explicit path (the regression examples)
            path = pick
        else:
            shallow = [p for p in paths if len(p) <= 2 and p[0] in TOP_KEYS] or paths
            pool = shallow if pick % 3 else paths
            path = pool[pick % len(pool)]
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if delete:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return payload


def encode(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


# -- the fuzz tests -------------------------------------------------------------------------------


@given(body=st.binary(max_size=2_000), event=st.sampled_from(EVENTS), content_type=CONTENT_TYPES)
def test_random_bytes_are_a_clear_4xx(scene, body, event, content_type):
    guid = str(uuid.uuid4())
    check(scene, *deliver(scene, body, event=event, guid=guid, content_type=content_type), guid)


@given(event=st.one_of(st.sampled_from(EVENTS), ODD_TEXT, st.none()), guid=st.one_of(ODD_TEXT, st.none()),
       content_type=CONTENT_TYPES, name=st.sampled_from(SCENE_PAYLOAD_NAMES))
@example(event="issue_comment\x00", guid="d\x00", content_type=None, name="issue_comment")
@example(event="issue_comment", guid="\x00", content_type=None, name="issue_comment")
def test_odd_headers_are_a_clear_4xx_or_stored(scene, event, guid, content_type, name):
    unique = f"{guid}{uuid.uuid4().hex[:8]}" if guid else guid  # a guid seen before is a duplicate, fine too
    unique = unique if unique is None or len(guid) <= 56 else guid
    status, answer = deliver(scene, encode(scene.real[name]), event=event, guid=unique or "",
                             content_type=content_type)
    check(scene, status, answer, unique or "")


@given(body=st.one_of(
    JSON_VALUES,
    st.dictionaries(st.sampled_from(TOP_KEYS), JSON_VALUES, max_size=6),
    st.fixed_dictionaries({"action": JSON_LEAVES, "installation": st.one_of(JSON_LEAVES, st.fixed_dictionaries(
        {"id": JSON_LEAVES}))}),
), event=st.sampled_from(EVENTS), utf=st.sampled_from(["utf-8", "utf-16", "utf-32"]))
@example(body={"action": "\x00"}, event="issues", utf="utf-8")
@example(body={"action": "\ud800"}, event="issues", utf="utf-8")
@example(body={"action": "created", "installation": {"id": 2**80}}, event="issues", utf="utf-8")
@example(body={"action": "created", "installation": {"id": 2**63}}, event="issues", utf="utf-8")
@example(body={"action": "created", "installation": {"id": -5}}, event="issues", utf="utf-8")
def test_unicode_and_odd_json_bodies(scene, body, event, utf):
    raw = json.dumps(body, ensure_ascii=False).encode(utf, "surrogatepass")
    guid = str(uuid.uuid4())
    check(scene, *deliver(scene, raw, event=event, guid=guid), guid)


@pytest.mark.parametrize("raw", [
    b"[" * 100_000,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    b'{"action": "created", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    b"\xef\xbb\xbf{}",  # a byte-order mark
    b"{}" + b" " * 100_000,
    b'{"action": "created"}\x00',
    b"NaN",
    b'{"installation": {"id": Infinity}}',
])
def test_deeply_nested_and_odd_json_is_a_clear_4xx_or_stored(scene, raw):
    guid = str(uuid.uuid4())
    check(scene, *deliver(scene, raw, event="issues", guid=guid), guid)


COMMANDS = st.lists(st.one_of(
    st.sampled_from(["/session list", "/session log", "/session log --full", "/session stop", "/session stop all",
                     "/session stop 1", "/session help", "/session log 99999999999", "/session stop #1",
                     "/session ```@everyone```", "/session <img src=x> @octo-org/admins #1",
                     "```\n/session stop\n```", "/session\x00stop", "/session \u202estop", "> /session stop"]),
    st.text(max_size=30).map(lambda t: "/session " + t)), min_size=1, max_size=3).map("\n".join)


@given(name=st.sampled_from(SCENE_PAYLOAD_NAMES), body=COMMANDS,
       changes=st.lists(st.tuples(st.integers(0, 10**6), st.booleans(), WRONG), max_size=3))
# Found by this test: a missing field was a KeyError retried 8 times as if GitHub were down; a
# missing status broke a NOT NULL column (retried too); odd values reached PostgreSQL and failed there.
@example(name="workflow_run", body="", changes=[(("workflow_run",), True, None)])
@example(name="workflow_run", body="", changes=[(("workflow_run", "status"), True, None)])
@example(name="workflow_job", body="", changes=[(("workflow_job", "run_id"), False, "5151")])
@example(name="pull_request", body="", changes=[(("pull_request", "number"), False, 2**40)])
@example(name="pull_request", body="", changes=[(("pull_request", "title"), False, "\x00")])
@example(name="issue_comment", body="/session list\x00", changes=[])
@example(name="issue_comment", body="/session list", changes=[(("repository", "full_name"), False, "../../app")])
@example(name="installation", body="", changes=[(("installation", "account", "type"), False, "x" * 5_000)])
@example(name="installation_repositories", body="", changes=[(("repositories_added", 0, "id"), False, 2**80)])
def test_real_payloads_with_fields_deleted_or_of_the_wrong_type(scene, name, body, changes):
    payload = copy.deepcopy(scene.real[name])
    if name.startswith("issue_comment"):  # a new comment each time: a comment's commands run once
        payload["comment"] = scene.fake.add_comment(REPO, PR, body, login=COMMENT_LOGIN)
    payload = apply(payload, changes)
    guid = str(uuid.uuid4())
    check(scene, *deliver(scene, encode(payload), event=name.split(".")[0], guid=guid), guid)


def test_the_real_payloads_themselves_are_stored_and_processed(scene):
    """The unmutated payloads pass: the fuzz's mutations are what the failures come from."""
    for name, payload in scene.real.items():
        guid = str(uuid.uuid4())
        status, answer = deliver(scene, encode(payload), event=name.split(".")[0], guid=guid)
        assert status == 202
        check(scene, status, answer, guid)
