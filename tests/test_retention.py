"""Retention: done jobs, deliveries no job needs and unused cached answers go after RETENTION_DAYS;
dead and pending work stays."""

from __future__ import annotations

import json
import time

from sqlalchemy import insert, select

from bot import retention
from bot.db import deliveries, jobs, permission_cache, redelivery_requests, repo_config_cache

DAY = 86400.0
NOW = time.time()


def delivery(conn, guid: str, age_days: float) -> int:
    return conn.execute(insert(deliveries).values(
        guid=guid, event="issues", action="opened", received_at=NOW - age_days * DAY, body=b"{}",
        outcome="done").returning(deliveries.c.id)).scalar_one()


def job(conn, name: str, state: str, age_days: float, delivery_id: int | None = None) -> int:
    at = NOW - age_days * DAY
    return conn.execute(insert(jobs).values(
        kind="delivery", args=f'{{"name": "{name}"}}', delivery_id=delivery_id, state=state, attempts=1,
        run_at=at, created_at=at, finished_at=at if state in ("done", "dead") else None).returning(jobs.c.id)
    ).scalar_one()


def populate(engine) -> None:
    with engine.begin() as conn:
        job(conn, "old done", "done", 20, delivery(conn, "old, job done", 20))
        job(conn, "old dead", "dead", 20, delivery(conn, "old, job dead", 20))
        job(conn, "old queued", "queued", 20, delivery(conn, "old, job queued", 20))
        job(conn, "old running", "running", 20, delivery(conn, "old, job running", 20))
        job(conn, "recently done", "done", 1, delivery(conn, "old, job retried and done lately", 20))
        delivery(conn, "old, its job already pruned", 20)
        job(conn, "new done", "done", 1, delivery(conn, "new", 1))
        for n in range(5):
            job(conn, f"old periodic {n}", "done", 15)
        for guid, age in (("asked long ago", 20), ("asked lately", 1)):
            conn.execute(insert(redelivery_requests).values(guid=guid, attempt=1, hook_delivery_id=1,
                                                            requested_at=NOW - age * DAY, outcome="accepted"))
        for login, age in (("asked-long-ago", 20), ("asked-lately", 1)):
            conn.execute(insert(permission_cache).values(installation_id=1, repository="o/r", login=login,
                                                         level="write", checked_at=NOW - age * DAY))
        conn.execute(insert(repo_config_cache).values(installation_id=1, repository="o/r", answer="{}",
                                                      checked_at=NOW - 20 * DAY))


def left(engine):
    with engine.connect() as conn:
        return (set(conn.execute(select(deliveries.c.guid)).scalars()),
                {json.loads(args)["name"] for args in conn.execute(select(jobs.c.args)).scalars()},
                set(conn.execute(select(redelivery_requests.c.guid)).scalars()),
                set(conn.execute(select(permission_cache.c.login)).scalars())
                | set(conn.execute(select(repo_config_cache.c.repository)).scalars()))


def test_prune_keeps_what_an_operator_or_a_worker_still_needs(engine):
    populate(engine)

    pruned = retention.prune(engine, 14, batch=2, now=NOW)

    assert pruned == retention.Pruned(jobs=6, deliveries=3, redelivery_requests=1, cached_answers=2)
    kept_deliveries, kept_jobs, kept_requests, kept_answers = left(engine)
    assert kept_deliveries == {"old, job dead", "old, job queued", "old, job running", "new"}
    assert kept_jobs == {"old dead", "old queued", "old running", "recently done", "new done"}
    assert kept_requests == {"asked lately"}
    assert kept_answers == {"asked-lately"}
    with engine.connect() as conn:
        orphan = conn.execute(select(jobs.c.delivery_id).where(jobs.c.args.contains("recently done"))).scalar()
    assert orphan is None, "the done job whose delivery went no longer points at it"


def test_a_dry_run_counts_and_deletes_nothing(engine):
    populate(engine)
    before = left(engine)
    counted = retention.prune(engine, 14, dry_run=True, now=NOW)
    assert counted == retention.Pruned(jobs=6, deliveries=3, redelivery_requests=1, cached_answers=2), \
        "what a real run deletes"
    assert left(engine) == before


def test_nothing_to_prune_is_quick_and_quiet(engine):
    assert retention.prune(engine, 14) == retention.Pruned(0, 0, 0)
