"""Missed-delivery recovery: the pure decision over plain data, then the job against the fake GitHub."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db import deliveries, redelivery_cursor, redelivery_requests
from bot.deliveries.plan import Attempt, Requested, parse_time, plan
from bot.deliveries.recovery import recover, redeliver_job
from bot.outbox import Outbox
from tests.harness.inprocess import InProcessBot

NOW = 1_750_000_000.0
MIN, HOUR, DAY = 60.0, 3600.0, 86400.0


# -- the decision ---------------------------------------------------------------------------------

def at(guid: str, code: int, ago: float = HOUR, *, redelivery: bool = False, status: str | None = None,
       id: int | None = None) -> Attempt:
    """One attempt of GitHub's log, `ago` seconds before NOW."""
    if status is None:
        status = "OK" if 200 <= code < 300 else ("timed out" if code == 0 else f"Invalid HTTP Response: {code}")
    return Attempt(id=id or int(NOW - ago), guid=guid, delivered_at=NOW - ago, status_code=code, status=status,
                   redelivery=redelivery, event="issues", action="opened")


def decide(attempts, *, stored=(), requested=None, max_attempts=3, limit=50):
    return plan(attempts, stored=set(stored), requested=requested or {}, now=NOW, max_attempts=max_attempts,
                limit=limit)


CASES = [
    # (what, attempts, stored, requested, verdict or None when it succeeded, reason contains)
    ("delivered fine", [at("g", 202)], (), {}, None, ""),
    ("timed out, never stored", [at("g", 0)], (), {}, "redeliver", "attempt 1 of 3"),
    ("no connection", [at("g", 0, status="failed to connect to host")], (), {}, "redeliver", "failed to connect"),
    ("a 5xx", [at("g", 503)], (), {}, "redeliver", "503"),
    ("a 502 that failed to connect", [at("g", 502, status="failed to connect")], (), {}, "redeliver", "502"),
    ("bad signature", [at("g", 401)], (), {}, "skip", "refused it on purpose (401"),
    ("bad request", [at("g", 400)], (), {}, "skip", "(400"),
    ("too large", [at("g", 413)], (), {}, "skip", "(413"),
    ("a redirect", [at("g", 301)], (), {}, "skip", "answered 301"),
    ("a redelivery succeeded", [at("g", 0, 2 * HOUR), at("g", 202, HOUR, redelivery=True)], (), {}, None, ""),
    ("stored, GitHub missed the answer", [at("g", 0)], ("g",), {}, "skip", "stored"),
    ("refused once, timed out later", [at("g", 401, 2 * HOUR), at("g", 0, HOUR, redelivery=True)], (), {},
     "skip", "on purpose"),
    ("timed out, then refused", [at("g", 0, 2 * HOUR), at("g", 401, HOUR, redelivery=True)], (), {},
     "skip", "on purpose"),
    ("three redeliveries failed", [at("g", 0, 4 * HOUR)] + [at("g", 503, h * HOUR, redelivery=True)
                                                             for h in (3, 2, 1)], (), {}, "skip", "gave up after 3"),
    ("the bot asked three times", [at("g", 0)], (), {"g": Requested(3, NOW - 2 * HOUR)}, "skip", "gave up after 3"),
    ("a person redelivered once", [at("g", 0, 2 * HOUR), at("g", 0, HOUR, redelivery=True)], (), {},
     "redeliver", "attempt 2 of 3"),
    ("asked a minute ago, no attempt yet", [at("g", 0)], (), {"g": Requested(1, NOW - MIN)}, "later", "waiting"),
    ("asked, GitHub's attempt failed", [at("g", 0, HOUR), at("g", 0, 5 * MIN, redelivery=True)], (),
     {"g": Requested(1, NOW - 5 * MIN)}, "redeliver", "attempt 2 of 3"),
    ("asked, attempt logged a second early", [at("g", 0, HOUR), at("g", 0, 5 * MIN + 1, redelivery=True)], (),
     {"g": Requested(1, NOW - 5 * MIN)}, "redeliver", "attempt 2 of 3"),
    ("asked long ago, no attempt ever came", [at("g", 0)], (), {"g": Requested(1, NOW - 20 * MIN)},
     "redeliver", "attempt 2 of 3"),
    ("past GitHub's 3 days", [at("g", 0, 3 * DAY + MIN)], (), {}, "skip", "3-day retention"),
    ("just inside GitHub's 3 days", [at("g", 0, 3 * DAY - MIN)], (), {}, "redeliver", "attempt 1"),
]


