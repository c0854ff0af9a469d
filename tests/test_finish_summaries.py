"""The summary on finish (bot/handlers/finish_summaries.py), in process against the fake GitHub: a
session that ends in a repository that opted in has its log summary folded into the status comment,
its starter mentioned once, its log downloaded once (`/session log` included), and the status comment
stays under GitHub's 65,536 characters however many sessions the pull request has."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from bot import db, notices
from bot.handlers.status_comment import MARKER
from bot.sessions import model, store
from bot.web import listing
from bot.web.viewer import OPERATOR
from tests import agentlogs, sessions_payloads as hooks
from tests.copilot_pr import comment_payload
from tests.harness.inprocess import InProcessBot
from tests.markdown_oracle import live, render
from tests.test_status_text import worst_summary

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151
LOGS = f"/repos/{REPO}/actions/runs/*/logs"
OPT_IN = "summary_on_finish: true\n"


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url, public_url="https://bot.example.com", config_cache_ttl=0)
    yield bot
    bot.dispose()


def agent_log(final: str = "Fixed the parser; 3 tests pass.") -> bytes:
    log = agentlogs.AgentLog()
    agentlogs.opening(log)
    log.bash("pytest -q", "3 passed in 0.1s")
    log.final(final)
    log.pr_title("Fix the parser", "Fixes it.")
    return agentlogs.run_logs_zip(log.sink.getvalue())


def finish(bot, fake, run: dict, *, conclusion: str = "failure") -> list:
    """The run ends (its log published); the bot hears of it and runs every job."""
    fake.set_run_log(REPO, run["id"], agent_log())
    ended = hooks.run_at(run, "completed", conclusion=conclusion, at=time.time())
    fake.actions.runs[REPO.lower()][run["id"]].update(status="completed", conclusion=conclusion)
    return bot.settle([("workflow_run", hooks.workflow_run("completed", fake, ended, INSTALLATION))])


def status(fake) -> str:
    [found] = [c for c in fake.comments_on(REPO, PR) if c["body"].startswith(MARKER)]
    return found["body"]


def finished_notices(fake, run_id: int = RUN) -> list[str]:
    return [c["body"] for c in fake.comments_on(REPO, PR) if c["body"].startswith(notices.marker(run_id, "finished"))]


def ask(bot, fake, text: str) -> str:
    """`hubot` comments `text`; the bot's reply."""
    made, payload = comment_payload(fake, text)
    bot.settle([("issue_comment", payload)])
    [reply] = [c["body"] for c in fake.comments_on(REPO, PR) if c["body"].startswith(f"<!-- session-bot:reply {made['id']}:")]
    return reply


