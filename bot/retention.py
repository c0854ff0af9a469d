"""Retention: finished jobs and stored deliveries are deleted once older than RETENTION_DAYS.

Only `done` jobs go: `dead` ones stay for an operator to see and retry, and queued or running
ones are work still to do. A delivery goes once no job still needs it (its jobs are all done or
gone), so `flask jobs retry` always finds the body of a dead job's delivery. Deletions run in
batches, each its own short transaction, so a large prune never holds locks for long and the
webhook intake keeps acknowledging in between. The bot's record of the redeliveries it asked for
goes after the same time (GitHub forgets deliveries after 3 days; RETENTION_DAYS is at least 3),
as do cached permission and config answers nobody has asked for since (bot/caches/: they are
seconds old when used, and would otherwise pile up, one per person and repository ever seen).

Sign-in (bot/web/) has its own, hourly prune by idle time rather than age: browser sessions unused
for WEB_SESSION_IDLE_SECONDS, the tokens that die with them (those the person did not choose to
keep), kept tokens unused for USER_TOKEN_IDLE_SECONDS, and cached access nobody signed in needs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.engine import Engine

from bot.db import (deliveries, jobs, permission_cache, redelivery_requests, repo_config_cache, user_access_cache,
                    user_tokens, web_sessions)
from bot.schedule import periodic

log = logging.getLogger(__name__)

BATCH = 500
DAY = 86400.0
HOUR = 3600.0


@dataclass(frozen=True)
class Pruned:
    """How many rows a prune deleted (or, in a dry run, would delete)."""

    jobs: int
    deliveries: int
    redelivery_requests: int
    cached_answers: int = 0


def prune(engine: Engine, days: int, *, dry_run: bool = False, batch: int = BATCH,
          now: float | None = None) -> Pruned:
    """Delete done jobs finished, and deliveries received, more than `days` days ago."""
    now = time.time() if now is None else now
    cutoff = now - days * DAY
    old_jobs = (jobs.c.state == "done", jobs.c.finished_at < cutoff)
    still_needed = exists().where(jobs.c.delivery_id == deliveries.c.id, jobs.c.state != "done")
    old_deliveries = (deliveries.c.received_at < cutoff, ~still_needed)
    old_requests = (redelivery_requests.c.requested_at < cutoff,)
    # Jobs first: a delivery whose done job is pruned in this run is then free to go as well.
    counts = [_delete(engine, table, where, dry_run, batch) for table, where in (
        (jobs, old_jobs), (deliveries, old_deliveries), (redelivery_requests, old_requests))]
    cached = sum(_delete(engine, table, (table.c.checked_at < cutoff,), dry_run, batch)
                 for table in (permission_cache, repo_config_cache))
    return Pruned(*counts, cached_answers=cached)


@periodic("prune", lambda settings: DAY if settings.retention_days else 0)
def prune_job(runtime, job) -> None:
    """The daily prune at RETENTION_DAYS."""
    pruned = prune(runtime.engine, runtime.settings.retention_days)
    if any((pruned.jobs, pruned.deliveries, pruned.redelivery_requests, pruned.cached_answers)):
        log.info("pruned %d done job(s), %d delivery(ies), %d redelivery request(s), %d cached answer(s) older "
                 "than %d days", pruned.jobs, pruned.deliveries, pruned.redelivery_requests, pruned.cached_answers,
                 runtime.settings.retention_days)


def prune_signin(engine: Engine, settings, *, now: float | None = None) -> int:
    """Delete idle browser sessions and the tokens and cached access that go with them; how many rows."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        deleted = conn.execute(delete(web_sessions).where(
            web_sessions.c.last_seen_at < now - settings.web_session_idle)).rowcount
        signed_in = exists().where(web_sessions.c.user_id == user_tokens.c.user_id)
        deleted += conn.execute(delete(user_tokens).where(or_(
            ~user_tokens.c.keep & ~signed_in, user_tokens.c.last_used_at < now - settings.user_token_idle))).rowcount
        deleted += conn.execute(delete(user_access_cache).where(
            ~exists().where(web_sessions.c.user_id == user_access_cache.c.user_id))).rowcount
    return deleted


@periodic("prune-signin", lambda settings: HOUR if settings.sign_in else 0)
def prune_signin_job(runtime, job) -> None:
    """The hourly prune of what sign-in keeps, by idle time."""
    pruned = prune_signin(runtime.engine, runtime.settings)
    if pruned:
        log.info("pruned %d idle sign-in row(s) (browser sessions, tokens, cached access)", pruned)


def _delete(engine: Engine, table, where: tuple, dry_run: bool, batch: int) -> int:
    """Delete the matching rows `batch` at a time, one transaction each; returns how many."""
    if dry_run:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    total = 0
    while True:
        with engine.begin() as conn:
            ids = select(table.c.id).where(*where).order_by(table.c.id).limit(batch)
            deleted = conn.execute(delete(table).where(table.c.id.in_(ids))).rowcount
        total += deleted
        if deleted < batch:
            return total