@pytest.mark.parametrize("what, attempts, stored, requested, verdict, reason", CASES, ids=[c[0] for c in CASES])
def test_decision(what, attempts, stored, requested, verdict, reason):
    result = decide(attempts, stored=stored, requested=requested)
    if verdict is None:
        assert (result.decisions, result.succeeded) == ([], 1)
        return
    [decision] = result.decisions
    assert (decision.verdict, decision.latest) == (verdict, max(attempts, key=lambda a: a.delivered_at))
    assert reason in decision.reason


def test_the_limit_serves_the_oldest_events_first_and_holds_the_rest_for_the_next_run():
    attempts = [at(f"g{n}", 0, (10 - n) * MIN) for n in range(5)] + [at("fine", 202, MIN)]
    result = decide(attempts, limit=2)
    assert [(d.guid, d.verdict) for d in result.decisions] == [
        ("g0", "redeliver"), ("g1", "redeliver"), ("g2", "later"), ("g3", "later"), ("g4", "later")]
    assert result.examined_until == NOW - 8 * MIN, "the next run must see g2 again"
    assert decide(attempts, limit=5).examined_until == NOW - MIN, "nothing held: up to the newest attempt"


def test_an_event_waiting_for_githubs_attempt_holds_the_cursor():
    result = decide([at("g", 0, HOUR), at("other", 202, MIN)], requested={"g": Requested(1, NOW - MIN)})
    assert result.examined_until == NOW - HOUR


def test_github_items_are_read_as_the_api_returns_them():
    item = {"id": 12345678, "guid": "0b98", "delivered_at": "2019-06-03T00:57:16Z", "redelivery": False,
            "duration": 0.27, "status": "timed out", "status_code": 0, "event": "issues", "action": None,
            "installation_id": 123, "repository_id": 456}
    attempt = Attempt.from_github(item)
    assert attempt.delivered_at == parse_time("2019-06-03T00:57:16+00:00") == 1559523436
    assert (attempt.outcome, attempt.action, attempt.describe()) == ("failed", None, "timed out")


# -- the job, against the fake GitHub ---------------------------------------------------------------

SECRET = "recovery-secret"


@pytest.fixture
def bot(settings, app_key, fake_github):
    """The bot's app (its intake on a real socket, the App's webhook URL at the fake); its runtime."""
    made = InProcessBot(fake_github, app_key, settings.database_url, secret=SECRET, all_due=False,
                        **{**vars(settings), "github_write_interval": 0.001, "github_retries": 0})
    fake_github.webhook_url = made.serve()
    fake_github.webhook_secret = SECRET
    yield made.runtime
    made.dispose()


