"""What the insights keep beside the index: a finished run's jobs' time, and each stored summary's cause.

Both are derived once and kept (bot/db/insight_tables.py), so the report (bot/sessions/report.py)
reads figures, never logs: `record_run_time` stores what a run's jobs said when it completed (a
handler fetched them), `classify_pending` gives every stored summary not classified yet its
`log_cause` (bot/sessions/failures.py). No GitHub here.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Engine

from bot.db import dialect_insert, run_times, session_summaries, sessions, summary_causes
from bot.logs.summary import Summary
from bot.sessions import failures, model

log = logging.getLogger(__name__)

CLASSIFY_BATCH = 200  # summaries classified per transaction


def job_seconds(jobs: Iterable[dict]) -> tuple[float | None, int]:
    """(seconds the jobs ran, how many jobs) from GitHub's `job` objects: each job's `completed_at` minus
    its `started_at`; None when no job gives both (a job never started, or still running)."""
    total, timed, count = 0.0, False, 0
    for job in jobs:
        count += 1
        started, completed = model.timestamp(job.get("started_at")), model.timestamp(job.get("completed_at"))
        if started is not None and completed is not None:
            total += max(completed - started, 0.0)
            timed = True
    return (total if timed else None), count


def record_run_time(engine: Engine, *, repository_id: int, run_id: int, run_attempt: int, jobs: list[dict],
                    now: float | None = None) -> float | None:
    """Keep what the run's jobs (every attempt's) say of its time, read as attempt `run_attempt`
    completed; a later attempt's reading replaces an earlier one's, never the reverse. The seconds."""
    seconds, count = job_seconds(jobs)
    values = dict(run_attempt=run_attempt, seconds=seconds, jobs=count, read_at=time.time() if now is None else now)
    with engine.begin() as conn:
        insert = dialect_insert(conn, run_times).values(repository_id=repository_id, run_id=run_id, **values)
        conn.execute(insert.on_conflict_do_update(index_elements=["repository_id", "run_id"], set_=values,
                                                  where=run_times.c.run_attempt <= run_attempt))
    return seconds


@dataclass(frozen=True)
class Classified:
    """A stored summary given its cause, and where its session is (to look at the repository's setup)."""

    installation_id: int
    repository_id: int
    repository: str
    run_id: int
    cause: str | None


def classify_pending(engine: Engine, *, limit: int = CLASSIFY_BATCH, now: float | None = None) -> list[Classified]:
    """Give up to `limit` stored summaries their cause, those not classified for their attempt yet
    (a summary whose session the index no longer has is left alone); what was classified."""
    now = time.time() if now is None else now
    kept = and_(summary_causes.c.repository_id == session_summaries.c.repository_id,
                summary_causes.c.run_id == session_summaries.c.run_id,
                summary_causes.c.run_attempt == session_summaries.c.run_attempt)
    pending = (select(session_summaries.c.repository_id, session_summaries.c.run_id, session_summaries.c.run_attempt,
                      session_summaries.c.summary, sessions.c.installation_id, sessions.c.repository)
               .select_from(session_summaries.join(sessions, and_(
                   sessions.c.repository_id == session_summaries.c.repository_id,
                   sessions.c.run_id == session_summaries.c.run_id)).outerjoin(summary_causes, kept))
               .where(summary_causes.c.run_id.is_(None)).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(pending).all()
    found = [_classified(row) for row in rows]  # parsed outside the write transaction: it stays short
    with engine.begin() as conn:
        for item, attempt in found:
            values = dict(run_attempt=attempt, cause=item.cause, classified_at=now)
            insert = dialect_insert(conn, summary_causes).values(repository_id=item.repository_id,
                                                                 run_id=item.run_id, **values)
            conn.execute(insert.on_conflict_do_update(index_elements=["repository_id", "run_id"], set_=values))
    return [item for item, _ in found]


def _classified(row) -> tuple[Classified, int]:
    found = Classified(row.installation_id, row.repository_id, row.repository, row.run_id, _cause_of(row))
    return found, row.run_attempt


def _cause_of(row) -> str | None:
    """The summary's log cause; None for one this version cannot read (kept by another version)."""
    try:
        summary = Summary.from_dict(json.loads(row.summary))
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("the summary of run %s of %s cannot be read to classify: %s", row.run_id, row.repository, exc)
        return None
    return failures.log_cause(summary)


def run_seconds_of_pull(conn: Connection, repository_id: int, number: int) -> dict[int, float]:
    """Each finished session of a pull request: run id → the seconds it ran, as its jobs said when
    they were read, else from its run's own start and end (the status comment's totals)."""
    rows = conn.execute(select(sessions.c.run_id, sessions.c.state, sessions.c.started_at, sessions.c.finished_at,
                               run_times.c.seconds)
                        .select_from(sessions.outerjoin(run_times, and_(
                            run_times.c.repository_id == sessions.c.repository_id,
                            run_times.c.run_id == sessions.c.run_id)))
                        .where(sessions.c.repository_id == repository_id, sessions.c.pr_number == number)).all()
    found = {}
    for row in rows:
        seconds = session_seconds(row.state, row.seconds, row.started_at, row.finished_at)
        if seconds is not None:
            found[row.run_id] = seconds
    return found


def session_seconds(state: str, job_total: float | None, started_at: float | None,
                    finished_at: float | None) -> float | None:
    """A finished session's run time: its jobs' (`job_total`) when they were read, else its run's end
    minus its start; None while it runs, or when neither is known."""
    if state in model.RUNNING:
        return None
    if job_total is not None:
        return job_total
    if started_at is None or finished_at is None:
        return None
    return max(finished_at - started_at, 0.0)
