"""Periodic jobs: kinds that run every `interval` seconds, on the durable queue.

Each occurrence is an ordinary job whose dedupe key names its time slot (`kind:<slot>`, the slot
being `floor(time / interval)`, run at the slot's start). Dedupe keys are permanent, so however
many processes start at once, or however often, each slot gets one job. A worker pool schedules
the next occurrence of every kind when it starts; each run schedules the one after it before
doing its work, so a failing run never breaks the chain, and a run that comes late (workers were
down) is followed by the next slot after *now*, never by a burst of catch-up runs.

    @periodic("prune", lambda settings: 86400 if settings.retention_days else 0)
    def prune(runtime, job): ...
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from typing import Callable

from bot.jobs import Job, handles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A periodic job kind and how to read its interval (seconds; 0 means off) from Settings."""

    kind: str
    interval: Callable[..., float]


PERIODIC: dict[str, Periodic] = {}


def periodic(kind: str, interval: Callable[..., float]):
    """Register `function(runtime, job)` as job kind `kind`, run every `interval(settings)` seconds."""

    def register(function):
        PERIODIC[kind] = Periodic(kind, interval)

        @handles(kind)
        @functools.wraps(function)
        def run(runtime, job: Job) -> None:
            seconds = interval(runtime.settings)
            if seconds <= 0:
                return  # turned off since this occurrence was scheduled: the chain ends here
            schedule_next(runtime, kind, seconds)
            function(runtime, job)

        return function

    return register


def next_slot(kind: str, interval: float, now: float) -> tuple[str, float]:
    """The dedupe key and start time of the first slot of `kind` after `now`."""
    slot = math.floor(now / interval) + 1
    return f"{kind}:{slot}", slot * interval


def schedule_next(runtime, kind: str, interval: float) -> int | None:
    """Enqueue the next occurrence of `kind`; None if that slot's job already exists."""
    key, run_at = next_slot(kind, interval, runtime.queue.clock())
    with runtime.engine.begin() as conn:
        return runtime.queue.enqueue(conn, kind, run_at=run_at, dedupe_key=key)


def schedule_all(runtime) -> None:
    """Enqueue the next occurrence of every periodic kind that is on (a worker pool calls this)."""
    for item in PERIODIC.values():
        seconds = item.interval(runtime.settings)
        if seconds > 0:
            schedule_next(runtime, item.kind, seconds)
