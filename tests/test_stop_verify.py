"""A stop with a reason, and the check that it stopped (bot/commands/stop_checks.py), in process
against the fake GitHub: the reason kept and shown (reply, status comment, `/session list`, the
page), and each outcome of the check after the grace period, said once on the pull request."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from bot import db
from bot.commands import stop_requests
from bot.handlers.status_comment import MARKER
from bot.inert import one_line, table_cell
from bot.notices import marker as notice_marker
from tests import sessions_payloads as hooks
from tests.copilot_pr import comment_payload, replies
from tests.harness.inprocess import InProcessBot
from tests.html_page import Page
from tests.markdown_oracle import live

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151
RUN_PATH = f"/repos/{REPO}/actions/runs/{RUN}"
TIMELINE = f"/repos/{REPO}/issues/{PR}/timeline"
NOTICE = notice_marker(RUN, "stop_unconfirmed")
TOKEN = "admin-" + "t" * 32
DAY = 86_400
# Outside text at its worst: HTML, a mention, a reference, links, an image, a secret.
HOSTILE = ("<img src=x onerror=alert(1)> @evil #123 [click](https://evil.example) ![p](https://evil.example/p.png) "
           "https://github.com/o/r/issues/1 ghp_" + "s" * 36)


@pytest.fixture
def bot(fake_github, app_key, database_url):
    # The checks wait for the test to move the queue's clock past them (`later`): InProcessBot's is a day ahead.
    bot = InProcessBot(fake_github, app_key, database_url, stop_grace_period=2 * DAY, stop_confirm_period=3 * DAY,
                       admin_token=TOKEN)
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    fake_github.permissions[(REPO, "hubot")] = "write"
    yield bot
    bot.dispose()


def copilot_started(bot, fake) -> None:
    """Copilot said on the pull request's timeline that it started the session (as GitHub shows)."""
    fake.add_timeline_event(REPO, PR, "copilot_work_started", actor="monalisa",
                            created_at=bot.session_row(RUN).created_at + 2)


def stop_by_comment(bot, fake, line: str) -> dict:
    """hubot comments `line`; the command is answered (the check after the grace period is not due yet)."""
    made, payload = comment_payload(fake, line)
    bot.settle([("issue_comment", payload)])
    return made


def run_completed(bot, fake) -> None:
    """GitHub's `workflow_run` webhook says the run completed (as the fake has it now)."""
    bot.settle([("workflow_run", hooks.workflow_run("completed", fake, fake.actions.runs[REPO][RUN], INSTALLATION))])


def later(bot) -> None:
    """The grace period (and STOP_CONFIRM_SECONDS after it) has passed: the checks run."""
    bot.runtime.queue.clock = lambda: time.time() + 10 * DAY
    bot.drain()


def the_stop(bot):
    with bot.engine.connect() as conn:
        return conn.execute(select(db.session_stops).order_by(db.session_stops.c.id.desc())).first()


def notices(fake) -> list[dict]:
    return [c for c in fake.comments_on(REPO, PR) if c["body"].startswith(NOTICE)]


def status_comment(fake) -> str:
    [status] = [c for c in fake.comments_on(REPO, PR) if c["body"].startswith(MARKER)]
    return status["body"]


