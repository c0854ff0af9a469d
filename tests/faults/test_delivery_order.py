"""Deliveries as GitHub really sends them: the same one twice, one redelivered under a new id
while the first is still being handled, and stale ones arriving after newer news."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.handlers.status_comment import MARKER as STATUS_MARKER
from tests import sessions_payloads as hooks
from tests.copilot_pr import INSTALLATION, PR, REPO, RUN, comment, comment_payload, open_session, replies, settle
from tests.faults.conftest import cancels, job_states

pytestmark = pytest.mark.slow


def test_one_command_delivered_three_times_at_once_is_carried_out_once(bot, fake_github):
    """Twice under one delivery id (a client retry) and once under a new id (GitHub's redelivery)."""
    fake_github.permissions[(REPO, "hubot")] = "write"
    open_session(bot, fake_github)
    made, payload = comment_payload(fake_github, "/session stop")

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda guid: bot.deliver("issue_comment", payload, delivery=guid),
                                ["first", "first", "redelivered"]))

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert sorted(a.json().get("duplicate", False) for a in answers) == [False, False, True]
    bot.wait_until(lambda: replies(fake_github, made) and bot.jobs_settled(), what="the command")
    assert len(cancels(fake_github)) == 1 and len(replies(fake_github, made)) == 1
    assert [r["content"] for r in fake_github.reactions[made["id"]]] == ["eyes"]
    assert job_states(bot) == {"done"}


def test_a_stale_in_progress_arriving_after_completed_changes_nothing(bot, fake_github):
    run = open_session(bot, fake_github)
    finished = hooks.run_at(run, "completed", conclusion="success", at=time.time())
    fake_github.actions.runs[REPO][RUN].update(finished)
    settle(bot, [("workflow_run", hooks.workflow_run("completed", fake_github, finished, INSTALLATION))])
    bot.wait_until(lambda: "✅ completed" in _status(fake_github), what="the status comment")

    settle(bot, [("workflow_run", hooks.workflow_run("in_progress", fake_github, run, INSTALLATION))])  # late

    made, _ = comment(bot, fake_github, "/session list")
    [reply] = replies(fake_github, made)
    assert "✅ completed" in reply["body"] and "running" not in reply["body"]
    time.sleep(1)  # longer than STATUS_COMMENT_INTERVAL_SECONDS: an edit would have happened by now
    assert "✅ completed" in _status(fake_github)
    assert job_states(bot) == {"done"}


def _status(fake) -> str:
    found = [c["body"] for c in fake.comments_on(REPO, PR) if c["body"].startswith(STATUS_MARKER)]
    return found[0] if found else ""
