"""Reading the session index: pages of sessions, a pull request's sessions, and which one a command means.

Pure reads of the database (no GitHub): what the commands, the status comment and the CLI show.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection, Engine

from bot.db import pull_commits, pull_requests, sessions
from bot.sessions import model

PAGE_SIZE = 50

@dataclass(frozen=True)
class Page:
    """Sessions newest first, and the cursor of the next page (None on the last)."""

    items: list
    cursor: str | None


def _filters(*, installation_id=None, repository_id=None, repository=None, pr_number=None, state=None,
             starter=None) -> list:
    found = []
    for column, value in ((sessions.c.installation_id, installation_id), (sessions.c.repository_id, repository_id),
                          (sessions.c.repository, repository), (sessions.c.pr_number, pr_number),
                          (sessions.c.state, state), (sessions.c.starter, starter)):
        if value is not None:
            found.append(column == value)
    return found


def list_sessions(conn: Connection, *, limit: int = PAGE_SIZE, cursor: str | None = None, **filters) -> Page:
    """Sessions matching the filters (installation_id, repository_id, repository, pr_number, state,
    starter), newest first, one keyset page after `cursor`."""
    where = _filters(**filters)
    if cursor:
        created, session_id = _decode(cursor)
        where.append(or_(sessions.c.created_at < created,
                         and_(sessions.c.created_at == created, sessions.c.id < session_id)))
    rows = conn.execute(select(sessions).where(*where)
                        .order_by(sessions.c.created_at.desc(), sessions.c.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode(rows[-1].created_at, rows[-1].id) if more else None)


def sessions_of_pull(conn: Connection, repository_id: int, number: int) -> list:
    """A pull request's sessions by their number (1, 2, …); unnumbered ones are not linked yet."""
    return conn.execute(select(sessions).where(sessions.c.repository_id == repository_id,
                                               sessions.c.pr_number == number)
                        .order_by(sessions.c.number)).all()


def numbered_sessions(conn: Connection, repository_id: int, number: int) -> list:
    """A pull request's sessions that have their number on it (1, 2, …), in order."""
    return [s for s in sessions_of_pull(conn, repository_id, number) if s.number is not None]


class NoSuchSession(LookupError):
    """A command named a session number the pull request does not have."""

    def __init__(self, number: int):
        super().__init__(f"there is no session {number} on this pull request.")
        self.number = number


def pick(numbered: list, *, number: int | None = None, every_running: bool = False,
         latest_running: bool = False) -> list:
    """Which of a pull request's numbered sessions a command means: session `number` (NoSuchSession
    if there is none), every running one, or the latest (the latest running one with
    `latest_running`); empty when there is none of the kind asked for."""
    if number is not None:
        found = [s for s in numbered if s.number == number]
        if not found:
            raise NoSuchSession(number)
        return found
    running = [s for s in numbered if s.state in model.RUNNING]
    if every_running:
        return running
    return (running if latest_running else numbered)[-1:]


def commits_of_session(conn: Connection, session) -> list:
    """The commits of the session's pull request made while it ran (its progress), oldest first."""
    if session.pr_number is None:
        return []
    where = [pull_commits.c.repository_id == session.repository_id, pull_commits.c.pr_number == session.pr_number,
             pull_commits.c.committed_at >= session.created_at]
    if session.finished_at is not None:
        where.append(pull_commits.c.committed_at <= session.finished_at)
    return conn.execute(select(pull_commits).where(*where)
                        .order_by(pull_commits.c.committed_at, pull_commits.c.sha)).all()


def has_session(engine: Engine, repository_id: int, run_id: int) -> bool:
    """Whether the index knows run `run_id` as a session."""
    with engine.connect() as conn:
        return conn.execute(select(sessions.c.id).where(sessions.c.repository_id == repository_id,
                                                        sessions.c.run_id == run_id)).first() is not None


def pull_row(engine: Engine, repository_id: int, number: int):
    """The pull request's row in the index (a person's PR has one once a session ran on it), or None."""
    with engine.connect() as conn:
        return conn.execute(select(pull_requests).where(pull_requests.c.repository_id == repository_id,
                                                        pull_requests.c.number == number)).first()


def _encode(created_at: float, session_id: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at!r}:{session_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, int]:
    try:
        created, _, session_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        return float(created), int(session_id)
    except ValueError:
        raise ValueError(f"not a session cursor: {cursor!r}") from None
