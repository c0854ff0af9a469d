"""Running one claimed job: its handler, then what the queue records (done, deferred, retried or dead),
and the operator's line when it fails. Shared by the worker threads and `flask --app app receive`."""

from __future__ import annotations

import logging
import traceback

from bot import jobs, logging_config, metrics
from bot.errors import PermanentError, RetryLater
from bot.jobs import Job

logger = logging.getLogger("bot.worker")


def run_job(runtime, job: Job) -> str:
    """Run one claimed job and record its outcome; returns the job's new state."""
    queue = runtime.queue
    with logging_config.context(job_id=job.id, job_kind=job.kind):
        if job.attempts > queue.max_attempts:
            # Its workers keep dying mid-job (the lease lapsed each time): stop feeding it to them.
            queue.fail(job, "gave up: the job's worker died on every attempt", permanent=True)
            return "dead"
        function = jobs.HANDLERS.get(job.kind)
        try:
            if function is None:
                raise PermanentError(f"no handler for job kind {job.kind!r}")
            then = function(runtime, job)
        except RetryLater as exc:
            queue.defer(job, exc.at, exc.reason or str(exc))
            logger.info("deferred until %.0f: %s", exc.at, exc.reason)
            state = "deferred"
        except Exception as exc:  # the queue decides: retry with backoff, or dead
            error = "".join(traceback.format_exception_only(exc)).strip()
            state = queue.fail(job, error, permanent=isinstance(exc, PermanentError),
                               not_before=getattr(exc, "not_before", None))
            if state == "dead":
                logger.error("gave up on job %d (%s) after %d attempt(s): %s. Its work is not done; once the "
                             "cause is fixed, run `flask --app app jobs retry %d`", job.id, job.kind, job.attempts,
                             error, job.id, exc_info=True)
            else:
                logger.warning("job failed (attempt %d of %d, retrying for about %s more): %s", job.attempts,
                               queue.max_attempts, _retrying_for(queue, job.attempts), error)
        else:
            state = "done" if queue.complete(job, then=then) else "lost"
            if state == "lost":
                logger.warning("job finished after its lease was taken over")
        metrics.JOBS_RUN.labels(job.kind, state).inc()
        return state


def _retrying_for(queue, attempts: int) -> str:
    """Roughly how long the queue keeps retrying a job that failed `attempts` times (its backoff's
    middle: each retry waits base·2^(n-1), capped, ±50 %)."""
    seconds = sum(min(jobs.BACKOFF_CAP, queue.retry_base * 2 ** (n - 1)) for n in range(attempts, queue.max_attempts))
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
