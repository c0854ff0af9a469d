"""The insights end to end, against the fake GitHub: a finished run's jobs read once for its run time, stored
summaries classified by the periodic job, copilot-setup-steps.yml looked up in a job; then the report CLI
and the `/insights` page show the same figures, and the page asks GitHub nothing."""

from __future__ import annotations

import copy
import json
import time

import pytest
from sqlalchemy import select

from bot import db
from bot.handlers.status_comment import MARKER
from bot.sessions import tasks
from bot.sessions.failures import SETUP_STEPS_DOCS, SETUP_STEPS_PATH
from tests import sessions_payloads as hooks
from tests import web_index
from tests.fakegithub.actions import iso
from tests.harness.inprocess import InProcessBot
from tests.html_page import Page
from tests.test_sessions_report import SETUP_FAILED
from tests.test_web_insights import figures

INSTALLATION, REPO = 88, "octo-org/app"
TOKEN = "operator-token-" + "x" * 20


@pytest.fixture
def bot(fake_github, app_key, database_url):
    made = InProcessBot(fake_github, app_key, database_url, admin_token=TOKEN)
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    yield made
    made.dispose()


def finished_session(bot, fake, pr: int, run_id: int, *, started: float, ended: float, conclusion: str = "success",
                     attempt: int = 1, jobs: tuple[tuple[int, float, float], ...] = (), merged: bool = False):
    """PR `pr` by Copilot and its session's run, which ran from `started` to `ended` and has `jobs`
    (attempt, started, completed) at the fake; GitHub tells the bot the run completed (and the PR's fate)."""
    run = fake.add_run(REPO, run_id, conclusion=conclusion, pull_requests=[pr], created_at=started - 5,
                       run_started_at=started, updated_at=ended, run_attempt=attempt, triggering_actor="monalisa",
                       head_branch=f"copilot/fix-{pr}")
    for n, (job_attempt, job_started, job_completed) in enumerate(jobs):
        fake.add_job(REPO, run_id, run_id * 10 + n, started_at=job_started, completed_at=job_completed,
                     run_attempt=job_attempt)
    pull = fake.add_pull(REPO, pr, created_at=started, head_branch=f"copilot/fix-{pr}")
    deliveries = [("pull_request", hooks.pull_request("opened", fake, pull, INSTALLATION)),
                  ("workflow_run", hooks.workflow_run("completed", fake, run, INSTALLATION))]
    if merged:
        closed = copy.deepcopy(pull)
        closed.update(state="closed", merged=True, merged_at=iso(ended + 60), updated_at=iso(ended + 60))
        deliveries.append(("pull_request", hooks.pull_request("closed", fake, closed, INSTALLATION)))
    bot.settle(deliveries)
    return bot.session_row(run_id)


