"""Reading the session index: pages of sessions, a pull request's sessions, and which one a command means.

Pure reads of the database (no GitHub): what the commands, the status comment, the CLI and the
Agents page show. The page's reads are narrowed to the repositories its viewer may see (`Scope`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.engine import Connection, Engine

from bot.db import pull_commits, pull_requests, repositories, session_stops, session_summaries, sessions
from bot.sessions import model

PAGE_SIZE = 50
# Counting every session on each poll of the page costs ~170 ms at 10^6 (a scan): each state is
# counted off its index up to this many, and a count above it reads "10000+".
COUNT_CAP = 10_000

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
    return _keyset_page(conn, select(sessions).where(*_filters(**filters)), limit, cursor)


def _keyset_page(conn: Connection, statement, limit: int, cursor: str | None) -> Page:
    """One page of `statement`'s sessions newest first, after `cursor`: read off an index in
    (created_at, id) order, never sorted out of the whole table."""
    if cursor:
        created, session_id = decode_cursor(cursor)
        # `created_at <= …` is the index's range; the OR alone is a filter over every newer row
        # (measured on PostgreSQL at 10^6: 1.5 s for a page 700,000 rows deep, against 0.05 ms).
        statement = statement.where(sessions.c.created_at <= created,
                                    or_(sessions.c.created_at < created, sessions.c.id < session_id))
    rows = conn.execute(statement.order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
                        .limit(limit + 1)).all()
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


def session_of_run(conn: Connection, repository_id: int, run_id: int):
    """The index's row of run `run_id`'s session, or None."""
    return conn.execute(select(sessions).where(sessions.c.repository_id == repository_id,
                                               sessions.c.run_id == run_id)).first()


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


def decode_cursor(cursor: str) -> tuple[float, int]:
    """The (created_at, id) a page's cursor continues after; ValueError for anything else."""
    try:
        created, _, session_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        return float(created), int(session_id)
    except ValueError:
        raise ValueError(f"not a session cursor: {cursor!r}") from None


@dataclass(frozen=True)
class Scope:
    """Which sessions the Agents page means: those of the viewer's repositories, narrowed by its filters."""

    repository_ids: frozenset[int] | None = None  # the repositories the viewer may see; None: every one
    repository: str | None = None  # owner/name, in any case
    state: str | None = None  # one of model.STATES
    starter: str | None = None  # the login that started the session
    title: str | None = None  # part of the pull request's title, in any case; `%` and `_` mean themselves


# A session and its pull request. One object, so a statement that joins it twice has it once.
_SESSION_PULL = sessions.outerjoin(pull_requests, and_(pull_requests.c.repository_id == sessions.c.repository_id,
                                                       pull_requests.c.number == sessions.c.pr_number))


def _narrowing(conn: Connection, scope: Scope) -> list:
    """The conditions of the scope but its state: the viewer's repositories always, then each filter given."""
    where = []
    if scope.repository_ids is not None:
        where.append(sessions.c.repository_id.in_(sorted(scope.repository_ids)))
    if scope.repository:
        # By id (sessions survive a rename), through the installed repositories: a name the bot does not
        # know matches nothing, rather than a scan of every session by the name it last had.
        ids = conn.execute(select(repositories.c.id).where(
            func.lower(repositories.c.full_name) == scope.repository.lower())).scalars().all()
        where.append(sessions.c.repository_id.in_(ids))
    if scope.starter:
        where.append(sessions.c.starter == scope.starter)
    if scope.title:
        # The matching pull requests once per statement (a CTE), however many counts read them.
        titled = select(pull_requests.c.repository_id, pull_requests.c.number).where(
            pull_requests.c.title.icontains(scope.title, autoescape=True)).cte("titled")
        where.append(tuple_(sessions.c.repository_id, sessions.c.pr_number).in_(
            select(titled.c.repository_id, titled.c.number)))
    return where


def find_sessions(conn: Connection, scope: Scope, *, limit: int = PAGE_SIZE, cursor: str | None = None) -> Page:
    """The scope's sessions newest first (each with `pr_title`, `pr_url`), one keyset page after `cursor`."""
    statement = _shown().where(*_narrowing(conn, scope))
    if scope.state:
        statement = statement.where(sessions.c.state == scope.state)
    return _keyset_page(conn, statement, limit, cursor)


@dataclass(frozen=True)
class Counts:
    """Sessions per state (every state of model.STATES); a state in `more` has more than its count."""

    per_state: dict[str, int]
    more: frozenset[str]


