"""Periodic jobs: one job per time slot however many pools start, each run schedules the next."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot import db, jobs, schedule
from bot.config import Settings
from bot.db import jobs as jobs_table
from bot.runtime import build_runtime
from bot.worker import WorkerPool, run_job


@pytest.fixture
def ticks(monkeypatch):
    """A periodic kind "tick" every 60 s (for this test only), and the runs it made."""
    monkeypatch.setattr(jobs, "HANDLERS", dict(jobs.HANDLERS))
    monkeypatch.setattr(schedule, "PERIODIC", {})
    runs = []
    schedule.periodic("tick", lambda settings: settings.redelivery_interval)(lambda runtime, job: runs.append(job))
    return runs


def queued(runtime, kind="tick"):
    with runtime.engine.connect() as conn:
        return conn.execute(select(jobs_table.c.dedupe_key, jobs_table.c.run_at, jobs_table.c.state)
                            .where(jobs_table.c.kind == kind).order_by(jobs_table.c.id)).all()


@pytest.mark.parametrize("now, key, run_at", [
    (0.0, "k:1", 60.0),
    (59.9, "k:1", 60.0),
    (60.0, "k:2", 120.0),
    (1_750_000_123.0, "k:29166669", 1_750_000_140.0),
])
def test_next_slot(now, key, run_at):
    assert schedule.next_slot("k", 60.0, now) == (key, run_at)


def test_pools_starting_at_once_make_one_job_per_slot(settings, ticks):
    settings = Settings(**{**settings.__dict__, "redelivery_interval": 3600.0})
    runtimes = [build_runtime(settings) for _ in range(6)]
    db.upgrade(runtimes[0].engine)
    barrier = threading.Barrier(len(runtimes))

    def start(runtime):
        barrier.wait()
        schedule.schedule_all(runtime)

    threads = [threading.Thread(target=start, args=(r,)) for r in runtimes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    rows = queued(runtimes[0])
    for runtime in runtimes:
        runtime.dispose()
    [(key, run_at, state)] = rows
    assert state == "queued" and key == f"tick:{int(run_at // 3600)}"


def test_a_run_schedules_the_next_occurrence_first(runtime, ticks):
    runtime.settings = Settings(**{**runtime.settings.__dict__, "redelivery_interval": 60.0})
    with runtime.engine.begin() as conn:
        runtime.queue.enqueue(conn, "tick", dedupe_key="tick:overdue")
    job = runtime.queue.claim("w")

    assert run_job(runtime, job) == "done"

    assert len(ticks) == 1
    [(first, _, done), (key, run_at, state)] = queued(runtime)
    assert (first, done, state) == ("tick:overdue", "done", "queued")
    assert run_at > runtime.queue.clock() and key == f"tick:{int(run_at // 60)}"


def test_a_kind_turned_off_neither_runs_nor_schedules(runtime, ticks):
    runtime.settings = Settings(**{**runtime.settings.__dict__, "redelivery_interval": 0.0})
    schedule.schedule_all(runtime)
    assert queued(runtime) == []
    with runtime.engine.begin() as conn:
        runtime.queue.enqueue(conn, "tick", dedupe_key="tick:from-before")
    run_job(runtime, runtime.queue.claim("w"))
    assert ticks == [] and [row.state for row in queued(runtime)] == ["done"]


def test_a_worker_pool_schedules_the_bots_periodic_jobs(runtime):
    pool = WorkerPool(runtime, threads=1).start()
    pool.stop(5)
    WorkerPool(runtime, threads=1).start().stop(5)
    assert {row.dedupe_key.split(":")[0] for row in queued(runtime, "redeliver") + queued(runtime, "prune")} \
        == {"redeliver", "prune"}
    assert len(queued(runtime, "redeliver")) == len(queued(runtime, "prune")) == 1
