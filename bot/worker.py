"""Workers: threads that claim jobs from the queue and run them.

By default they run inside each web process (`BOT_INLINE_WORKERS=1`); to scale out, run
`python -m bot.worker` as its own process (the Procfile's `worker:`) and set
`BOT_INLINE_WORKERS=0` on the web. On PostgreSQL, a separate worker wakes on LISTEN/NOTIFY;
on SQLite it polls every `JOB_POLL_SECONDS` (≤ 1 s by default).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time

from bot import handlers, logging_config, schedule  # noqa: F401  (handlers registers the job kinds)
from bot.job_runner import run_job
from bot.jobs import Job

logger = logging.getLogger("bot.worker")


class WorkerPool:
    """`threads` workers plus one heartbeat thread renewing the leases of running jobs."""

    def __init__(self, runtime, threads: int):
        self.runtime = runtime
        self.threads = threads
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self) & 0xffff:x}"
        self._stopping = threading.Event()
        self._running: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._claims = logging_config.Outage(logger, "claiming jobs from the database")

    def start(self) -> "WorkerPool":
        try:
            schedule.schedule_all(self.runtime)  # one job per slot, however many pools start at once
        except Exception:  # the database is down: the jobs still run; periodic ones from the next start
            logger.exception("could not schedule the periodic jobs")
        for n in range(self.threads):
            self._spawn(self._work, f"job-worker-{n}")
        self._spawn(self._heartbeat, "job-heartbeat")
        if self.runtime.engine.dialect.name == "postgresql":
            # Not joined at stop: it holds no job and only wakes the others, and it may sit a whole
            # second in `notifies`; a daemon thread, it ends with its loop or with the process.
            threading.Thread(target=self._listen, name="job-listener", daemon=True).start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; running jobs finish (or are released if they outlast `timeout`)."""
        self._stopping.set()
        for _ in range(self.threads):
            self.runtime.queue.wake()
        self.join(timeout)
        with self._lock:
            left = list(self._running.values())
        for job in left:
            self.runtime.queue.release(job)

    def join(self, timeout: float) -> bool:
        """Wait for the threads to end; True if they all did."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _work(self) -> None:
        queue = self.runtime.queue
        while not self._stopping.is_set():
            try:
                job = queue.claim(self.worker_id)
            except Exception as exc:  # the database is gone: one line per outage, not a traceback a poll
                self._claims.failed(exc)
                self._stopping.wait(self.runtime.settings.job_poll_interval)
                continue
            self._claims.succeeded()
            if job is None:
                queue.wait(self.runtime.settings.job_poll_interval)
                continue
            with self._lock:
                self._running[job.id] = job
            try:
                run_job(self.runtime, job)
            except Exception:
                logger.exception("could not record the outcome of job %s; its lease will lapse", job.id)
            finally:
                with self._lock:
                    self._running.pop(job.id, None)

    def _heartbeat(self) -> None:
        interval = self.runtime.settings.job_lease / 3
        while not self._stopping.wait(interval):
            with self._lock:
                ids = list(self._running)
            try:
                taken = self.runtime.queue.heartbeat(ids, self.worker_id)
            except Exception:
                logger.exception("heartbeat failed")
                continue
            for lost in taken:
                logger.warning("lost the lease of job %s to another worker", lost)

    def _listen(self) -> None:
        """PostgreSQL LISTEN: wake a worker as soon as another process enqueues."""
        import psycopg

        from bot.jobs import NOTIFY_CHANNEL

        url = self.runtime.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        outage = logging_config.Outage(logger, "listening for new jobs (PostgreSQL LISTEN)")
        while not self._stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    outage.succeeded()
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.runtime.queue.wake()
            except Exception as exc:  # the database is gone: one line per outage; polling still finds jobs
                outage.failed(exc)
                self._stopping.wait(1.0)


def main() -> int:
    """`python -m bot.worker`: a worker process for scale-out."""
    from bot.config import ConfigError, load_settings
    from bot.runtime import build_runtime, database_problem

    try:
        settings = load_settings()
        logging_config.configure(settings.log_level, settings.log_format)
        runtime = build_runtime(settings)
    except ConfigError as exc:
        print(f"session-bot: configuration error: {exc}", file=sys.stderr)
        return 1
    if (problem := database_problem(settings)) is not None:
        print(f"session-bot: {problem}", file=sys.stderr)
        return 1
    if settings.auto_migrate:
        from bot import db

        db.upgrade(runtime.engine)
    pool = WorkerPool(runtime, settings.worker_threads).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("worker %s started with %d threads", pool.worker_id, settings.worker_threads)
    stop.wait()
    logger.info("stopping: finishing or releasing running jobs")
    pool.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