def count_states(conn: Connection, scope: Scope, *, cap: int | None = None) -> Counts:
    """How many of the scope's sessions are in each state, whatever state the scope names (the page
    links each count to its filter). Each is counted off its index up to `cap` (COUNT_CAP)."""
    cap = COUNT_CAP if cap is None else cap
    where = _narrowing(conn, scope)
    if scope.title:
        # A title search is a scan whatever is done: one for every state, stopping at `cap` sessions in
        # all (a broad search matches most of the index); past it every count is a lower bound.
        found = select(sessions.c.state).where(*where).limit(cap).subquery()
        per_state = dict(conn.execute(select(found.c.state, func.count()).group_by(found.c.state)).all())
        full = sum(per_state.values()) >= cap
        return Counts({state: per_state.get(state, 0) for state in model.STATES},
                      frozenset(model.STATES) if full else frozenset())
    counted = [select(func.count()).select_from(
        select(sessions.c.id).where(*where, sessions.c.state == state).limit(cap + 1).subquery())
        .scalar_subquery().label(state) for state in model.STATES]
    found = conn.execute(select(*counted)).one()._mapping
    return Counts({state: min(found[state], cap) for state in model.STATES},
                  frozenset(state for state in model.STATES if found[state] > cap))


def _shown():
    """A session's row as the page shows it: with its pull request's title and address."""
    return select(sessions, pull_requests.c.title.label("pr_title"),
                  pull_requests.c.html_url.label("pr_url")).select_from(_SESSION_PULL)


def session_by_id(conn: Connection, session_id: int, repository_ids: frozenset[int] | None):
    """The session with this id (with `pr_title`, `pr_url`) if it is in one of `repository_ids`
    (None: any repository), else None: one the viewer may not see is one that does not exist."""
    statement = _shown().where(sessions.c.id == session_id)
    if repository_ids is not None:
        statement = statement.where(sessions.c.repository_id.in_(sorted(repository_ids)))
    return conn.execute(statement).first()


def repository_names(conn: Connection, repository_ids: frozenset[int] | None) -> list[str]:
    """The full names of the installed repositories among `repository_ids` (None: all), by name."""
    statement = select(repositories.c.full_name)
    if repository_ids is not None:
        statement = statement.where(repositories.c.id.in_(sorted(repository_ids)))
    return sorted(conn.execute(statement).scalars(), key=str.lower)


def stops_of_session(conn: Connection, session) -> list:
    """Who asked to stop the session's run, when, from where (`via`) and what became of it, oldest first."""
    return conn.execute(select(session_stops).where(session_stops.c.repository_id == session.repository_id,
                                                    session_stops.c.run_id == session.run_id)
                        .order_by(session_stops.c.requested_at, session_stops.c.id)).all()


def latest_stops(conn: Connection, repository_id: int, run_ids: list[int]) -> dict:
    """The latest stop of each run that has one: run id → (stopped_by, via, outcome, reason)."""
    if not run_ids:
        return {}
    rows = conn.execute(select(session_stops.c.run_id, session_stops.c.stopped_by, session_stops.c.via,
                               session_stops.c.outcome, session_stops.c.reason)
                        .where(session_stops.c.repository_id == repository_id, session_stops.c.run_id.in_(run_ids))
                        .order_by(session_stops.c.id)).all()
    return {row.run_id: (row.stopped_by, row.via, row.outcome, row.reason) for row in rows}


def stored_summary(conn: Connection, session) -> str | None:
    """The kept log summary (JSON of bot.logs.summary.Summary) of the session's current attempt, or None."""
    return conn.execute(select(session_summaries.c.summary).where(
        session_summaries.c.repository_id == session.repository_id,
        session_summaries.c.run_id == session.run_id,
        session_summaries.c.run_attempt == session.run_attempt)).scalar()


def repository_named(conn: Connection, full_name: str, repository_ids: frozenset[int] | None):
    """The installed repository called `full_name` (any case) among `repository_ids` (None: any), or None."""
    statement = select(repositories).where(func.lower(repositories.c.full_name) == full_name.lower())
    if repository_ids is not None:
        statement = statement.where(repositories.c.id.in_(sorted(repository_ids)))
    return conn.execute(statement.order_by(repositories.c.id)).first()


def repositories_by_id(conn: Connection, repository_ids: list[int]) -> dict:
    """The installed repositories among these ids, by id."""
    if not repository_ids:
        return {}
    rows = conn.execute(select(repositories).where(repositories.c.id.in_(sorted(set(repository_ids))))).all()
    return {row.id: row for row in rows}
