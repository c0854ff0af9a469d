"""The session index end to end: deliveries through gunicorn, the fake GitHub, the database."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot import db
from tests import sessions_payloads as hooks
from tests.fakegithub import payloads

pytestmark = pytest.mark.slow

INSTALLATION, REPO = 77, "octo-org/app"
DAY = 86400


def sessions_in(bot) -> list:
    with bot.engine.connect() as conn:
        return conn.execute(select(db.sessions).order_by(db.sessions.c.run_id)).all()


def settle(bot, deliveries: list[tuple[str, dict]]) -> None:
    for event, payload in deliveries:
        assert bot.deliver(event, payload).status_code == 202
    bot.wait_until(lambda: bot.count(db.deliveries, db.deliveries.c.outcome == "queued") == 0 and bot.jobs_settled(),
                   what="deliveries and their jobs")


def a_copilot_pull_request_at_work(fake) -> tuple[list[tuple[str, dict]], float]:
    """Monalisa asks Copilot; it opens PR #7 and its run goes requested → in_progress → completed."""
    fake.add_installation(INSTALLATION, "octo-org", [REPO])
    t0 = float(int(time.time()) - 600)
    run = fake.add_run(REPO, 4242, status="completed", conclusion="success", pull_requests=[7], created_at=t0,
                       run_started_at=t0 + 2, updated_at=t0 + 300, triggering_actor="Copilot")
    pull = fake.add_pull(REPO, 7, created_at=t0 + 20, assignees=["monalisa"])
    fake.add_timeline_event(REPO, 7, "assigned", actor="monalisa", created_at=t0 - 2)
    fake.add_timeline_event(REPO, 7, "copilot_work_started", actor="monalisa", created_at=t0 + 1)
    fake.add_timeline_event(REPO, 7, "copilot_work_finished", actor="Copilot", created_at=t0 + 299)
    deliveries = [
        ("workflow_run", hooks.workflow_run("requested", fake, hooks.run_at(run, "queued", at=t0), INSTALLATION)),
        ("workflow_run", hooks.workflow_run("in_progress", fake, hooks.run_at(run, "in_progress", at=t0 + 3),
                                            INSTALLATION)),
        ("workflow_job", hooks.workflow_job("in_progress", fake, run, INSTALLATION, job_id=31, started_at=t0 + 4)),
        ("pull_request", hooks.pull_request("opened", fake, pull, INSTALLATION)),
        ("workflow_job", hooks.workflow_job("completed", fake, run, INSTALLATION, job_id=31, started_at=t0 + 4,
                                            completed_at=t0 + 298, conclusion="success")),
        ("workflow_run", hooks.workflow_run("completed", fake, run, INSTALLATION)),
    ]
    return deliveries, t0


@pytest.mark.parametrize("order", ["as sent", "reversed and duplicated"])
def test_a_copilot_session_is_indexed_with_its_pr_starter_times_and_final_state(bot, fake_github, order):
    deliveries, t0 = a_copilot_pull_request_at_work(fake_github)
    if order != "as sent":
        deliveries = deliveries[::-1] + deliveries[1::2] + deliveries[::2]
    bot.start_web()

    settle(bot, deliveries)

    [session] = sessions_in(bot)
    assert (session.run_id, session.repository, session.pr_number, session.number) == (4242, REPO, 7, 1)
    assert (session.state, session.conclusion, session.run_attempt) == ("completed", "success", 1)
    assert (session.starter, session.starter_source, session.timeline_outcome) == ("monalisa", "timeline", "finished")
    assert (session.created_at, session.started_at, session.finished_at) == (t0, t0 + 2, t0 + 300)
    assert session.html_url == f"https://github.com/{REPO}/actions/runs/4242"
    assert not session.backfilled
    with bot.engine.connect() as conn:
        pr = conn.execute(select(db.pull_requests)).one()
    assert (pr.number, pr.title, pr.author, pr.draft, pr.head_branch) == (7, "[WIP] Fix the flaky test", "Copilot",
                                                                          True, "copilot/fix-1")
    assert {r.status for r in fake_github.calls("GET", f"/repos/{REPO}/issues/7/timeline")} <= {200, 304}


