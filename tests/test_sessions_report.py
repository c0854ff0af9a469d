"""The insights report (bot/sessions/report.py) on SQLite and PostgreSQL: outcomes, run time, pull requests,
causes, people and days, narrowed to what a viewer may see; and what the insights keep beside the index
(bot/sessions/insights.py): a run's jobs' time, each stored summary's cause."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select, update

from bot.db import run_times, sessions, setup_steps_cache, summary_causes
from bot.logs.reader import read_events
from bot.logs.summary import summarise
from bot.sessions import insights, report
from bot.sessions.failures import SETUP_STEPS_DOCS
from tests import web_index
from tests.agentlogs import WORKDIR, AgentLog, opening
from tests.web_index import T0

COPILOT = ("Copilot",)
SINCE, UNTIL = T0 - report.DAY, T0 + report.DAY


def pull(engine, number: int, *, state: str = "open", merged: bool = False, author: str = "Copilot",
         repository_id: int = 101, created: str = "2025-06-15T16:00:00Z") -> None:
    installation_id, name = web_index.REPOS[repository_id]
    from bot.sessions import store
    store.observe_pull(engine, installation_id=installation_id, repository_id=repository_id, repository=name, pull={
        "id": 9000 + number, "number": number, "title": f"PR {number}", "state": state, "draft": False,
        "user": {"login": author}, "assignees": [], "head": {"ref": f"copilot/task-{number}", "repo": {"id": 101}},
        "html_url": f"https://github.com/{name}/pull/{number}", "created_at": created, "updated_at": created,
        "merged_at": created if merged else None})


def summary_data(*commands: tuple[str, str, int], final: bool = True) -> dict:
    log = AgentLog()
    opening(log)
    for command, output, code in commands:
        log.bash(f"cd {WORKDIR} && {command}", output, exit_code=code)
    if final:
        log.final("Done.")
    return summarise(read_events(log.stream())).to_dict()


SETUP_FAILED = summary_data(("pip install -r requirements.txt", "ERROR: No matching distribution", 1))
TESTS_FAILED = summary_data(("pip install -r requirements.txt", "ok", 0), ("python -m pytest", "1 failed", 1))


@pytest.fixture
def index(engine):
    """octo-org/app (101): every outcome; octo-org/docs (102): one session; mallory/secret (201): one failure."""
    web_index.install(engine)
    s = lambda run, **kw: web_index.session(engine, run, **kw)  # noqa: E731
    rows = {"done": s(1, pr=1), "done2": s(2, pr=2, starter="hubot"), "setup": s(3, state="failed", pr=3),
            "tests": s(4, state="failed", pr=4), "bare": s(5, state="failed", starter=None),
            "cancelled": s(6, state="cancelled"), "auto": s(7, state="cancelled"), "timed_out": s(8, state="timed_out"),
            "running": s(9, state="in_progress"), "queued": s(10, state="queued"),
            "docs": s(11, repository_id=102, starter="hubot"),
            "mallory": s(12, state="failed", repository_id=201, starter="mallory"),
            "old": s(13, created=T0 - 3 * report.DAY)}
    web_index.summary(engine, rows["setup"], SETUP_FAILED)
    web_index.summary(engine, rows["tests"], TESTS_FAILED)
    web_index.summary(engine, rows["done"], summary_data(("python -m pytest", "3 passed", 0)))
    web_index.stop(engine, rows["cancelled"], by="monalisa", via="page", outcome="cancelled", at=T0 + 400)
    web_index.stop(engine, rows["auto"], by="session-bot", via="page", outcome="cancelled", at=T0 + 460)
    with engine.begin() as conn:
        conn.execute(update(web_index.session_stops).where(web_index.session_stops.c.run_id == 7)
                     .values(reason="auto-stop"))
        conn.execute(update(sessions).where(sessions.c.run_id == 9).values(stuck="running", stuck_at=T0))
    insights.record_run_time(engine, repository_id=101, run_id=1, run_attempt=1, jobs=[
        {"started_at": "2025-06-15T15:08:00Z", "completed_at": "2025-06-15T15:18:00Z"},
        {"started_at": "2025-06-15T15:18:00Z", "completed_at": "2025-06-15T15:18:30Z"}])
    pull(engine, 1, merged=True)
    pull(engine, 2, state="closed")
    pull(engine, 3)
    pull(engine, 4, merged=True)
    pull(engine, 50, author="monalisa")  # a person's own pull request: not the agent's
    pull(engine, 51, merged=True, created="2025-06-01T00:00:00Z")  # opened before the window
    insights.classify_pending(engine)
    return type("Index", (), {"engine": engine, "rows": rows})()


def build(engine, **kw):
    with engine.connect() as conn:
        return report.build(conn, since=SINCE, until=UNTIL, agent_logins=COPILOT, **kw)


def test_outcomes_run_time_and_pull_requests_per_repository(index):
    found = build(index.engine, repository_ids=frozenset({101, 102}))
    app, docs = found.repositories
    assert (app.repository, docs.repository) == ("octo-org/app", "octo-org/docs")
    assert app.figures.outcomes == {"completed": 2, "failed": 3, "cancelled": 2, "timed_out": 1, "running": 2}
    assert (app.figures.sessions, app.figures.stuck) == (10, 1)
    # Run 1's jobs ran 630 s; the seven other finished sessions ran 25 s each by their runs' own times.
    assert (app.figures.run_seconds, app.figures.timed) == (630 + 7 * 25, 8)
    assert (app.pulls.merged, app.pulls.closed_unmerged, app.pulls.still_open, app.pulls.merge_rate) == (2, 1, 1, 2 / 3)
    assert docs.figures.outcomes["completed"] == 1 and docs.pulls.merge_rate is None
    assert found.totals.figures.sessions == 11 and found.totals.pulls.merged == 2


def test_why_they_failed_from_state_stops_and_stored_summaries(index):
    [app] = build(index.engine, repository="OCTO-ORG/app").repositories
    assert app.causes == {"setup": 1, "tests": 1, "unknown": 1, "cancelled": 1, "timed_out": 2}
    assert app.top_causes == [("timed_out", 2), ("setup", 1), ("tests", 1)]
    assert app.hint is None  # setup is not most of the failures


def test_the_hint_names_the_missing_setup_steps_file_once_the_cache_knows(index):
    engine = index.engine
    for run in range(5):  # most failures were setup failures after all
        row = web_index.session(engine, 100 + run, state="failed")
        web_index.summary(engine, row, SETUP_FAILED)
    insights.classify_pending(engine)
    [app] = build(engine, repository="octo-org/app").repositories
    assert app.causes["setup"] == 6 and "a .github/workflows/copilot-setup-steps.yml can" in app.hint.text
    with engine.begin() as conn:
        conn.execute(insert(setup_steps_cache).values(installation_id=1, repository="octo-org/app", present=False,
                                                      checked_at=T0))
    [app] = build(engine, repository="octo-org/app").repositories
    assert "the repository has no .github/workflows/copilot-setup-steps.yml" in app.hint.text
    assert app.hint.url == SETUP_STEPS_DOCS


def test_people_and_days(index):
    found = build(index.engine, repository_ids=frozenset({101, 102}))
    people = {p.login: p.figures for p in found.people}
    assert [p.login for p in found.people] == ["monalisa", "hubot", None]
    assert (people["monalisa"].sessions, people["hubot"].sessions, people[None].sessions) == (8, 2, 1)
    assert people["hubot"].run_seconds == 50 and people["monalisa"].outcomes["running"] == 2
    assert [day for day, _ in found.days] == ["2025-06-14", "2025-06-15", "2025-06-16"]
    assert found.days[1][1] == {"completed": 3, "failed": 3, "cancelled": 2, "timed_out": 1, "running": 2}
    assert sum(found.days[0][1].values()) == 0 == sum(found.days[2][1].values())


def test_a_viewer_sees_only_their_repositories_and_the_operator_everything(index):
    theirs = build(index.engine, repository_ids=frozenset({101, 102}))
    assert "mallory/secret" not in json.dumps(theirs.to_dict()) and "mallory" not in [p.login for p in theirs.people]
    assert build(index.engine, repository_ids=frozenset({101}), repository="mallory/secret").repositories == []
    everything = build(index.engine)
    assert [r.repository for r in everything.repositories] == ["octo-org/app", "mallory/secret", "octo-org/docs"]


def test_the_json_form_is_plain_data_with_every_cause(index):
    data = json.loads(json.dumps(build(index.engine, repository="octo-org/app").to_dict()))
    [app] = data["repositories"]
    assert data["since"] == "2025-06-14T15:06:40Z" and data["until"] == "2025-06-16T15:06:40Z"
    assert app["pull_requests"] == {"merged": 2, "closed_unmerged": 1, "open": 1, "merge_rate": 0.6667}
    assert set(app["causes"]) == {"setup", "tests", "timed_out", "cancelled", "github", "unknown"}
    assert app["run_seconds"] == 805 and data["totals"]["sessions"] == 10 and len(data["per_day"]) == 3


def test_summaries_are_classified_once_per_attempt(index):
    engine = index.engine
    assert insights.classify_pending(engine) == []  # the fixture classified them all
    with engine.connect() as conn:
        kept = dict(conn.execute(select(summary_causes.c.run_id, summary_causes.c.cause)).all())
    assert kept == {1: None, 3: "setup", 4: "tests"}
    row = index.rows["tests"]
    with engine.begin() as conn:  # a second attempt of run 4, and its summary
        conn.execute(update(sessions).where(sessions.c.id == row.id).values(run_attempt=2))
        conn.execute(update(web_index.session_summaries).where(web_index.session_summaries.c.run_id == 4)
                     .values(run_attempt=2, summary=json.dumps(SETUP_FAILED)))
    [again] = insights.classify_pending(engine)
    assert (again.run_id, again.cause, again.repository) == (4, "setup", "octo-org/app")


def test_a_later_attempts_job_times_replace_an_earlier_ones_never_the_reverse(engine):
    jobs = [{"started_at": "2025-06-15T10:00:00Z", "completed_at": "2025-06-15T10:05:00Z"},
            {"started_at": "2025-06-15T11:00:00Z", "completed_at": None}]
    assert insights.record_run_time(engine, repository_id=1, run_id=2, run_attempt=2, jobs=jobs) == 300
    insights.record_run_time(engine, repository_id=1, run_id=2, run_attempt=1, jobs=jobs[:1] * 3)
    with engine.connect() as conn:
        assert conn.execute(select(run_times.c.seconds, run_times.c.jobs)).one() == (300, 2)
    assert insights.job_seconds([{"started_at": None, "completed_at": None}]) == (None, 1)


@pytest.mark.parametrize("text, seconds", [("30d", 30 * report.DAY), ("12h", 43_200), ("2W", 14 * report.DAY)])
def test_since(text, seconds):
    assert report.parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1.5d", "367d", "99999d", "３d", "30 days"])
def test_since_refuses_anything_else(text):
    with pytest.raises(ValueError):
        report.parse_since(text)