def down_url() -> str:
    """Where the bot is not listening: deliveries there fail to connect."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api/github/webhooks"


def missed(fake, guid: str, **kw):
    """A delivery GitHub could not make: the bot was down."""
    return fake.send_webhook(down_url(), SECRET, "issues", {"action": "opened", "n": guid}, guid=guid, **kw)


def with_settings(runtime, **changes):
    runtime.settings = Settings(**{**runtime.settings.__dict__, **changes})
    return runtime


def redelivered(fake) -> list[str]:
    """The guids the bot asked GitHub to redeliver, in order."""
    by_id = {a["id"]: a["guid"] for a in fake.hook_deliveries}
    return [by_id[int(r.path.split("/")[-2])] for r in fake.calls("POST", "/app/hook/deliveries/*/attempts")]


def stored(runtime) -> set[str]:
    with runtime.engine.connect() as conn:
        return set(conn.execute(select(deliveries.c.guid)).scalars())


def test_only_failed_never_stored_deliveries_are_redelivered(bot, fake_github):
    fake_github.send_webhook(fake_github.webhook_url, SECRET, "issues", {"action": "opened"}, guid="fine")
    missed(fake_github, "down")
    fake_github.record_delivery("server-error", "issues", "opened", 503)
    fake_github.record_delivery("bad-signature", "issues", "opened", 401)
    fake_github.record_delivery("too-large", "issues", "opened", 413)
    fake_github.record_delivery("answer-lost", "issues", "opened", 0)
    Outbox(bot.engine).store("answer-lost", "issues", "opened", None, b'{"action": "opened"}')

    report = recover(bot)

    assert sorted(redelivered(fake_github)) == ["down", "server-error"]
    assert stored(bot) == {"fine", "down", "server-error", "answer-lost"}
    assert [a["status_code"] for a in fake_github.attempts_of("down")] == [0, 202]
    lines = report.lines()
    assert any(line.startswith("redelivered") and "down" in line for line in lines)
    assert any("bad-signature" in line and "on purpose (401" in line for line in lines)
    assert lines[-1].startswith("total: 2 redelivered, 3 skipped, 0 left for later, 1 delivered fine")
    with bot.engine.connect() as conn:
        outcomes = conn.execute(select(redelivery_requests.c.guid, redelivery_requests.c.attempt,
                                       redelivery_requests.c.outcome)).all()
    assert sorted(outcomes) == [("down", 1, "accepted"), ("server-error", 1, "accepted")]

    recover(bot)
    assert len(redelivered(fake_github)) == 2, "a second run finds nothing left to do"


def test_attempts_are_capped_while_the_bot_stays_unreachable(bot, fake_github):
    with_settings(bot, redelivery_max_attempts=2)
    fake_github.webhook_url = down_url()
    missed(fake_github, "g")

    for _ in range(4):
        report = recover(bot)

    assert redelivered(fake_github) == ["g", "g"]
    assert [(a["status_code"], a["redelivery"]) for a in fake_github.attempts_of("g")] == \
        [(0, False), (0, True), (0, True)]
    assert "gave up after 2 redeliveries" in report.lines()[0]


def test_each_run_is_bounded_and_the_next_carries_on(bot, fake_github):
    with_settings(bot, redelivery_max_per_run=2)
    for n in range(5):
        missed(fake_github, f"g{n}")

    counts = []
    for _ in range(4):
        before = len(redelivered(fake_github))
        recover(bot)
        counts.append(len(redelivered(fake_github)) - before)

    assert counts == [2, 2, 1, 0]
    assert redelivered(fake_github) == [f"g{n}" for n in range(5)], "oldest first"
    assert {f"g{n}" for n in range(5)} <= stored(bot)


def test_a_run_resumes_where_the_last_one_stopped(bot, fake_github):
    for n in range(230):
        fake_github.record_delivery(f"old-{n}", "issues", "opened", 202, at=time.time() - 2 * HOUR)
    fake_github.record_delivery("latest", "issues", "opened", 202)
    recover(bot)
    first_run_pages = len(fake_github.calls("GET", "/app/hook/deliveries"))
    missed(fake_github, "new")

    recover(bot)

    lists = fake_github.calls("GET", "/app/hook/deliveries")
    assert first_run_pages == 3 and "cursor" in lists[1].query, "GitHub's cursor pages, 100 a page"
    assert len(lists) - first_run_pages == 1, "the second run reads only what is new"
    assert redelivered(fake_github) == ["new"]
    with bot.engine.connect() as conn:
        assert conn.execute(select(redelivery_cursor.c.examined_until)).scalar_one() >= time.time() - MIN


def test_only_githubs_three_days_are_looked_at(bot, fake_github):
    fake_github.record_delivery("inside", "issues", "opened", 0, at=fake_github.now() - 3 * DAY + 10 * MIN)
    fake_github.record_delivery("outside", "issues", "opened", 0, at=fake_github.now() - 3 * DAY - 10 * MIN)
    recover(bot)
    assert redelivered(fake_github) == ["inside"]


def test_a_refused_redelivery_is_reported_and_counted(bot, fake_github):
    missed(fake_github, "g")
    fake_github.fail("POST", "/app/hook/deliveries/*/attempts", status=422,
                     body={"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest"})
    report = recover(bot)
    assert "GitHub refused: 422" in report.lines()[0]
    with bot.engine.connect() as conn:
        assert conn.execute(select(redelivery_requests.c.outcome)).scalar_one().startswith("refused: 422")


def test_the_periodic_job_runs_recovery(bot, fake_github):
    missed(fake_github, "g")
    redeliver_job(bot, job=None)
    assert redelivered(fake_github) == ["g"] and "g" in stored(bot)


def test_a_run_github_fails_is_left_to_the_next_slot(bot, fake_github):
    missed(fake_github, "g")
    fake_github.fail("GET", "/app/hook/deliveries", status=502, times=1)
    redeliver_job(bot, job=None)  # no exception: not retried, never dead
    assert redelivered(fake_github) == []
    redeliver_job(bot, job=None)
    assert redelivered(fake_github) == ["g"]
