"""The durable job queue: a table in the bot's own database.

A job is claimed with a lease; the worker renews the lease while it runs (heartbeat), so a job
whose worker died (`kill -9`) is taken again once its lease lapses, and a long job is never taken
over while its worker lives. Transient failures retry with exponential backoff and jitter; a job
can be deferred to a time (rate limits) without spending an attempt; after `job_max_attempts`
failures it is `dead`, with its last error, for an operator to look at and retry.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from bot import faults
from bot.db import dialect_insert, is_sqlite, jobs

NOTIFY_CHANNEL = "session_bot_jobs"
# Job priorities: among due jobs the lower goes first. URGENT when a person waits for the answer (a
# command), so it never queues behind a burst of deliveries that only update the index.
NORMAL, URGENT = 0, -1

# kind → function(runtime, job). Modules register their kinds with @handles("kind").
HANDLERS: dict[str, Callable[..., None]] = {}
# kind → on_dead(conn, job): what else a job of that kind leaves behind when it dies.
ON_DEAD: dict[str, Callable[[Connection, "Job"], None]] = {}


def handles(kind: str, *, on_dead: Callable[[Connection, "Job"], None] | None = None):
    """Register the function that runs jobs of `kind`, and `on_dead(conn, job)`, called in the
    transaction that declares such a job dead (so the queue knows no kind's own tables).

    The function may return `then(conn, job)`: what else its success records, written in the
    transaction that marks the job done (one commit instead of two, and never one without the other).
    """

    def register(function):
        if kind in HANDLERS:
            raise ValueError(f"job kind {kind!r} is registered twice")
        HANDLERS[kind] = function
        if on_dead is not None:
            ON_DEAD[kind] = on_dead
        return function

    return register


@dataclass(frozen=True)
class Job:
    """A claimed job, as the handler sees it."""

    id: int
    kind: str
    args: dict[str, Any]
    delivery_id: int | None
    attempts: int
    locked_by: str


BACKOFF_CAP = 600.0  # seconds: the longest wait between two attempts of a job


def backoff(attempt: int, base: float, *, cap: float = BACKOFF_CAP, rand: Callable[[], float] = random.random) -> float:
    """Seconds before retry number `attempt` (1-based): base·2^(n-1), ±50 % jitter, capped."""
    delay = min(cap, base * 2 ** (attempt - 1))
    return delay * (0.5 + rand())


class Queue:
    """Enqueue, claim, finish, retry and inspect jobs."""

    def __init__(self, engine: Engine, *, lease: float, retry_base: float, max_attempts: int,
                 clock: Callable[[], float] = time.time):
        self.engine = engine
        self.lease = lease
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.clock = clock
        self._wakeup = threading.Condition()
        self._pending_wakeups = 0
        self._claim_sql = _claim_statement(skip_locked=not is_sqlite(engine))

    # -- producing --------------------------------------------------------------------------

    def enqueue(self, conn: Connection, kind: str, args: dict | None = None, *, delivery_id: int | None = None,
                run_at: float | None = None, dedupe_key: str | None = None, priority: int = NORMAL) -> int | None:
        """Add a job inside the caller's transaction; None if `dedupe_key` is already queued."""
        now = self.clock()
        values = dict(kind=kind, args=json.dumps(args or {}), delivery_id=delivery_id, state="queued", attempts=0,
                      run_at=run_at if run_at is not None else now, dedupe_key=dedupe_key, created_at=now,
                      priority=priority)
        if dedupe_key is None:
            job_id = conn.execute(insert(jobs).values(**values).returning(jobs.c.id)).scalar_one()
        else:
            statement = dialect_insert(conn, jobs).values(**values).on_conflict_do_nothing(
                index_elements=["dedupe_key"])
            job_id = conn.execute(statement.returning(jobs.c.id)).scalar_one_or_none()
        if job_id is not None and not is_sqlite(self.engine):
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        return job_id

    def wake(self) -> None:
        """Tell this process's idle workers there may be work (call after the enqueue commits)."""
        with self._wakeup:
            self._pending_wakeups += 1
            self._wakeup.notify()

    def wait(self, timeout: float) -> None:
        """Sleep until woken or `timeout` passes."""
        with self._wakeup:
            if self._pending_wakeups == 0:
                self._wakeup.wait(timeout)
            self._pending_wakeups = max(0, self._pending_wakeups - 1)

    # -- consuming --------------------------------------------------------------------------

    def claim(self, worker_id: str) -> Job | None:
        """Take the next due job (or one whose lease lapsed), or None."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(self._claim_sql, {"now": now, "lease_until": now + self.lease,
                                                 "worker": worker_id}).first()
        if row is None:
            return None
        return Job(id=row.id, kind=row.kind, args=json.loads(row.args), delivery_id=row.delivery_id,
                   attempts=row.attempts, locked_by=worker_id)

    def heartbeat(self, job_ids: list[int], worker_id: str) -> set[int]:
        """Renew the leases of the jobs this worker runs; returns those another worker took over
        (not those that merely finished since the caller listed them)."""
        if not job_ids:
            return set()
        with self.engine.begin() as conn:
            held = set(conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(job_ids), jobs.c.locked_by == worker_id, jobs.c.state == "running")
                .values(lease_until=self.clock() + self.lease)
                .returning(jobs.c.id)
            ).scalars())
            missing = set(job_ids) - held
            if not missing:
                return set()
            return set(conn.execute(select(jobs.c.id).where(jobs.c.id.in_(missing),
                                                             jobs.c.locked_by != worker_id)).scalars())

    def complete(self, job: Job, then: Callable[[Connection, Job], None] | None = None) -> bool:
        """Mark done, and run `then(conn, job)` in the same transaction; False (and `then` not run) if
        the lease was lost to another worker meanwhile."""
        return self._finish(job, f"job.complete:{job.kind}", then=then, state="done", finished_at=self.clock(),
                            lease_until=None, last_error=None)

    def fail(self, job: Job, error: str, *, permanent: bool = False, not_before: float | None = None) -> str:
        """Record a failure: back to the queue with backoff (and not before `not_before`), or `dead`.
        Returns the new state."""
        if permanent or job.attempts >= self.max_attempts:
            self._finish(job, state="dead", finished_at=self.clock(), lease_until=None, last_error=error,
                         then=ON_DEAD.get(job.kind))
            return "dead"
        run_at = max(self.clock() + backoff(job.attempts, self.retry_base), not_before or 0.0)
        self._finish(job, state="queued", run_at=run_at, lease_until=None, locked_by=None, last_error=error)
        return "queued"

    def defer(self, job: Job, at: float, reason: str) -> None:
        """Run again at `at` without spending an attempt (rate limits)."""
        self._finish(job, state="queued", run_at=at, attempts=job.attempts - 1, lease_until=None, locked_by=None,
                     last_error=f"deferred: {reason}")

    def release(self, job: Job) -> None:
        """Give a job back untouched (shutting down): due now, attempt not spent."""
        self.defer(job, self.clock(), "released at shutdown")

    def _finish(self, job: Job, fault_point: str | None = None, *,
                then: Callable[[Connection, Job], None] | None = None, **values) -> bool:
        """Set `values` on a job this worker still holds, and then run `then(conn, job)` in the same
        transaction; False (and `then` not run) if the lease was lost."""
        with self.engine.begin() as conn:
            if fault_point:
                faults.point(fault_point, conn.connection)
            result = conn.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.locked_by == job.locked_by, jobs.c.state == "running")
                .values(**values)
            )
            held = result.rowcount == 1
            if held and then is not None:
                then(conn, job)
        return held

    # -- inspecting ----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Jobs by state."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)).all()
        return {state: count for state, count in rows}

    def retry(self, job_id: int) -> str | None:
        """Put a dead job back in the queue with fresh attempts. Returns the job's state before
        ("dead" when it was queued again), or None when there is no such job."""
        with self.engine.begin() as conn:
            state = conn.execute(select(jobs.c.state).where(jobs.c.id == job_id)).scalar()
            if state == "dead":
                conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.state == "dead")
                             .values(state="queued", attempts=0, run_at=self.clock(), finished_at=None))
        return state


def _claim_statement(*, skip_locked: bool):
    # One statement picks and leases atomically: a job whose worker died (its lease lapsed) first, else
    # the first due job in the claim index's order (priority, then due time), read off the index rather
    # than sorted out of the whole queue. COALESCE stops at the first probe that finds one. On
    # PostgreSQL, SKIP LOCKED lets concurrent claimers pass over each other's rows; SQLite's single
    # writer (BEGIN IMMEDIATE) serialises them.
    lock = "FOR UPDATE SKIP LOCKED" if skip_locked else ""
    return text(f"""
        UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = :worker,
               lease_until = :lease_until, started_at = :now
        WHERE id = COALESCE(
            (SELECT id FROM jobs WHERE state = 'running' AND lease_until < :now LIMIT 1 {lock}),
            (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= :now
             ORDER BY priority, run_at, id LIMIT 1 {lock})
        )
        RETURNING id, kind, args, delivery_id, attempts
    """)