def test_the_cli_and_the_page_agree_and_totals_are_the_fakes_timestamps(bot, fake_github):
    t0 = float(int(time.time()) - 7200)
    finished_session(bot, fake_github, 7, 5151, started=t0, ended=t0 + 610, jobs=((1, t0 + 12, t0 + 600),),
                     merged=True)
    setup = finished_session(bot, fake_github, 8, 5152, started=t0 + 1000, ended=t0 + 1300, conclusion="failure")
    finished_session(bot, fake_github, 9, 5153, started=t0 + 2000, ended=t0 + 2200, attempt=2,
                     jobs=((1, t0 + 1500, t0 + 1600), (2, t0 + 2000, t0 + 2200)))
    jobs_read = fake_github.calls("GET", f"/repos/{REPO}/actions/runs/*/jobs")
    assert len(jobs_read) == 3 and all(r.query["filter"] == ["all"] for r in jobs_read)
    with bot.engine.connect() as conn:
        kept = dict(conn.execute(select(db.run_times.c.run_id, db.run_times.c.seconds)).all())
    assert kept == {5151: 588.0, 5152: None, 5153: 300.0}  # 5152's jobs were never listed: its run's times count

    web_index.summary(bot.engine, setup, SETUP_FAILED)  # kept once someone asked `/session log`
    with bot.engine.begin() as conn:
        bot.runtime.queue.enqueue(conn, "insights")
    ran = bot.drain()
    assert [kind for kind, _, _ in ran] == ["insights", "insights.setup_steps"]
    assert fake_github.calls("GET", f"/repos/{REPO}/contents/{SETUP_STEPS_PATH}")

    with bot.app.app_context():
        printed = bot.app.test_cli_runner().invoke(args=["sessions", "report", "--since", "2d", "--json"])
        text = bot.app.test_cli_runner().invoke(args=["sessions", "report", "--since", "2d", "--repo", REPO])
    assert printed.exit_code == 0 and text.exit_code == 0, printed.output + text.output
    asked = len(fake_github.requests)
    page = Page(bot.app.test_client().get("/insights?since=2d",
                                          headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True))
    assert len(fake_github.requests) == asked  # the page reads the index: no GitHub call

    data = json.loads(printed.output)
    [app] = data["repositories"]
    assert app["run_seconds"] == 588 + 300 + 300 and app["timed_sessions"] == 3
    assert app["outcomes"] == {"completed": 2, "failed": 1, "cancelled": 0, "timed_out": 0, "running": 0}
    assert app["pull_requests"] == {"merged": 1, "closed_unmerged": 0, "open": 2, "merge_rate": 1.0}
    assert app["top_causes"] == [["setup", 1]] and f"has no {SETUP_STEPS_PATH}" in app["hint"]["text"]
    assert "19m 48s" in text.output and SETUP_STEPS_DOCS in text.output  # 1,188 s; the hint and its link

    shown = figures(page, "repositories", "repository")[REPO]
    assert {k: int(v) for k, v in shown.items() if k in app["outcomes"] or k in ("sessions", "stuck")} == {
        "sessions": app["sessions"], "stuck": app["stuck"], **app["outcomes"]}
    assert float(shown["run_seconds"]) == app["run_seconds"]
    pulls = figures(page, "pull-requests", "repository")[REPO]
    assert {k: float(v) for k, v in pulls.items()} == app["pull_requests"]
    assert [(li["data-cause"], int(li["data-count"])) for li in page.find("li") if "data-cause" in li] == [
        tuple(c) for c in app["top_causes"]]
    assert page.one("a", class_="hint-link")["href"] == app["hint"]["url"] == SETUP_STEPS_DOCS
    people = figures(page, "people", "login")
    assert {p["login"]: (p["sessions"], p["run_seconds"]) for p in data["people"]} == {
        login: (int(row["sessions"]), float(row["run_seconds"])) for login, row in people.items() if row}
    per_day = {row["data-day"] for row in page.find("tr") if "data-day" in row}
    assert per_day == {day["day"] for day in data["per_day"]}
    for day in data["per_day"]:
        for outcome, n in day.items():
            if outcome != "day":
                assert page.find("tr", data_day=day["day"]) and n == _cell(page, day["day"], outcome)


def _cell(page: Page, day: str, outcome: str) -> int:
    """The per-day table's count of `outcome` on `day`."""
    in_row = False
    for tag, attrs in page.elements:
        if tag == "tr":
            in_row = attrs.get("data-day") == day
        elif in_row and tag == "td" and attrs.get("data-outcome") == outcome:
            return int(attrs["data-count"])
    raise AssertionError(f"no cell for {outcome} on {day}")


