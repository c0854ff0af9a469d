"""Floods change nothing: the per-person command limit holds however many deliveries race for it."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import func, select

from bot import db
from bot.handlers import comments
from bot.worker import run_job
from tests.copilot_pr import INSTALLATION, PR, REPO, RUN, comment_payload
from tests.harness.inprocess import InProcessBot


@pytest.fixture
def bot(fake_github, app_key, database_url):
    made = InProcessBot(fake_github, app_key, database_url)
    yield made
    made.dispose()


def test_two_comments_racing_cannot_pass_the_command_limit_together(bot, fake_github, monkeypatch):
    """Before: each intake counted the sender's recent commands, then inserted; two at once both
    counted 0, and 12 commands passed a limit of 10."""
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    limit = bot.runtime.settings.command_rate_limit
    for _ in range(2):
        _, payload = comment_payload(fake_github, "\n\n".join(["/session list"] * 6))
        assert bot.deliver("issue_comment", payload) == 202
    jobs = [bot.runtime.queue.claim("test") for _ in range(2)]
    counted = threading.Barrier(2, timeout=2)
    recent = comments._recent

    def count_then_wait(*args):
        found = recent(*args)
        try:
            counted.wait()  # both have counted before either inserts: the race, made certain
        except threading.BrokenBarrierError:
            pass  # the other intake waits for this one to commit first: no race to make
        return found

    monkeypatch.setattr(comments, "_recent", count_then_wait)
    threads = [threading.Thread(target=run_job, args=(bot.runtime, job)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    with bot.engine.connect() as conn:
        states = dict(conn.execute(select(db.command_runs.c.state, func.count())
                                   .group_by(db.command_runs.c.state)).all())
    assert states.get("pending", 0) == limit and states.get("limited", 0) == 1, states


def test_a_flood_of_commands_delays_its_sender_not_the_next_person(bot, fake_github):
    """Before: command jobs ran in the order they came, so a person's command waited behind every
    command of whoever flooded the pull request first (writes are paced per installation)."""
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    # Turns as the default pacing makes them (a write a second); this bot's client itself does not wait.
    bot.runtime.settings = dataclasses.replace(bot.runtime.settings, github_write_interval=1.0)
    for login in ("flooder", "flooder", "flooder", "alice"):
        _, payload = comment_payload(fake_github, "/session list\n\n/session help", login=login)
        assert bot.deliver("issue_comment", payload) == 202

    answered = []
    while (job := bot.runtime.queue.claim("test")) is not None:
        if job.kind == "command":
            with bot.engine.connect() as conn:
                answered.append(conn.execute(select(db.command_runs.c.sender_login).where(
                    db.command_runs.c.id == job.args["runs"][0])).scalar_one())
        run_job(bot.runtime, job)

    assert answered == ["flooder", "alice", "flooder", "flooder"]
