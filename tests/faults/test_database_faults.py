"""PostgreSQL dropping the bot's connection at the worst moments (a failover, an idle timeout, an
operator's pg_terminate_backend), made deterministic with the bot's fault points."""

from __future__ import annotations

import pytest

from bot import db
from tests.copilot_pr import REPO, comment_payload, open_session, replies
from tests.faults.conftest import cancels, job_states
from tests.fakegithub import payloads

pytestmark = pytest.mark.slow


def _stored(bot, guid: str) -> tuple[int, int]:
    """(deliveries, jobs) stored for this delivery id."""
    with bot.engine.connect() as conn:
        ids = conn.execute(db.deliveries.select().where(db.deliveries.c.guid == guid)).all()
        jobs = conn.execute(db.jobs.select().where(db.jobs.c.delivery_id.in_([d.id for d in ids]))).all()
    return len(ids), len(jobs)


def _deliver(bot, guid: str):
    """A delivery that needs a job (a pull request's), so the intake writes both rows."""
    return bot.deliver("pull_request", payloads.with_installation(payloads.example("pull_request", "opened"), 1),
                       delivery=guid)


def test_a_connection_dropped_during_intake_is_retried_once_and_the_delivery_stored_once(pg_bot, faults):
    pg_bot.start_web(BOT_INLINE_WORKERS=0)
    faults.arm("outbox.write", "kill_connection")

    response = _deliver(pg_bot, "dropped-once")

    assert faults.pending() == []  # the fault fired
    assert response.status_code == 202
    assert _stored(pg_bot, "dropped-once") == (1, 1)


def test_a_database_that_keeps_dropping_the_write_gets_503_and_nothing_is_half_stored(pg_bot, faults):
    pg_bot.start_web(BOT_INLINE_WORKERS=0)
    faults.arm("outbox.write", "kill_connection", times=2)

    refused = _deliver(pg_bot, "dropped-twice")

    assert faults.pending() == []
    assert refused.status_code == 503
    assert _stored(pg_bot, "dropped-twice") == (0, 0)
    # GitHub's redelivery of the same id then goes through, once.
    assert _deliver(pg_bot, "dropped-twice").status_code == 202
    assert _stored(pg_bot, "dropped-twice") == (1, 1)


def test_a_connection_dropped_while_a_job_records_its_outcome_reruns_it_without_doubling(pg_bot, fake_github, faults):
    fake_github.permissions[(REPO, "hubot")] = "write"
    open_session(pg_bot, fake_github)
    made, payload = comment_payload(fake_github, "/session stop")
    faults.arm("job.complete:command", "kill_connection")

    assert pg_bot.deliver("issue_comment", payload).status_code == 202

    pg_bot.wait_until(lambda: faults.pending() == [] and replies(fake_github, made) and pg_bot.jobs_settled(),
                      what="the command, rerun after its lease lapsed")
    assert len(cancels(fake_github)) == 1 and len(replies(fake_github, made)) == 1
    assert job_states(pg_bot) == {"done"}
