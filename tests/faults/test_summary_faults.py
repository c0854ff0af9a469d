"""A session's log that cannot be summarised within LOG_SUMMARY_BUDGET_SECONDS, or whose summariser
dies: the child is killed, the command is answered once, and nothing is retried."""

from __future__ import annotations

import os
import re
import time

import pytest

from bot import db
from tests import agentlogs, sessions_payloads as hooks
from tests.copilot_pr import INSTALLATION, PR, REPO, RUN, comment, open_session, replies, settle
from tests.faults.conftest import job_states

pytestmark = pytest.mark.slow

BUDGET = 1


def _finish(bot, fake, run) -> None:
    log = agentlogs.AgentLog()
    agentlogs.session(log)
    fake.set_run_log(REPO, RUN, agentlogs.run_logs_zip(log.sink.getvalue()))
    finished = hooks.run_at(run, "completed", conclusion="success", at=time.time())
    settle(bot, [("workflow_run", hooks.workflow_run("completed", fake, finished, INSTALLATION))])


def _killed_pid(bot) -> int:
    return int(re.search(r"killed pid (\d+)", bot.web.text()).group(1))


def test_a_summary_past_its_budget_is_killed_and_answered_once(bot, fake_github, faults):
    run = open_session(bot, fake_github, LOG_SUMMARY_BUDGET_SECONDS=BUDGET)
    _finish(bot, fake_github, run)
    faults.arm("logs.summarise", "hang")

    started = time.monotonic()
    made, _ = comment(bot, fake_github, "/session log")
    took = time.monotonic() - started

    [reply] = replies(fake_github, made)
    assert f"the log of session 1 could not be summarised in time (within {BUDGET} s)" in reply["body"]
    assert run["html_url"] in reply["body"], "where to read the log instead"
    assert took < BUDGET + 4, took
    assert job_states(bot) == {"done"}, "answered, not retried"
    assert len(fake_github.calls("GET", f"/repos/{REPO}/actions/runs/{RUN}/logs")) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(_killed_pid(bot), 0)


def test_the_summary_posted_when_a_session_ends_says_once_that_it_ran_out_of_time(bot, fake_github, faults):
    run = open_session(bot, fake_github, LOG_SUMMARY_BUDGET_SECONDS=BUDGET)
    made, _ = comment(bot, fake_github, "/session log")
    faults.arm("logs.summarise", "hang")

    _finish(bot, fake_github, run)

    followups = [c for c in fake_github.comments_on(REPO, PR)
                 if c["body"].startswith(f"<!-- session-bot:reply {made['id']}:0:followup")]
    assert len(followups) == 1
    assert "session 1 has ended, but the log of session 1 could not be summarised in time" in followups[0]["body"]
    assert job_states(bot, "log.followup") == {"done"}
    with pytest.raises(ProcessLookupError):
        os.kill(_killed_pid(bot), 0)


def test_a_summariser_that_dies_is_answered_once(bot, fake_github, faults):
    run = open_session(bot, fake_github)
    _finish(bot, fake_github, run)
    faults.arm("logs.summarise", "crash")

    made, _ = comment(bot, fake_github, "/session log")

    [reply] = replies(fake_github, made)
    assert "the log of session 1 could not be summarised (the summariser stopped" in reply["body"]
    assert job_states(bot) == {"done"}
    assert bot.count(db.session_summaries) == 0