def test_a_runs_jobs_are_read_once_per_attempt_and_never_for_other_runs(bot, fake_github):
    t0 = float(int(time.time()) - 3600)
    finished_session(bot, fake_github, 7, 5151, started=t0, ended=t0 + 60, jobs=((1, t0, t0 + 50),))
    again = hooks.workflow_run("completed", fake_github, fake_github.actions.runs[REPO][5151], INSTALLATION)
    ci = fake_github.add_run(REPO, 6000, path=".github/workflows/ci.yml", event="push", head_branch="main")
    bot.settle([("workflow_run", again), ("workflow_run", hooks.workflow_run("completed", fake_github, ci,
                                                                           INSTALLATION))])
    assert [r.path for r in fake_github.calls("GET", f"/repos/{REPO}/actions/runs/*/jobs")] == [
        f"/repos/{REPO}/actions/runs/5151/jobs"]


def test_a_run_gone_before_its_jobs_are_read_keeps_its_own_times(bot, fake_github):
    t0 = float(int(time.time()) - 3600)
    run = fake_github.add_run(REPO, 5151, pull_requests=[7], created_at=t0, run_started_at=t0 + 1, updated_at=t0 + 91)
    assert bot.deliver("workflow_run", hooks.workflow_run("completed", fake_github, run, INSTALLATION)) == 202
    del fake_github.actions.runs[REPO.lower()][5151]  # deleted at GitHub before the job ran
    assert ("insights.run_time", "done", None) in bot.drain()
    with bot.engine.connect() as conn:
        assert conn.execute(select(db.run_times)).all() == []


def test_the_status_comment_gives_the_pull_requests_run_time_from_its_jobs(bot, fake_github):
    t0 = float(int(time.time()) - 7200)
    finished_session(bot, fake_github, 7, 5151, started=t0, ended=t0 + 610, jobs=((1, t0 + 12, t0 + 600),))
    [status] = [c["body"] for c in fake_github.comments_on(REPO, 7) if c["body"].startswith(MARKER)]
    assert "Run time: 9m 48s over 1 finished session." in status, "the job's 588 s, not the run's 610 s"


def test_copilot_usage_stands_beside_run_time_per_unit_never_added_together(bot, fake_github):
    t0 = float(int(time.time()) - 7200)
    session = finished_session(bot, fake_github, 7, 5151, started=t0, ended=t0 + 610, jobs=((1, t0 + 12, t0 + 600),))

    def task(task_id: str, *usages: tuple[str, float]) -> dict:
        return {"id": task_id, "state": "completed", "created_at": iso(t0), "updated_at": iso(t0 + 600),
                "repository": {"id": session.repository_id}, "creator": {"id": 1},
                "sessions": [{"id": f"{task_id}-{n}", "state": "completed", "created_at": iso(t0),
                              "usage": {"type": unit, "amount": amount}} for n, (unit, amount) in enumerate(usages)]}
    with bot.engine.begin() as conn:  # as the tasks' refresh keeps them, read with monalisa's own token
        for answer in (task("t1", ("ai_credits", 1_500_000_000), ("ai_credits", 2_000_000_000)),
                       task("t2", ("premium_requests", 1.5))):
            tasks.record_task(conn, answer, installation_id=INSTALLATION, repository_id=session.repository_id,
                              repository=REPO, now=time.time(), person=(1, "monalisa"))

    with bot.app.app_context():
        printed = bot.app.test_cli_runner().invoke(args=["sessions", "report", "--since", "2d", "--json"])
        text = bot.app.test_cli_runner().invoke(args=["sessions", "report", "--since", "2d"])
    page = Page(bot.app.test_client().get("/insights?since=2d",
                                          headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True))
    data = json.loads(printed.output)
    [app], [monalisa] = data["repositories"], data["people"]
    # Nano units summed first, divided once; premium requests apart, in their own unit.
    assert (app["ai_credits"], app["premium_requests"]) == (3.5, 1.5) == (monalisa["ai_credits"],
                                                                          monalisa["premium_requests"])
    assert "3.5 AI credits · 1.5 premium requests" in text.output
    assert figures(page, "repositories", "repository")[REPO]["usage"] == "3.5 AI credits · 1.5 premium requests"
    assert figures(page, "people", "login")["monalisa"]["usage"] == "3.5 AI credits · 1.5 premium requests"
