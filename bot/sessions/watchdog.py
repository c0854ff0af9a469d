"""The watchdog's decision, pure, and its mark in the index (bot/handlers/watchdog.py runs it).

A session gets a mark (`sessions.stuck`, set at `stuck_at`) when it is
- `queued` longer than its repository's `stuck.queued_minutes`, counted from its creation;
- `running` longer than `stuck.running_minutes`, counted from its current attempt's start;
- `unfinished`: its run completed UNFINISHED_AFTER ago, and the pull request's timeline never said
  Copilot finished (GitHub's panel can then show it working for good);
- `gone`: GitHub answers 404 for its run. Only the job can know that (the index never asks GitHub):
  it passes `run_gone`.
A mark holds while the session stays as it was marked (`holds`): one that starts running is no
longer stuck in the queue, one that finishes is no longer running too long, a timeline that records
the finish ends `unfinished`. The index clears a mark that no longer holds whenever it merges news
of the run (store.observe); the watchdog clears the rest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from bot.db import sessions
from bot.sessions.model import RUNNING, STATES

MARKS = ("queued", "running", "unfinished", "gone")
FINISHED = tuple(state for state in STATES if state not in RUNNING)
# Copilot puts `copilot_work_finished` on the timeline as its run ends, and the bot reads the timeline
# within TIMELINE_COALESCE_SECONDS of the run's last delivery. Ten minutes is room for GitHub's own
# delays and a retried read, and still well before anyone would wonder why the panel says "working".
UNFINISHED_AFTER = 600.0
# Finished sessions are looked at for `unfinished` while they are this young (by creation): a
# finish the timeline has not recorded in two days will not come, and older sessions cost nothing.
RECENT = 2 * 86_400.0
# bot/repo_config.py takes limits of at least a minute: no session younger can be past one.
SMALLEST_LIMIT = 60.0


@dataclass(frozen=True)
class Limits:
    """A repository's limits, in minutes (bot/repo_config.RepoConfig's `stuck_*` and `auto_stop_after_minutes`)."""

    queued_minutes: int = 15
    running_minutes: int = 60
    auto_stop_after_minutes: int | None = None  # None: never stop a session for its time


@dataclass(frozen=True)
class Verdict:
    """What a session should carry (`mark`, None for nothing), whether to stop it now (`auto_stop`),
    and whether the mark is new, so worth asking GitHub first whether the index is behind (`confirm`)."""

    mark: str | None
    auto_stop: bool = False
    confirm: bool = False


def since(session) -> float | None:
    """When the session entered its state: created (queued), its attempt started (running), finished."""
    if session.state == "queued":
        return session.created_at
    if session.state == "in_progress":
        return session.started_at or session.created_at
    return session.finished_at


def holds(mark: str | None, state: str, timeline_outcome: str | None) -> bool:
    """Whether `mark` still fits a session in `state` whose timeline said `timeline_outcome`."""
    if mark == "queued":
        return state == "queued"
    if mark == "running":
        return state == "in_progress"
    if mark == "gone":
        return state in RUNNING
    if mark == "unfinished":
        return state in FINISHED and timeline_outcome is None
    return False


def judge(session, limits: Limits, now: float, *, run_gone: bool = False) -> Verdict:
    """The mark `session` (a `sessions` row) should carry at `now` under `limits`, and whether to stop it.

    `run_gone`: GitHub just answered 404 for its run. A gone session stays gone while the index
    says it runs (there is nothing left to ask) and is never stopped (there is no run to cancel).
    """
    if session.state in RUNNING and (run_gone or session.stuck == "gone"):
        return Verdict("gone", confirm=False)
    start = since(session)
    age = now - start if start is not None else 0.0
    auto_stop = False
    if session.state == "queued":
        mark = "queued" if age > limits.queued_minutes * 60 else None
    elif session.state == "in_progress":
        mark = "running" if age > limits.running_minutes * 60 else None
        auto_stop = limits.auto_stop_after_minutes is not None and age > limits.auto_stop_after_minutes * 60
    else:
        # A session with no pull request has no timeline to wait for.
        stale = session.pr_number is not None and start is not None and age > UNFINISHED_AFTER
        mark = "unfinished" if stale and session.timeline_outcome is None else None
    return Verdict(mark, auto_stop, confirm=mark is not None and mark != session.stuck)


def old_enough(session, now: float) -> bool:
    """Whether a queued or running session could be past any limit (the smallest is a minute)."""
    start = since(session)
    return start is not None and now - start > SMALLEST_LIMIT


def candidates(conn: Connection, now: float) -> list:
    """The sessions worth a look at `now`: every one not finished and created over SMALLEST_LIMIT
    ago, and the finished ones created within RECENT whose timeline never said they finished or
    that carry a mark. Backfilled sessions never (the bot says nothing about those). Each state is
    a range of the index on (state, created_at), never a scan of the table."""
    live = (sessions.c.state.in_(RUNNING), sessions.c.created_at <= now - SMALLEST_LIMIT)
    finished = (sessions.c.state.in_(FINISHED), sessions.c.created_at >= now - RECENT,
                or_(sessions.c.timeline_outcome.is_(None), sessions.c.stuck.is_not(None)))
    found = []
    for where in (live, finished):  # two ranges, rather than one OR the planner may read as a scan
        found += conn.execute(select(sessions).where(*where, sessions.c.backfilled.is_(False))).all()
    return sorted(found, key=lambda row: (row.repository_id, row.created_at, row.id))


def set_mark(conn: Connection, session, mark: str | None, now: float) -> bool:
    """Give `session` `mark` (None: clear it) if it is still as the caller read it (same state, same
    mark): a webhook that changed it meanwhile wins. Whether the mark was written."""
    if mark is not None and mark not in MARKS:
        raise ValueError(f"unknown mark {mark!r}")
    same_mark = sessions.c.stuck.is_(None) if session.stuck is None else sessions.c.stuck == session.stuck
    result = conn.execute(update(sessions).where(sessions.c.id == session.id, sessions.c.state == session.state,
                                                 same_mark)
                          .values(stuck=mark, stuck_at=None if mark is None else now, updated_at=time.time()))
    return result.rowcount == 1