def session_page(bot) -> Page:
    response = bot.app.test_client().get(f"/sessions/{bot.session_row(RUN).id}",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return Page(response.get_data(as_text=True))


# -- the reason ------------------------------------------------------------------------------------

def test_a_reason_given_in_a_comment_is_kept_and_shown_everywhere(bot, fake_github):
    copilot_started(bot, fake_github)
    made = stop_by_comment(bot, fake_github, "/session stop 1 wrong direction:   the tests, not the docs")
    run_completed(bot, fake_github)
    later(bot)

    stop = the_stop(bot)
    assert (stop.stopped_by, stop.via, stop.outcome, stop.reason) == (
        "hubot", "comment", "cancelled", "wrong direction: the tests, not the docs")
    reason = stop.reason
    [reply] = replies(fake_github, made)
    assert "session 1: cancel requested" in reply["body"]
    assert f"reason: “{one_line(reason, 300)}”" in reply["body"]  # escaped like all outside text
    assert f"🚫 cancelled · stopped by hubot: “{table_cell(reason, 140)}”" in status_comment(fake_github)
    listed, payload = comment_payload(fake_github, "/session list")
    bot.settle([("issue_comment", payload)])
    [answer] = replies(fake_github, listed)
    assert f"| 1 | 🚫 cancelled · stopped by hubot: “{table_cell(reason, 140)}”" in answer["body"]
    assert "reason: “wrong direction: the tests, not the docs”" in session_page(bot).all_text


def test_without_a_number_the_words_are_the_reason_for_the_latest_running_session(bot, fake_github):
    stop_by_comment(bot, fake_github, "/session stop no longer needed")
    assert (the_stop(bot).run_id, the_stop(bot).reason) == (RUN, "no longer needed")
    assert len(fake_github.calls("POST", f"{RUN_PATH}/cancel")) == 1


def test_a_number_that_names_no_session_stops_nothing(bot, fake_github):
    made = stop_by_comment(bot, fake_github, "/session stop 0 wrong direction")
    assert the_stop(bot) is None and not fake_github.calls("POST", f"{RUN_PATH}/cancel")
    [reply] = replies(fake_github, made)
    assert "I did not understand that: `stop` takes a session number or `all`, and a reason." in reply["body"]


def test_a_reason_given_on_the_page_is_kept_and_shown(bot, fake_github):
    fake_github.permissions[(REPO, "mona")] = "admin"
    copilot_started(bot, fake_github)
    stop_requests.request_stop(bot.runtime, bot.session_row(RUN), login="mona",
                               reason=stop_requests.reason_from("no longer needed", "merged #12 instead"))
    bot.drain()
    run_completed(bot, fake_github)
    later(bot)
    assert (the_stop(bot).outcome, the_stop(bot).reason) == ("cancelled", "no longer needed: merged #12 instead")
    shown = table_cell("no longer needed: merged #12 instead", 140)  # inert: `#12` references nothing
    assert f"🚫 cancelled · stopped by mona (Agents page): “{shown}”" in status_comment(fake_github)
    assert "reason: “no longer needed: merged #12 instead”" in session_page(bot).all_text


def test_hostile_reason_text_is_inert_in_every_comment_and_escaped_on_the_page(bot, fake_github):
    fake_github.permissions[(REPO, "hubot")] = "admin"
    made = stop_by_comment(bot, fake_github, f"/session stop 1 {HOSTILE}")
    fake_github.delete_run(REPO, RUN)  # the run goes: the notice quotes the reason too
    later(bot)

    assert the_stop(bot).outcome == "run_gone" and "ghp_" not in the_stop(bot).reason
    [reply] = replies(fake_github, made)
    bodies = [reply["body"], status_comment(fake_github), notices(fake_github)[0]["body"]]
    assert "stopped (its run is gone) by hubot: “" in bodies[1]  # the reason's start: a table cell shows 140 characters
    for body in bodies:
        assert "ghp_" not in body and ("redacted" in body or body is bodies[1])
        found = live(body.split("\n", 1)[1])  # after the bot's hidden marker
        assert not found.images and not found.references and not found.elements, body
        assert found.mentions in ([], ["@h"]), body  # the oracle keeps a mention's first character: @hubot
        assert all(link.startswith(f"https://github.com/{REPO}/actions/runs/{RUN}") for link in found.links), body
    page = session_page(bot)
    assert not page.find("img") and not page.find("a", href="https://evil.example")
    assert "<img src=x onerror=alert(1)> @evil #123 [click](https://evil.example)" in page.all_text


# -- making sure it stopped -----------------------------------------------------------------------

def test_a_cancel_github_confirmed_costs_no_call_for_the_run_once_the_webhook_came(bot, fake_github):
    copilot_started(bot, fake_github)
    stop_by_comment(bot, fake_github, "/session stop")
    run_completed(bot, fake_github)  # the run completed, and its timeline read found Copilot's finish
    assert bot.session_row(RUN).timeline_outcome == "finished"
    calls = len(fake_github.requests)
    later(bot)
    assert the_stop(bot).outcome == "cancelled"
    assert [(r.method, r.template) for r in fake_github.requests[calls:]] == [
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")], "the status comment now says stopped; " \
        "neither the run nor the timeline was asked for again"
    assert not fake_github.calls("GET", RUN_PATH) and not notices(fake_github)


def test_without_the_webhook_the_check_asks_for_the_run_and_reads_the_timeline(bot, fake_github):
    copilot_started(bot, fake_github)
    stop_by_comment(bot, fake_github, "/session stop")
    later(bot)
    assert the_stop(bot).outcome == "cancelled" and len(fake_github.calls("GET", RUN_PATH)) == 1
    assert bot.session_row(RUN).timeline_outcome == "finished" and not notices(fake_github)


def test_a_run_still_going_after_the_grace_period_is_force_cancelled(bot, fake_github):
    fake_github.cancel_takes_effect = False
    stop_by_comment(bot, fake_github, "/session stop")
    later(bot)
    assert the_stop(bot).outcome == "force_cancelled"
    assert len(fake_github.calls("POST", f"{RUN_PATH}/force-cancel")) == 1 and not notices(fake_github)


def test_a_run_gone_after_the_cancel_is_said_once_on_the_pull_request_and_the_page(bot, fake_github):
    stop_by_comment(bot, fake_github, "/session stop 1 no longer needed")
    fake_github.delete_run(REPO, RUN)
    later(bot)

    assert the_stop(bot).outcome == "run_gone"
    [notice] = notices(fake_github)
    assert notice["body"].startswith(f"{NOTICE}\n@hubot session 1 was stopped by you (reason: “no longer needed”).")
    assert "GitHub no longer has this session's Actions run" in notice["body"]
    assert "Nothing more runs on Actions" in notice["body"] and "report it to GitHub Support" in notice["body"]
    assert "🟢 running** · stopped (its run is gone) by hubot: “no longer needed”" in status_comment(fake_github)
    page = session_page(bot)
    assert page.one("div", id="stop-advice") and "nothing left to cancel" in page.all_text
    assert page.one("li", data_kind="stop")["data-outcome"] == "run_gone"

    # The check runs again (a job taken twice), and the Stop button is pressed again: still one notice.
    stop_id = the_stop(bot).id
    with bot.engine.begin() as conn:
        bot.runtime.queue.enqueue(conn, "stop.verify", {"stop": stop_id})
    stop_requests.request_stop(bot.runtime, bot.session_row(RUN), login=None, reason="still shown as running")
    later(bot)
    assert the_stop(bot).outcome == "run_gone" and the_stop(bot).stopped_by == "operator"
    assert len(notices(fake_github)) == 1


def test_a_run_gone_before_the_cancel_is_said_in_the_reply_and_once_in_a_notice(bot, fake_github):
    fake_github.delete_run(REPO, RUN)
    made = stop_by_comment(bot, fake_github, "/session stop")
    [reply] = replies(fake_github, made)
    assert "session 1: GitHub no longer has its run (it answers 404)" in reply["body"]
    assert the_stop(bot).outcome == "run_gone" and len(notices(fake_github)) == 1
    assert not fake_github.calls("POST", f"{RUN_PATH}/force-cancel")


def test_a_run_that_completed_while_copilot_never_said_it_finished_is_said_once(bot, fake_github):
    fake_github.cancel_finishes_work = False
    copilot_started(bot, fake_github)
    fake_github.permissions[(REPO, "mona")] = "admin"
    stop_requests.request_stop(bot.runtime, bot.session_row(RUN), login="mona", reason="wrong direction")
    bot.drain()
    run_completed(bot, fake_github)
    timeline_reads = len(fake_github.calls("GET", TIMELINE))
    later(bot)

    assert the_stop(bot).outcome == "unconfirmed"
    assert not fake_github.calls("GET", RUN_PATH), "the webhook said the run completed"
    assert len(fake_github.calls("GET", TIMELINE)) == timeline_reads + 2, "a look, and a last one after the wait"
    [notice] = notices(fake_github)
    assert notice["body"].startswith(f"{NOTICE}\n@mona session 1 was stopped by you (reason: “wrong direction”).")
    assert "GitHub has not confirmed that this session ended." in notice["body"]
    assert "Its Actions run is over, so nothing more runs on Actions for it" in notice["body"]
    assert "🚫 cancelled · stopped (GitHub did not confirm) by mona (Agents page): “wrong direction”" in (
        status_comment(fake_github))
    assert "GitHub has not confirmed that this session ended." in session_page(bot).all_text

    stop_id = the_stop(bot).id
    with bot.engine.begin() as conn:  # checked again from the start: the notice is not repeated
        conn.execute(update(db.session_stops).values(outcome="cancel_requested"))
        bot.runtime.queue.enqueue(conn, "stop.verify", {"stop": stop_id, "last": True})
    later(bot)
    assert the_stop(bot).outcome == "unconfirmed" and len(notices(fake_github)) == 1


def test_copilots_finish_arriving_during_the_wait_confirms_the_stop(bot, fake_github):
    fake_github.cancel_finishes_work = False
    copilot_started(bot, fake_github)
    stop_by_comment(bot, fake_github, "/session stop")
    run_completed(bot, fake_github)
    bot.runtime.queue.clock = lambda: time.time() + 2 * DAY + 60  # the first look only
    bot.drain()
    assert the_stop(bot).outcome == "cancel_requested", "waiting STOP_CONFIRM_SECONDS for Copilot's finish"
    fake_github.add_timeline_event(REPO, PR, "copilot_work_finished", actor="Copilot")
    later(bot)
    assert the_stop(bot).outcome == "cancelled" and not notices(fake_github)


def test_the_operator_or_the_bot_is_never_mentioned_the_starter_is(bot, fake_github):
    stop_requests.request_stop(bot.runtime, bot.session_row(RUN), login=None)
    bot.drain()
    fake_github.delete_run(REPO, RUN)
    later(bot)
    [notice] = notices(fake_github)
    assert notice["body"].startswith(f"{NOTICE}\n@monalisa session 1 was stopped by the operator.")
    assert live(notice["body"]).mentions == ["@m"]
