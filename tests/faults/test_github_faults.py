"""GitHub failing in every way it does, at the worst moment of a `/session stop`: the run is
cancelled once, the command answered once, and every job ends `done`."""

from __future__ import annotations

import re

import pytest

from tests.copilot_pr import PR, REPO, RUN, comment, open_session, replies
from tests.faults.conftest import cancels, job_states
from bot.handlers.status_comment import MARKER as STATUS_MARKER

pytestmark = pytest.mark.slow

SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
             "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}
FAULTS = {
    "500": dict(status=500),
    "502": dict(status=502),
    "503": dict(status=503),
    "connection reset": dict(mode="reset"),
    "timeout after acting": dict(mode="timeout", delay=1.5),
    "secondary limit 403": dict(status=403, headers={"Retry-After": "1"}, body=SECONDARY),
    "secondary limit 429": dict(status=429, headers={"Retry-After": "1"}, body=SECONDARY),
}
WHERE = {
    "cancel": ("POST", f"/repos/{REPO}/actions/runs/{RUN}/cancel"),
    "comment": ("POST", f"/repos/{REPO}/issues/{PR}/comments"),  # the reply or the status comment
    "permission": ("GET", f"/repos/{REPO}/collaborators/*/permission"),
}


@pytest.fixture
def stopping(bot, fake_github):
    """The session is running and hubot may stop it; the client gives up reading after 1 s."""
    fake_github.permissions[(REPO, "hubot")] = "write"
    return open_session(bot, fake_github, GITHUB_READ_TIMEOUT_SECONDS=1)


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
@pytest.mark.parametrize("where", WHERE.values(), ids=WHERE.keys())
def test_a_stop_is_carried_out_once_whatever_github_answers(bot, fake_github, stopping, where, fault):
    method, path = where
    fake_github.fail(method, path, times=2, **fault)

    made, _ = comment(bot, fake_github, "/session stop")

    bot.wait_until(lambda: replies(fake_github, made) and bot.jobs_settled(), what="the reply")
    assert len(cancels(fake_github)) == 1
    assert fake_github.actions.runs[REPO][RUN]["conclusion"] == "cancelled"
    [reply] = replies(fake_github, made)
    # After an ambiguous cancel, the retry finds the run cancelled: that was this command's doing.
    assert re.search(r"session 1: (cancel requested|cancelled\.)", reply["body"]), reply["body"]
    assert len(_status_comments(fake_github)) <= 1
    assert job_states(bot) == {"done"}


def test_an_exhausted_rate_limit_defers_the_command_until_the_reset(bot, fake_github, stopping):
    fake_github.rate_limit_remaining = 0
    reset = fake_github.rate_limit_reset = int(fake_github.now()) + 2

    made, _ = comment(bot, fake_github, "/session stop")

    bot.wait_until(lambda: replies(fake_github, made) and bot.jobs_settled(), what="the reply")
    refused = [c for c in fake_github.calls() if c.status == 403]
    assert refused, "the limit was never hit"
    first_success = min(c.at for c in fake_github.calls("POST", "*/cancel") if c.status == 202)
    assert first_success >= reset  # nothing acted before the window reopened
    assert len(cancels(fake_github)) == 1 and len(replies(fake_github, made)) == 1
    assert job_states(bot) == {"done"}


@pytest.mark.parametrize("offset", [-120, 900], ids=["github behind by 2 min", "github ahead by 15 min"])
def test_a_clock_github_disagrees_with_is_adopted_after_one_refusal(bot, fake_github, offset):
    """GitHub refuses a JWT issued in its future or expired by its clock; the bot reads GitHub's
    Date, signs a new one on GitHub's time and carries on."""
    fake_github.clock_offset = offset
    fake_github.permissions[(REPO, "hubot")] = "write"
    with fake_github.expect_auth_failures():
        open_session(bot, fake_github)
        made, _ = comment(bot, fake_github, "/session stop")

    assert len(cancels(fake_github)) == 1 and len(replies(fake_github, made)) == 1
    refusals = [c for c in fake_github.calls() if c.status == 401]
    assert refusals and all(c.auth_kind == "jwt" for c in refusals)
    assert len(refusals) <= 2  # once per gunicorn worker process, not once per call
    assert job_states(bot) == {"done"}


def _status_comments(fake) -> list[dict]:
    return [c for c in fake.comments_on(REPO, PR) if c["body"].startswith(STATUS_MARKER)]


def test_the_happy_path_spends_no_call_on_recovery(bot, fake_github, stopping):
    """Markers and run-state checks are for retries only: a first try looks nothing up."""
    before = len(fake_github.calls())

    made, _ = comment(bot, fake_github, "/session stop")

    calls = fake_github.calls()[before:]
    [reply] = replies(fake_github, made)
    answered = next(i for i, c in enumerate(calls) if (c.json or {}).get("body") == reply["body"])
    looked_up = {c.path for c in calls[:answered] if c.method == "GET"}
    assert f"/repos/{REPO}/issues/{PR}/comments" not in looked_up  # no search for an earlier reply
    assert f"/repos/{REPO}/actions/runs/{RUN}" not in looked_up  # no check of the run before cancelling
    assert f"/repos/{REPO}/collaborators/hubot/permission" in looked_up
