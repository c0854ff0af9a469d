"""The durable queue, on SQLite and PostgreSQL: claims, leases, retries, deferral, dead jobs."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from bot import db
from bot import jobs as jobs_module
from bot.db import jobs
from bot.jobs import Queue, backoff
from bot.outbox import Outbox
from tests.clock import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def queue(engine, clock):
    return Queue(engine, lease=30.0, retry_base=1.0, max_attempts=3, clock=clock)


def enqueue(queue, kind="noop", **kwargs):
    with queue.engine.begin() as conn:
        return queue.enqueue(conn, kind, **kwargs)


def state_of(queue, job_id):
    with queue.engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).one()


def test_a_queued_job_is_claimed_once_and_completed(queue):
    job_id = enqueue(queue, args={"n": 1})
    job = queue.claim("w1")
    assert (job.id, job.args, job.attempts) == (job_id, {"n": 1}, 1)
    assert queue.claim("w2") is None
    assert queue.complete(job)
    assert state_of(queue, job_id).state == "done"


def test_an_urgent_job_goes_before_older_ones_and_a_job_due_later_waits(queue, clock):
    older = [enqueue(queue, args={"n": n}) for n in range(3)]
    later = enqueue(queue, run_at=clock() + 60, priority=jobs_module.URGENT)
    urgent = enqueue(queue, priority=jobs_module.URGENT)
    claimed = [queue.claim("w") for _ in range(4)]
    assert [job.id for job in claimed] == [urgent, *older]
    assert queue.claim("w") is None
    assert all(queue.complete(job) for job in claimed)
    clock.now += 61
    assert queue.claim("w").id == later


def test_a_lapsed_lease_is_taken_before_any_queued_job(queue, clock):
    first = enqueue(queue)
    assert queue.claim("dead worker").id == first
    clock.now += 31
    enqueue(queue, priority=jobs_module.URGENT)
    assert queue.claim("w").id == first


def test_the_next_job_is_read_off_an_index_not_sorted_out_of_the_whole_queue(tmp_path):
    # On SQLite, whose plan names it plainly (PostgreSQL's depends on the table's statistics).
    engine = db.make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    db.upgrade(engine)
    sql = str(jobs_module._claim_statement(skip_locked=False))
    with engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql.replace(":now", "1").replace(
            ":lease_until", "2").replace(":worker", "'w'"))]
    engine.dispose()
    assert not [step for step in plan if "TEMP B-TREE" in step or step.startswith("SCAN")], plan


def test_a_job_whose_worker_died_is_claimed_again_after_its_lease(queue, clock):
    enqueue(queue)
    first = queue.claim("dead-worker")
    clock.now += 29
    assert queue.claim("w2") is None
    clock.now += 2
    again = queue.claim("w2")
    assert (again.id, again.attempts) == (first.id, 2)
    assert not queue.complete(first), "the dead worker's late completion must not count"
    assert queue.complete(again)


def test_heartbeat_keeps_a_long_job_from_being_taken_over(queue, clock):
    enqueue(queue)
    job = queue.claim("w1")
    for _ in range(5):
        clock.now += 20
        assert queue.heartbeat([job.id], "w1") == set()  # renewed, nobody took it
        assert queue.claim("w2") is None


def test_heartbeat_tells_a_takeover_from_a_job_that_just_finished(queue, clock):
    enqueue(queue)
    enqueue(queue)
    finished, lapsed = queue.claim("w1"), queue.claim("w1")
    assert queue.complete(finished)
    clock.now += 31  # w1 stalled past the lease: w2 takes the other job
    assert queue.claim("w2").id == lapsed.id

    assert queue.heartbeat([finished.id, lapsed.id], "w1") == {lapsed.id}


def test_a_failure_retries_with_backoff_then_the_job_is_dead(queue, clock):
    job_id = enqueue(queue)
    for attempt in (1, 2):
        job = queue.claim("w1")
        assert queue.fail(job, "GitHub answered 502") == "queued"
        row = state_of(queue, job_id)
        assert 0.5 * 2 ** (attempt - 1) <= row.run_at - clock.now <= 1.5 * 2 ** (attempt - 1)
        assert queue.claim("w1") is None, "not before its retry time"
        clock.now = row.run_at
    job = queue.claim("w1")
    assert queue.fail(job, "GitHub answered 502 again") == "dead"
    row = state_of(queue, job_id)
    assert (row.state, row.attempts, row.last_error) == ("dead", 3, "GitHub answered 502 again")
    assert queue.retry(job_id) == "dead"
    assert queue.retry(job_id + 1000) is None, "no such job"
    assert queue.claim("w1").attempts == 1


def test_a_deferred_job_waits_without_spending_an_attempt(queue, clock):
    job_id = enqueue(queue)
    job = queue.claim("w1")
    queue.defer(job, clock.now + 60, "secondary rate limit")
    clock.now += 59
    assert queue.claim("w1") is None
    clock.now += 1
    assert queue.claim("w1").attempts == 1
    assert state_of(queue, job_id).last_error == "deferred: secondary rate limit"


def test_a_dedupe_key_enqueues_once(queue):
    assert enqueue(queue, dedupe_key="comment:1:0") is not None
    assert enqueue(queue, dedupe_key="comment:1:0") is None
    assert queue.counts() == {"queued": 1}


def test_the_first_retry_comes_after_about_a_second():
    assert backoff(1, 1.0, rand=lambda: 0.5) == 1.0
    assert 0.5 <= backoff(1, 1.0) <= 1.5
    assert backoff(20, 1.0, rand=lambda: 0.5) == 600.0


def test_concurrent_claimers_never_share_a_job(engine):
    queue = Queue(engine, lease=30.0, retry_base=1.0, max_attempts=3)
    with engine.begin() as conn:
        for n in range(60):
            queue.enqueue(conn, "noop", {"n": n})
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(name):
        while (job := queue.claim(name)) is not None:
            with lock:
                claimed.append(job.id)
            queue.complete(job)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 60
    assert queue.counts() == {"done": 60}


@pytest.fixture
def dead_hooks(monkeypatch):
    """Register on_dead hooks for one test only."""
    registered = dict(jobs_module.ON_DEAD)
    monkeypatch.setattr(jobs_module, "ON_DEAD", registered)
    monkeypatch.setattr(jobs_module, "HANDLERS", dict(jobs_module.HANDLERS))
    return registered


def test_a_dead_job_calls_the_hook_its_kind_registered_once(queue, dead_hooks):
    seen = []
    jobs_module.handles("doomed", on_dead=lambda conn, job: seen.append((job.kind, job.args)))(lambda rt, job: None)
    enqueue(queue, "doomed", args={"n": 1})
    enqueue(queue, "other")

    assert queue.fail(queue.claim("w"), "PermanentError: no", permanent=True) == "dead"
    assert queue.fail(queue.claim("w"), "PermanentError: no", permanent=True) == "dead"

    assert seen == [("doomed", {"n": 1})]


def test_a_job_that_is_retried_or_whose_lease_was_lost_calls_no_dead_hook(queue, clock, dead_hooks):
    seen = []
    jobs_module.handles("doomed", on_dead=lambda conn, job: seen.append(job.id))(lambda rt, job: None)
    enqueue(queue, "doomed")
    job = queue.claim("w1")
    assert queue.fail(job, "TransientError: 502") == "queued"
    clock.now += 10
    job = queue.claim("w1")
    clock.now += 31
    queue.claim("w2")  # the lease lapsed: w2 holds it now

    queue.fail(job, "PermanentError: no", permanent=True)

    assert seen == []


def test_a_dead_delivery_job_marks_its_delivery_failed(queue, clock, database_url):
    import bot.events  # noqa: F401  (registers the `delivery` kind and its hook)

    clock.now = time.time() + 1  # the outbox stamps real time
    outbox = Outbox(db.make_engine(database_url, pre_ping=False))
    assert outbox.store("doomed", "push", None, None, b"{}")
    outbox.engine.dispose()
    job = queue.claim("w")

    assert queue.fail(job, "PermanentError: no", permanent=True) == "dead"

    with queue.engine.connect() as conn:
        assert conn.execute(select(db.deliveries.c.outcome)).scalar_one() == "failed"


def test_a_failure_that_may_have_taken_effect_is_not_retried_before_it_settled(queue, clock):
    job_id = enqueue(queue)
    job = queue.claim("w1")

    assert queue.fail(job, "ReadTimeout on POST …; it may have taken effect", not_before=clock.now + 10) == "queued"

    assert state_of(queue, job_id).run_at == clock.now + 10  # later than the backoff alone (≤ 1.5 s)
    clock.now += 9
    assert queue.claim("w1") is None
    clock.now += 1
    assert queue.claim("w1").id == job_id
