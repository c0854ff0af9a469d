"""Notices (bot/notices.py), in process against the fake GitHub: a comment that mentions a person
once about one session, however often it is asked for, and once even when GitHub's answer is lost."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot import db, notices
from tests.harness.inprocess import InProcessBot

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151
COMMENTS = f"/repos/{REPO}/issues/{PR}/comments"


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url, github_read_timeout=0.5, job_retry_base=30)
    yield bot
    bot.dispose()


@pytest.fixture
def session(bot):
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    return bot.session_row(RUN)


def notify(bot, session, kind="stuck", body="@hubot session 1 has been running for 61 minutes.") -> bool:
    with bot.engine.begin() as conn:
        return notices.notify(conn, bot.runtime.queue, session, kind=kind, body=body)


def notice_comments(fake_github, kind="stuck") -> list[dict]:
    return [c for c in fake_github.comments_on(REPO, PR) if c["body"].startswith(notices.marker(RUN, kind))]


def test_a_notice_is_posted_once_however_often_it_is_asked_for(bot, fake_github, session):
    assert notify(bot, session) is True
    assert notify(bot, session) is False, "the same session and kind: already on record"
    bot.drain()
    assert notify(bot, session) is False, "and after it was posted"
    bot.drain()
    [posted] = notice_comments(fake_github)
    assert posted["body"].endswith("@hubot session 1 has been running for 61 minutes.")
    with bot.engine.connect() as conn:
        assert conn.execute(select(db.session_notices.c.comment_id)).scalar_one() == posted["id"]


def test_each_kind_is_its_own_notice(bot, fake_github, session):
    assert notify(bot, session, kind="stuck") and notify(bot, session, kind="finished", body="@hubot done.")
    bot.drain()
    assert len(notice_comments(fake_github, "stuck")) == 1 and len(notice_comments(fake_github, "finished")) == 1


def test_a_post_whose_answer_was_lost_is_found_again_not_doubled(bot, fake_github, session):
    # GitHub creates the comment but answers after the client stopped waiting: an ambiguous failure.
    fake_github.fail("POST", COMMENTS, mode="timeout", delay=1.5, times=1)
    bot.runtime.queue.clock = time.time  # so the retry waits for its backoff, not run in the same drain
    notify(bot, session)
    assert [state for _kind, state, _error in bot.drain()] == ["queued"], "failed once, to be retried"
    time.sleep(1.5)  # the fake finishes creating the comment the client gave up on
    bot.runtime.queue.clock = lambda: time.time() + 3 * 86_400  # the retry's backoff has passed
    bot.drain()
    assert len(notice_comments(fake_github)) == 1
    posts = [c for c in fake_github.calls("POST", COMMENTS) if notices.marker(RUN, "stuck").encode() in c.body]
    assert len(posts) == 1, "the retry looked for the marker and found it"


def test_an_unknown_kind_is_a_programming_error(bot, session):
    with pytest.raises(ValueError):
        notify(bot, session, kind="nudge")
