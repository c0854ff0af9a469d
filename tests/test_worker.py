"""Workers: each outcome of a job lands in the right state; a pool picks work up without polling."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from bot import jobs
from bot.db import jobs as jobs_table
from bot.errors import PermanentError, RetryLater, TransientError
from bot.worker import WorkerPool, run_job


@pytest.fixture
def kinds(monkeypatch):
    """Register job kinds for one test only."""
    registered = dict(jobs.HANDLERS)
    monkeypatch.setattr(jobs, "HANDLERS", registered)
    return registered


def enqueue(runtime, kind, args=None):
    with runtime.engine.begin() as conn:
        job_id = runtime.queue.enqueue(conn, kind, args)
    runtime.queue.wake()
    return job_id


def row(runtime, job_id):
    with runtime.engine.connect() as conn:
        return conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).one()


@pytest.mark.parametrize("raised, state", [
    (None, "done"),
    (TransientError("GitHub answered 502"), "queued"),
    (RuntimeError("a bug"), "queued"),
    (PermanentError("repository is gone"), "dead"),
])
def test_job_outcomes(runtime, kinds, raised, state):
    def handler(_runtime, _job):
        if raised:
            raise raised

    kinds["t"] = handler
    job_id = enqueue(runtime, "t")
    assert run_job(runtime, runtime.queue.claim("w")) == state
    assert row(runtime, job_id).state == state
    if raised:
        assert type(raised).__name__ in row(runtime, job_id).last_error


def test_a_rate_limited_job_is_deferred_to_the_reset_time(runtime, kinds):
    reset = time.time() + 3600

    def handler(_runtime, _job):
        raise RetryLater(reset, "primary rate limit exhausted")

    kinds["t"] = handler
    job_id = enqueue(runtime, "t")
    assert run_job(runtime, runtime.queue.claim("w")) == "deferred"
    saved = row(runtime, job_id)
    assert (saved.state, saved.attempts, saved.run_at) == ("queued", 0, reset)


def test_an_unknown_kind_is_dead_with_a_reason(runtime):
    job_id = enqueue(runtime, "no-such-kind")
    assert run_job(runtime, runtime.queue.claim("w")) == "dead"
    assert "no handler for job kind 'no-such-kind'" in row(runtime, job_id).last_error


def test_a_pool_runs_jobs_as_soon_as_they_are_enqueued(runtime, kinds):
    done = threading.Event()
    seen = []

    def handler(_runtime, job):
        seen.append(job.args["n"])
        if len(seen) == 3:
            done.set()

    kinds["t"] = handler
    pool = WorkerPool(runtime, threads=2).start()
    try:
        for n in range(3):
            enqueue(runtime, "t", {"n": n})
        assert done.wait(10)
    finally:
        pool.stop(5)
    assert sorted(seen) == [0, 1, 2]


def test_stopping_releases_a_job_that_does_not_finish_in_time(runtime, kinds):
    started, release = threading.Event(), threading.Event()

    def handler(_runtime, _job):
        started.set()
        release.wait(10)

    kinds["t"] = handler
    pool = WorkerPool(runtime, threads=1).start()
    job_id = enqueue(runtime, "t")
    assert started.wait(10)
    pool.stop(timeout=0.2)
    saved = row(runtime, job_id)
    assert (saved.state, saved.attempts) == ("queued", 0)
    release.set()
    assert pool.join(5)