def test_installing_on_a_repository_with_past_agent_runs_backfills_them(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    now = float(int(time.time()))
    fake_github.add_run(REPO, 1, pull_requests=[3], created_at=now - 5 * DAY, conclusion="failure")
    fake_github.add_run(REPO, 2, pull_requests=[3], created_at=now - 4 * DAY, triggering_actor="hubot")
    fake_github.add_run(REPO, 3, head_branch="copilot/add-docs", created_at=now - 2 * DAY, conclusion="cancelled")
    fake_github.add_run(REPO, 4, pull_requests=[1], created_at=now - 45 * DAY)  # older than 30 days
    fake_github.add_run(REPO, 5, path=".github/workflows/ci.yml", event="push", head_branch="copilot/add-docs",
                        created_at=now - DAY)
    fake_github.add_run(REPO, 6, path="dynamic/dependabot/dependabot-updates", head_branch="dependabot/npm/x",
                        created_at=now - DAY)
    fake_github.add_pull(REPO, 3, head_branch="copilot/fix-1", created_at=now - 5 * DAY)
    fake_github.add_pull(REPO, 9, head_branch="copilot/add-docs", created_at=now - 2 * DAY, state="closed")
    fake_github.add_timeline_event(REPO, 3, "copilot_work_started", actor="monalisa", created_at=now - 5 * DAY + 1)
    fake_github.add_timeline_event(REPO, 3, "copilot_work_started", actor="hubot", created_at=now - 4 * DAY + 1)
    bot.start_web()

    settle(bot, [("installation", payloads.with_installation(payloads.example("installation", "created"),
                                                             INSTALLATION))])

    found = {s.run_id: (s.pr_number, s.number, s.state, s.starter, s.backfilled) for s in sessions_in(bot)}
    assert found == {1: (3, 1, "failed", "monalisa", True),
                     2: (3, 2, "completed", "hubot", True),
                     3: (9, 1, "cancelled", None, True)}
    [listing] = fake_github.calls("GET", f"/repos/{REPO}/actions/runs")
    assert listing.query["event"] == ["dynamic"]


def test_the_backfill_stays_within_its_budget(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    fake_github.add_run(REPO, 1, pull_requests=[3], created_at=time.time() - DAY)
    fake_github.add_pull(REPO, 3)
    bot.start_web(BACKFILL_API_BUDGET=1)

    settle(bot, [("installation", payloads.with_installation(payloads.example("installation", "created"),
                                                             INSTALLATION))])

    assert [s.run_id for s in sessions_in(bot)] == [1]
    assert not fake_github.calls("GET", "/repos/*/issues/*/timeline"), "the one call allowed listed the runs"


def test_non_copilot_runs_and_pull_requests_never_create_sessions(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    now = time.time()
    ci = fake_github.add_run(REPO, 50, path=".github/workflows/ci.yml", event="pull_request",
                             head_branch="feature/login", name="Copilot cloud agent", created_at=now)
    ci_on_agent_branch = fake_github.add_run(REPO, 51, path=".github/workflows/ci.yml", event="pull_request",
                                             head_branch="copilot/fix-1", created_at=now)
    human = fake_github.add_pull(REPO, 12, author="monalisa", head_branch="feature/login", assignees=[])
    bot.start_web()

    settle(bot, [
        ("workflow_run", hooks.workflow_run("completed", fake_github, ci, INSTALLATION)),
        ("workflow_job", hooks.workflow_job("completed", fake_github, ci, INSTALLATION, job_id=1,
                                            conclusion="success")),
        ("workflow_job", hooks.workflow_job("in_progress", fake_github, ci_on_agent_branch, INSTALLATION, job_id=2)),
        ("pull_request", hooks.pull_request("opened", fake_github, human, INSTALLATION)),
    ])

    assert bot.count(db.sessions) == 0
    assert bot.count(db.pull_requests) == 0
    assert [r.path for r in fake_github.calls("GET", "/repos/*")] == [f"/repos/{REPO}/actions/runs/51"], \
        "only the job on an agent branch needed its run fetched to be classified"


def test_a_fork_pull_request_on_a_branch_named_like_the_agents_never_takes_its_session(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    t0 = float(int(time.time()) - 600)
    run = fake_github.add_run(REPO, 4242, status="in_progress", conclusion=None, head_branch="copilot/fix-42",
                              created_at=t0)  # GitHub filled no pull_requests
    fork = hooks.from_fork(fake_github, fake_github.add_pull(REPO, 8, author="mallory", head_branch="copilot/fix-42",
                                                             title="Fix 42", draft=False, assignees=[],
                                                             created_at=t0 - 60), "mallory")
    bot.start_web()

    settle(bot, [("pull_request", hooks.pull_request("opened", fake_github, fork, INSTALLATION)),
                 ("workflow_run", hooks.workflow_run("in_progress", fake_github, run, INSTALLATION))])

    [session] = sessions_in(bot)
    assert session.pr_number is None, "the fork's pull request did not capture the run"
    assert bot.count(db.pull_requests) == 0

    real = fake_github.add_pull(REPO, 9, head_branch="copilot/fix-42", created_at=t0 + 20)
    settle(bot, [("pull_request", hooks.pull_request("opened", fake_github, real, INSTALLATION)),
                 ("pull_request", hooks.pull_request("synchronize", fake_github, fork, INSTALLATION))])

    [session] = sessions_in(bot)
    assert (session.pr_number, session.number) == (9, 1)
    with bot.engine.connect() as conn:
        assert conn.execute(select(db.pull_requests.c.number)).scalars().all() == [9]


def test_a_branch_look_up_never_takes_a_pull_request_whose_head_is_another_repository(bot, fake_github):
    # GitHub's `head=owner:ref` filter names the owner, not the repository: a fork the same owner
    # keeps under another name answers it too.
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    t0 = float(int(time.time()) - 600)
    run = fake_github.add_run(REPO, 4242, status="in_progress", conclusion=None, head_branch="copilot/fix-42",
                              created_at=t0)
    hooks.from_fork(fake_github, fake_github.add_pull(REPO, 8, head_branch="copilot/fix-42", created_at=t0 - 60),
                    "octo-org", "app-copy")
    bot.start_web()

    settle(bot, [("workflow_run", hooks.workflow_run("in_progress", fake_github, run, INSTALLATION))])

    assert fake_github.calls("GET", f"/repos/{REPO}/pulls"), "the branch was looked up"
    [session] = sessions_in(bot)
    assert session.pr_number is None
    assert bot.count(db.pull_requests) == 0


def test_a_session_on_a_persons_own_pull_request_joins_it_by_its_branch(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    t0 = float(int(time.time()) - 600)
    mine = fake_github.add_pull(REPO, 12, author="monalisa", head_branch="feature/login", title="Login form",
                                draft=False, assignees=[], created_at=t0 - 3600)
    run = fake_github.add_run(REPO, 4343, status="in_progress", conclusion=None, head_branch="feature/login",
                              created_at=t0, triggering_actor="monalisa")  # no pull_requests either
    bot.start_web()

    settle(bot, [("pull_request", hooks.pull_request("opened", fake_github, mine, INSTALLATION)),
                 ("workflow_run", hooks.workflow_run("in_progress", fake_github, run, INSTALLATION))])

    [session] = sessions_in(bot)
    assert (session.pr_number, session.number, session.starter) == (12, 1, "monalisa")
    with bot.engine.connect() as conn:
        pr = conn.execute(select(db.pull_requests)).one()
    assert (pr.number, pr.author, pr.head_branch) == (12, "monalisa", "feature/login")


def test_a_code_review_in_the_timeline_is_neither_a_sessions_start_nor_its_end(bot, fake_github):
    deliveries, t0 = a_copilot_pull_request_at_work(fake_github)
    # hubot asks Copilot for a review while the session works: no agent run starts near it.
    fake_github.add_timeline_event(REPO, 7, "copilot_work_started", actor="hubot", created_at=t0 + 150)
    fake_github.add_timeline_event(REPO, 7, "copilot_work_finished_failure", actor="Copilot", created_at=t0 + 200)
    fake_github.actions.timelines[(REPO, 7)].sort(key=lambda e: e["created_at"])
    bot.start_web()

    settle(bot, deliveries)

    [session] = sessions_in(bot)
    assert (session.starter, session.starter_source, session.timeline_outcome) == ("monalisa", "timeline", "finished")
