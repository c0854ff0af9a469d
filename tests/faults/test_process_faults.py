"""The bot's own processes dying or restarting at the worst moments: a worker killed after GitHub
acted but before the job was marked done, a web process restarted with jobs queued, a SIGTERM in
the middle of a job."""

from __future__ import annotations

import signal

import pytest

from bot import db
from tests.copilot_pr import REPO, comment_payload, open_session, replies
from tests.faults.conftest import cancels, job_states

pytestmark = pytest.mark.slow


def _stop_delivered(bot, fake):
    made, payload = comment_payload(fake, "/session stop")
    assert bot.deliver("issue_comment", payload).status_code == 202
    return made


def test_a_web_worker_killed_after_acting_reruns_the_command_without_doubling_it(bot, fake_github, faults):
    """Inline workers: the gunicorn worker dies as if SIGKILLed; gunicorn starts another, which
    takes the job once its lease lapses and finds the cancel and the reply already done."""
    fake_github.permissions[(REPO, "hubot")] = "write"
    open_session(bot, fake_github)
    faults.arm("job.complete:command", "crash")

    made = _stop_delivered(bot, fake_github)

    bot.wait_until(lambda: faults.pending() == [] and replies(fake_github, made) and bot.jobs_settled(),
                   what="the command, rerun by a new gunicorn worker")
    assert len(cancels(fake_github)) == 1 and len(replies(fake_github, made)) == 1
    assert job_states(bot) == {"done"}
    assert "exited with code 137" in bot.web.text() or "was sent SIGKILL" in bot.web.text() \
        or "Worker (pid" in bot.web.text()


def test_a_separate_worker_killed_after_acting_leaves_the_job_to_the_next_one(pg_bot, fake_github, faults):
    fake_github.permissions[(REPO, "hubot")] = "write"
    first = pg_bot.start_worker()
    open_session(pg_bot, fake_github, BOT_INLINE_WORKERS=0)
    faults.arm("job.complete:command", "crash")

    made = _stop_delivered(pg_bot, fake_github)

    assert first.proc.wait(30) == 137
    assert len(cancels(fake_github)) == 1  # GitHub acted before the worker died…
    pg_bot.start_worker()
    pg_bot.wait_until(lambda: replies(fake_github, made) and pg_bot.jobs_settled(), what="the next worker")
    assert len(cancels(fake_github)) == 1 and len(replies(fake_github, made)) == 1  # …and only then
    assert job_states(pg_bot) == {"done"}


def test_jobs_queued_while_the_web_restarts_are_all_run_once(bot, fake_github):
    fake_github.permissions[(REPO, "hubot")] = "write"
    open_session(bot, fake_github)
    bot.web.stop()
    bot.start_web(BOT_INLINE_WORKERS=0)  # acknowledges, runs nothing
    made = [_stop_delivered(bot, fake_github)]
    for body in ("/session list", "/session help"):
        command, payload = comment_payload(fake_github, body)
        assert bot.deliver("issue_comment", payload).status_code == 202
        made.append(command)
    assert bot.count(db.jobs, db.jobs.c.kind == "delivery", db.jobs.c.state == "queued") == 3

    assert bot.web.stop() == 0
    bot.start_web()  # inline workers this time

    bot.wait_until(lambda: all(replies(fake_github, m) for m in made) and bot.jobs_settled(), what="the backlog")
    assert [len(replies(fake_github, m)) for m in made] == [1, 1, 1]
    assert len(cancels(fake_github)) == 1
    assert job_states(bot) == {"done"}


def test_sigterm_lets_a_worker_finish_the_job_it_is_running(pg_bot, fake_github):
    fake_github.permissions[(REPO, "hubot")] = "write"
    worker = pg_bot.start_worker()
    open_session(pg_bot, fake_github, BOT_INLINE_WORKERS=0)
    fake_github.fail("POST", f"/repos/{REPO}/actions/runs/*/cancel", mode="timeout", delay=2.0)  # a slow cancel

    made = _stop_delivered(pg_bot, fake_github)
    pg_bot.wait_until(lambda: fake_github.calls("POST", "*/cancel"), what="the job to be mid-cancel")
    assert worker.stop(signal.SIGTERM) == 0

    assert len(replies(fake_github, made)) == 1 and len(cancels(fake_github)) == 1
    assert "stopping: finishing or releasing running jobs" in worker.text()
    assert job_states(pg_bot, "command") == {"done"}
