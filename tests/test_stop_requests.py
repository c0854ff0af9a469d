"""Stops asked on the Agents page (bot/commands/stop_requests.py), in process against the fake GitHub:
the same rule as `/session stop`, one cancel however often the button is pressed, a GitHub outage
retried, and the stop shown in the pull request's status comment."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot import db
from bot.commands import stop_requests
from bot.handlers import status_comment
from bot.handlers.status_comment import MARKER
from tests import sessions_payloads as hooks
from tests.harness.inprocess import InProcessBot

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151
CANCEL = f"/repos/{REPO}/actions/runs/{RUN}/cancel"


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url)
    yield bot
    bot.dispose()


@pytest.fixture
def session(bot):
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    return bot.session_row(RUN)


def stops(bot) -> list[tuple]:
    with bot.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(db.session_stops.c.stopped_by, db.session_stops.c.via,
                                                      db.session_stops.c.command_run_id, db.session_stops.c.outcome))]


def test_a_writer_stops_from_the_page_once_however_often_they_press(bot, fake_github, session):
    fake_github.permissions[(REPO, "hubot")] = "write"
    first = stop_requests.request_stop(bot.runtime, session, login="hubot")
    again = stop_requests.request_stop(bot.runtime, session, login="hubot")
    assert again == first and first.outcome == "sending"
    bot.drain()
    assert len(fake_github.calls("POST", CANCEL)) == 1
    assert stops(bot) == [("hubot", "page", None, "cancelled")], "the verify job found the run cancelled"


def test_the_operator_may_stop_without_a_github_login(bot, fake_github, session):
    stop_requests.request_stop(bot.runtime, session, login=None)
    bot.drain()
    assert stops(bot) == [("operator", "page", None, "cancelled")]
    assert not fake_github.calls("GET", f"/repos/{REPO}/collaborators/*"), "no role to ask for the operator"


@pytest.mark.parametrize("role", ["read", "triage", "none"])
def test_someone_without_write_access_who_did_not_start_it_is_refused_with_who_may(bot, fake_github, session, role):
    if role != "none":
        fake_github.permissions[(REPO, "mallory")] = role
    assert not stop_requests.may_stop(bot.runtime, session, "mallory")
    with pytest.raises(stop_requests.StopRefused, match="Only people with write access, or who started"):
        stop_requests.request_stop(bot.runtime, session, login="mallory")
    bot.drain()
    assert stops(bot) == [] and not fake_github.calls("POST", CANCEL)


def test_the_starter_may_stop_their_own_session(bot, fake_github, session):
    fake_github.permissions[(REPO, "monalisa")] = "read"  # private repository: reading is enough
    assert session.starter == "monalisa"
    assert stop_requests.may_stop(bot.runtime, session, "monalisa")


def test_a_finished_session_cannot_be_stopped(bot, fake_github, session):
    finished = SimpleNamespace(**{**session._mapping, "state": "completed"})
    with pytest.raises(stop_requests.AlreadyFinished, match="already finished: completed"):
        stop_requests.request_stop(bot.runtime, finished, login=None)


def test_a_github_outage_delays_the_cancel_and_never_doubles_it(bot, fake_github, session):
    fake_github.fail("POST", CANCEL, status=502, times=1)
    bot.runtime.queue.retry_base = 60  # the retry waits for the clock to move, however slow this drain is
    stop_requests.request_stop(bot.runtime, session, login=None)
    bot.drain()
    assert stops(bot)[0][-1] == "sending", "GitHub answered 502: the stop waits for its retry"
    bot.runtime.queue.clock = lambda: time.time() + 3 * 86_400  # the retry's backoff has passed
    bot.drain()
    assert stops(bot)[0][-1] == "cancelled"
    cancels = fake_github.calls("POST", CANCEL)
    assert [c.status for c in cancels] == [502, 202]


def test_the_status_comment_says_who_stopped_it_on_the_page(bot, fake_github, session):
    fake_github.permissions[(REPO, "hubot")] = "admin"
    stop_requests.request_stop(bot.runtime, session, login="hubot")
    bot.drain()
    run = fake_github.actions.runs[REPO][RUN]
    assert run["conclusion"] == "cancelled"
    bot.settle([("workflow_run", hooks.workflow_run("completed", fake_github, run, INSTALLATION))])
    status_comment.request(bot.runtime, installation_id=INSTALLATION, repository_id=session.repository_id,
                           repository=REPO, pr_number=PR)
    bot.drain()
    [status] = [c for c in fake_github.comments_on(REPO, PR) if c["body"].startswith(MARKER)]
    assert "cancelled · stopped by hubot (Agents page)" in status["body"]
