"""Prometheus metrics, correct across several gunicorn workers.

Counters the processes keep (GitHub calls, acknowledgements) use prometheus-client's multiprocess
mode when PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py sets it); figures the database knows
(queue depth, deliveries by outcome, job latency) are read from it at scrape time, so they are the
same whichever worker answers.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from bot.db import deliveries, jobs

GITHUB_CALLS = Counter("sessionbot_github_requests_total", "GitHub API requests by method and status",
                       ["method", "status"])
RATE_LIMIT_REMAINING = Gauge("sessionbot_github_ratelimit_remaining", "x-ratelimit-remaining last seen",
                             multiprocess_mode="mostrecent")
ACKS = Counter("sessionbot_webhook_responses_total", "Webhook intake answers by status", ["status"])
JOBS_RUN = Counter("sessionbot_jobs_finished_total", "Jobs run by kind and result", ["kind", "result"])


def github_response(method: str, status: int, remaining: int | None) -> None:
    """Hook for the GitHub client: count a response."""
    GITHUB_CALLS.labels(method, str(status)).inc()
    if remaining is not None:
        RATE_LIMIT_REMAINING.set(remaining)


class DatabaseCollector:
    """Figures read from the database at scrape time."""

    def __init__(self, engine, clock=time.time):
        self.engine = engine
        self.clock = clock

    def collect(self):
        now = self.clock()
        by_event = GaugeMetricFamily("sessionbot_deliveries", "Stored deliveries by event and outcome",
                                     labels=["event", "outcome"])
        by_state = GaugeMetricFamily("sessionbot_jobs", "Jobs by state", labels=["state"])
        oldest = GaugeMetricFamily("sessionbot_queue_oldest_due_seconds", "Age of the oldest due queued job")
        latency = GaugeMetricFamily("sessionbot_job_latency_seconds",
                                    "Mean seconds from enqueue to finish, jobs finished in the last 5 minutes")
        with self.engine.connect() as conn:
            for event, outcome, count in conn.execute(
                select(deliveries.c.event, deliveries.c.outcome, func.count()).group_by(
                    deliveries.c.event, deliveries.c.outcome)
            ):
                by_event.add_metric([event, outcome], count)
            for state, count in conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)):
                by_state.add_metric([state], count)
            first_due = conn.execute(
                select(func.min(jobs.c.run_at)).where(jobs.c.state == "queued", jobs.c.run_at <= now)
            ).scalar()
            mean = conn.execute(
                select(func.avg(jobs.c.finished_at - jobs.c.created_at)).where(
                    jobs.c.state == "done", jobs.c.finished_at >= now - 300)
            ).scalar()
        oldest.add_metric([], max(0.0, now - first_due) if first_due else 0.0)
        latency.add_metric([], float(mean or 0.0))
        yield from (by_event, by_state, oldest, latency)


def exposition(engine) -> bytes:
    """The /metrics page."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCollector())
    registry.register(DatabaseCollector(engine))
    return generate_latest(registry)


class _ProcessCollector:
    """This process's own counters, when there is no multiprocess directory (one process)."""

    def collect(self):
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()