def test_a_finished_session_is_folded_into_the_status_comment_and_its_starter_mentioned_once(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    fake_github.set_file(REPO, ".github/session-bot.yml", OPT_IN)
    run = bot.open_session(INSTALLATION, REPO, PR, RUN)

    ran = finish(bot, fake_github, run)
    reply = ask(bot, fake_github, "/session log 1")

    body = status(fake_github)
    assert "<details><summary>Session 1: ❌ failed, " in body and "Fixed the parser\\; 3 tests pass\\." in body
    assert "<h3>Copilot session log</h3>" in render(body), "markdown inside the fold still renders"
    [notice] = finished_notices(fake_github)
    assert "\n@monalisa session 1 finished: failed, " in notice
    assert notice.endswith("Its log summary is in the status comment above.")
    assert live(notice).mentions == ["@m"], "one mention, live (the oracle sees its first character)"
    assert "Fixed the parser\\; 3 tests pass\\." in reply
    assert len(fake_github.calls("GET", LOGS)) == 1, "one download: the finish, then `/session log` read the kept one"
    assert ("summary.finish", "done") in ran
    # The notice points at a fold that was there already: the edit came first.
    writes = [c.body for c in fake_github.calls() if c.method in ("POST", "PATCH")]
    folded = next(i for i, sent in enumerate(writes) if b"<details><summary>Session 1: " in sent)
    mentioned = next(i for i, sent in enumerate(writes) if notices.marker(RUN, "finished").encode() in sent)
    assert folded < mentioned


def test_a_repository_that_did_not_opt_in_gets_no_summary_no_mention_and_no_download(bot, fake_github):
    run = bot.open_session(INSTALLATION, REPO, PR, RUN)

    finish(bot, fake_github, run, conclusion="success")

    assert "<details>" not in status(fake_github) and "| 1 | ✅ completed |" in status(fake_github)
    assert finished_notices(fake_github) == []
    assert fake_github.calls("GET", LOGS) == []


def test_the_mention_is_posted_once_however_often_the_status_comment_is_updated(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    fake_github.set_file(REPO, ".github/session-bot.yml", OPT_IN)
    run = bot.open_session(INSTALLATION, REPO, PR, RUN)
    ended = finish(bot, fake_github, run)
    assert ("summary.finish", "done") in ended

    pull = fake_github.actions.pulls[REPO.lower()][PR]
    completed = hooks.run_at(run, "completed", conclusion="failure", at=time.time())
    for turn in range(4):  # a redelivered completion, a push, the job's own news: each updates the status comment
        bot.settle([("workflow_run", hooks.workflow_run("completed", fake_github, completed, INSTALLATION)),
                    ("pull_request", hooks.pull_request("synchronize", fake_github, pull, INSTALLATION)),
                    ("workflow_job", hooks.workflow_job("completed", fake_github, completed, INSTALLATION,
                                                        job_id=700 + turn, conclusion="failure"))])

    assert len(finished_notices(fake_github)) == 1
    assert len(fake_github.calls("GET", LOGS)) == 1


def test_a_summary_that_runs_out_of_time_says_so_in_the_fold_once_and_is_not_tried_again(fake_github, app_key,
                                                                                         database_url):
    bot = InProcessBot(fake_github, app_key, database_url, log_summary_budget=0.01)
    try:
        fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
        fake_github.set_file(REPO, ".github/session-bot.yml", OPT_IN)
        run = bot.open_session(INSTALLATION, REPO, PR, RUN)

        ran = finish(bot, fake_github, run)
        reply = ask(bot, fake_github, "/session log")

        assert [state for kind, state in ran if kind == "summary.finish"] == ["done"], "answered, not retried"
        assert ("<details><summary>Session 1: ❌ failed, ") in status(fake_github)
        assert "The log of session 1 could not be summarised in time (within 0.01 s)" in status(fake_github)
        assert run["html_url"] in status(fake_github), "where to read the log instead"
        [notice] = finished_notices(fake_github)
        assert "could not be summarised; the status comment above says why" in notice
        assert "could not be summarised in time (within 0.01 s)" in reply
        assert len(fake_github.calls("GET", LOGS)) == 1, "a log that cannot be summarised is not downloaded again"
        page = listing.detail(bot.runtime, OPERATOR, bot.session_row(RUN).id)
        assert page.log_note.startswith("This session's log could not be summarised in time (within 0.01 s)")
    finally:
        bot.dispose()
    roomier = InProcessBot(fake_github, app_key, database_url, log_summary_budget=60)
    try:
        assert "Fixed the parser" in ask(roomier, fake_github, "/session log"), "a larger budget tries once more"
        assert len(fake_github.calls("GET", LOGS)) == 2
    finally:
        roomier.dispose()


def test_a_pull_request_with_many_sessions_and_big_summaries_stays_under_the_limit(bot, fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    run = bot.open_session(INSTALLATION, REPO, PR, RUN)
    finish(bot, fake_github, run, conclusion="success")  # session 1, before the repository opted in
    repository = fake_github.repositories[REPO.lower()]
    t0 = float(int(time.time()) - 86_400)
    for n in range(1, 300):  # 299 more, indexed as the index's handler does it (spares 299 timeline reads)
        older = fake_github.add_run(REPO, RUN + n, pull_requests=[PR], created_at=t0 + n * 60,
                                    run_started_at=t0 + n * 60, updated_at=t0 + n * 60 + 50,
                                    triggering_actor="monalisa")
        store.observe(bot.engine, installation_id=INSTALLATION, repository_id=repository["id"], repository=REPO,
                      run_id=older["id"], record=model.observe_run(older, bot.runtime.settings.copilot_logins))
    with bot.engine.begin() as conn:  # each of them summarised before, at the largest a summary can be
        kept = json.dumps(worst_summary().to_dict())
        for run_id in conn.execute(select(db.sessions.c.run_id)).scalars().all():
            conn.execute(db.session_summaries.insert().values(repository_id=repository["id"], run_id=run_id,
                                                              run_attempt=1, summary=kept, created_at=time.time()))
    fake_github.set_file(REPO, ".github/session-bot.yml", OPT_IN)
    newest = fake_github.add_run(REPO, RUN + 500, status="in_progress", conclusion=None, pull_requests=[PR],
                                 created_at=time.time() - 60, triggering_actor="monalisa")
    bot.settle([("workflow_run", hooks.workflow_run("in_progress", fake_github, newest, INSTALLATION))])

    ran = finish(bot, fake_github, newest)

    assert "dead" not in {state for _kind, state in ran} and bot.dead_errors() == []
    body = status(fake_github)
    assert len(body) <= 65_536
    assert "<details><summary>Session 301: ❌ failed" in body and "Fixed the parser" in body, "the newest, folded"
    assert "<details><summary>Session 300: ✅ completed" in body
    with bot.engine.connect() as conn:
        pages = dict(conn.execute(select(db.sessions.c.number, db.sessions.c.id)).all())
    assert f"- Session 1: ✅ completed" not in body and f"https://bot.example.com/sessions/{pages[1]})" not in body
    assert "earlier sessions: `/session log N` gives session N's." in body
    lines = [line for line in body.split("\n") if line.startswith("- Session ")]
    assert lines and all(f"[its page](https://bot.example.com/sessions/{pages[int(line.split()[2][:-1])]})" in line
                         for line in lines)
    assert "| 301 | ❌ failed |" in body and "earlier sessions not shown here: `/session list`" in body
    assert "| 1 | ✅ completed |" not in body
    html = render(body)
    assert html.count("<details") == html.count("</details>")
    assert live(body).mentions == [] and len(finished_notices(fake_github, RUN + 500)) == 1
    assert len(fake_github.calls("GET", LOGS)) == 1, "only the newest session's log: the others were kept"
    listed = ask(bot, fake_github, "/session list")
    assert len(listed) <= 65_536 and "| 301 | ❌ failed |" in listed
