"""Copilot tasks in the index: keeping what GitHub said of a task, and the sessions it joins by its
artifacts (the rule, pure: bot/sessions/task_model.py; here the same rule in SQL). No GitHub: a job
reads the task with a person's token (bot/github/api.py) and passes GitHub's answer here.

Every function takes a Connection: a caller records a task in the transaction that records what it
did with it.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import and_, or_, select, tuple_, update
from sqlalchemy.engine import Connection

from bot.db import agent_tasks, dialect_insert, pull_requests, sessions
from bot.sessions import task_model
from bot.sessions.task_model import TaskFacts

# A session is the task's (task_model.joined): in the task's repository, its pull request is the task's
# `pull` artifact, or its branch is the task's `branch` artifact in that repository. SQL's NULL never
# equals anything, as None never matches there.
_JOINED = and_(
    agent_tasks.c.repository_id == sessions.c.repository_id,
    or_(agent_tasks.c.pull_id == pull_requests.c.id,
        and_(agent_tasks.c.head_ref == sessions.c.head_branch,
             sessions.c.head_repository_id == agent_tasks.c.repository_id)))
_SESSIONS_WITH_PULLS = sessions.outerjoin(pull_requests, and_(pull_requests.c.repository_id == sessions.c.repository_id,
                                                              pull_requests.c.number == sessions.c.pr_number))


def record_task(conn: Connection, answer: dict, *, installation_id: int, repository_id: int, repository: str,
                now: float, person: tuple[int, str] | None = None, model: str | None = None) -> Any:
    """Keep what GitHub answered of a task of `repository` (a start's, a list's or a get's answer, as
    bot/github/api.py returns it); returns the row. Idempotent, and never loses what it knew:

    - an answer older than the one kept (by GitHub's `updated_at`) changes nothing but `last_checked`;
    - what an answer does not say is kept: a list's answer (no `sessions`) keeps the model and usage
      known, and artifacts once seen stay (a task's pull request and branch do not go away);
    - `person` (GitHub user id, login) is who asked; their login is kept as the creator's when the
      task is theirs (GitHub names a creator by id alone);
    - `model` is the model asked for at the start, kept until a session names one.

    ValueError when the answer names another repository than `repository_id`.
    """
    facts = task_model.facts_of(answer)
    if facts.repository_id not in (None, repository_id):
        raise ValueError(f"task {facts.id} is of repository {facts.repository_id}, not {repository_id}")
    first = dict(_values(facts, None, person, model), installation_id=installation_id, repository_id=repository_id,
                 repository=repository, last_checked=now)
    conn.execute(dialect_insert(conn, agent_tasks).values(id=facts.id, **first)
                 .on_conflict_do_nothing(index_elements=["id"]))
    row = conn.execute(select(agent_tasks).where(agent_tasks.c.id == facts.id).with_for_update()).one()
    values = dict(_values(facts, row, person, model), installation_id=installation_id, repository=repository,
                  last_checked=max(now, row.last_checked))
    conn.execute(update(agent_tasks).where(agent_tasks.c.id == facts.id).values(**values))
    return conn.execute(select(agent_tasks).where(agent_tasks.c.id == facts.id)).one()


def _values(facts: TaskFacts, row: Any, person: tuple[int, str] | None, model: str | None) -> dict:
    """The task's columns after this answer, given the row kept (None: the first answer): what the
    answer says, else what was known."""
    old = dict(row._mapping) if row is not None else {}
    creator_login = person[1] if person and facts.creator_id == person[0] else None
    if row is not None and facts.updated_at < row.updated_at:  # an older answer: only the creator's login may be new
        return dict(creator_login=old["creator_login"] or creator_login)
    artifacts, usage = facts.artifacts, facts.usage or task_model.Usage()
    said = dict(creator_id=facts.creator_id, creator_login=creator_login, name=facts.name, html_url=facts.html_url,
                session_count=facts.session_count, model=facts.model, pull_id=artifacts.pull_id,
                ai_credits_nano=usage.ai_credits_nano, premium_requests=usage.premium_requests)
    values = {name: value if value is not None else old.get(name) for name, value in said.items()}
    branch = (artifacts.head_ref, artifacts.base_ref) if artifacts.head_ref else (old.get("head_ref"), old.get("base_ref"))
    return dict(values, model=values["model"] or model, head_ref=branch[0], base_ref=branch[1], state=facts.state,
                created_at=facts.created_at, updated_at=facts.updated_at)


def mark_checked(conn: Connection, task_ids: Iterable[str], now: float) -> None:
    """GitHub was asked about these tasks at `now` and had nothing new (a 304)."""
    ids = list(task_ids)
    if ids:
        conn.execute(update(agent_tasks).where(agent_tasks.c.id.in_(ids), agent_tasks.c.last_checked < now)
                     .values(last_checked=now))


def task(conn: Connection, task_id: str) -> Any | None:
    """The kept task, or None."""
    return conn.execute(select(agent_tasks).where(agent_tasks.c.id == task_id)).first()


def sessions_of_task(conn: Connection, task_id: str) -> list:
    """The sessions the task joins by its artifacts, oldest first (none until GitHub gives it some)."""
    return conn.execute(select(sessions).select_from(_SESSIONS_WITH_PULLS.join(agent_tasks, _JOINED))
                        .where(agent_tasks.c.id == task_id)
                        .order_by(sessions.c.created_at, sessions.c.id)).all()


def tasks_of_sessions(conn: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list]:
    """The tasks each session (repository id, run id) joins by their artifacts, oldest first; a session
    joined to none is absent. A pull request's sessions may join several tasks."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    rows = conn.execute(
        select(sessions.c.repository_id.label("session_repository_id"), sessions.c.run_id.label("session_run_id"),
               agent_tasks)
        .select_from(_SESSIONS_WITH_PULLS.join(agent_tasks, _JOINED))
        .where(tuple_(sessions.c.repository_id, sessions.c.run_id).in_(wanted))
        .order_by(agent_tasks.c.created_at, agent_tasks.c.id)).all()
    found: dict[tuple[int, int], list] = {}
    for row in rows:
        found.setdefault((row.session_repository_id, row.session_run_id), []).append(row)
    return found


def tasks_without_sessions(conn: Connection, repository_ids: frozenset[int] | None, *, since: float,
                           limit: int) -> list:
    """The newest tasks created since `since` in `repository_ids` (None: any) that join no session yet:
    started, but GitHub has not yet named (or the bot not yet read) their pull request or branch."""
    joined = (select(sessions.c.id).select_from(_SESSIONS_WITH_PULLS).where(_JOINED)
              .correlate(agent_tasks).exists())
    statement = select(agent_tasks).where(~joined, agent_tasks.c.created_at >= since)
    if repository_ids is not None:
        statement = statement.where(agent_tasks.c.repository_id.in_(sorted(repository_ids)))
    return conn.execute(statement.order_by(agent_tasks.c.created_at.desc(), agent_tasks.c.id.desc())
                        .limit(limit)).all()


def kept_tasks(conn: Connection, task_ids: Iterable[str]) -> dict[str, Any]:
    """The kept rows of these tasks, by id (those the index does not know are absent)."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    return {row.id: row for row in conn.execute(select(agent_tasks).where(agent_tasks.c.id.in_(ids)))}
