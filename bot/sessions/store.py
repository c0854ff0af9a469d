"""The session index in the database: merging observations, numbering, linking (queries: bot/sessions/queries.py)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from bot.db import agent_tasks, backfill_budgets, dialect_insert, pull_commits, pull_requests, sessions
from bot.redact import clipped
from bot.sessions import model, watchdog

# A commit message as kept for the session page: its first part, redacted (a message is outside text).
COMMIT_MESSAGE_LIMIT = 1000

# A backfill budget is granted at most once per installation in this many seconds (bot/handlers/backfill.py).
BUDGET_PERIOD = 86_400.0


def _record_of(row) -> model.Record:
    return model.Record(
        run_attempt=row.run_attempt, status=row.status, conclusion=row.conclusion,
        run_updated_at=row.run_updated_at, started_at=row.started_at, triggering_actor=row.triggering_actor,
        run_starter=row.starter if row.starter_source == "run" else None, created_at=row.created_at,
        head_branch=row.head_branch, head_repository_id=row.head_repository_id, html_url=row.html_url,
        actor=row.actor, pr_number=row.pr_number)


def observe(engine: Engine, *, installation_id: int, repository_id: int, repository: str, run_id: int,
            record: model.Record, backfilled: bool = False) -> Any:
    """Merge what one event or API answer says of a run into its session; returns the row.

    Idempotent, and the result is the same whatever order observations arrive in. A session
    with no pull request in its observations is linked to a known one on the same branch: the same
    head repository and ref, never the ref alone (a fork may hold a branch of the same name).
    `backfilled` marks a session first indexed by backfill; later observations never change it.
    """
    now = time.time()
    with engine.begin() as conn:
        first = dict(model.record_fields(record), starter=record.run_starter,
                     starter_source="run" if record.run_starter else None)
        first["created_at"] = record.created_at or record.run_updated_at  # a job alone does not say
        insert = dialect_insert(conn, sessions).values(
            repository_id=repository_id, run_id=run_id, installation_id=installation_id, repository=repository,
            backfilled=backfilled, indexed_at=now, updated_at=now, **first)
        conn.execute(insert.on_conflict_do_nothing(index_elements=["repository_id", "run_id"]))
        row = conn.execute(select(sessions).where(sessions.c.repository_id == repository_id,
                                                  sessions.c.run_id == run_id).with_for_update()).one()
        merged = model.merge(_record_of(row), record)
        if row.number is not None:
            merged = replace(merged, pr_number=row.pr_number)  # numbered under that PR: it stays there
        elif merged.pr_number is None and merged.head_branch and merged.head_repository_id:
            merged = replace(merged, pr_number=_pull_on_branch(conn, repository_id, merged.head_repository_id,
                                                               merged.head_branch))
        timeline_starter = row.starter if row.starter_source == "timeline" else None
        who, source = model.starter(merged.run_starter, timeline_starter)
        values = dict(model.record_fields(merged), installation_id=installation_id, repository=repository,
                      starter=who, starter_source=source)
        values["created_at"] = values["created_at"] or row.created_at
        if row.stuck is not None and not watchdog.holds(row.stuck, values["state"], row.timeline_outcome):
            values.update(stuck=None, stuck_at=None)  # it started, or finished: the watchdog's mark is past
        if any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(update(sessions).where(sessions.c.id == row.id).values(updated_at=now, **values))
        if merged.pr_number is not None and row.number is None:
            _number_sessions(conn, installation_id, repository_id, repository, merged.pr_number, now)
        return conn.execute(select(sessions).where(sessions.c.id == row.id)).one()


def _pull_on_branch(conn: Connection, repository_id: int, head_repository_id: int, branch: str) -> int | None:
    return conn.execute(select(func.max(pull_requests.c.number)).where(
        pull_requests.c.repository_id == repository_id, pull_requests.c.head_repository_id == head_repository_id,
        pull_requests.c.head_branch == branch)).scalar()


def _number_sessions(conn: Connection, installation_id: int, repository_id: int, repository: str,
                     number: int, now: float) -> None:
    """Give the pull request's unnumbered sessions the next free numbers, oldest first."""
    stub = dialect_insert(conn, pull_requests).values(
        repository_id=repository_id, number=number, installation_id=installation_id, repository=repository,
        sessions_numbered=0, updated_at=now)
    conn.execute(stub.on_conflict_do_nothing(index_elements=["repository_id", "number"]))
    last = conn.execute(select(pull_requests.c.sessions_numbered).where(
        pull_requests.c.repository_id == repository_id, pull_requests.c.number == number).with_for_update()).scalar()
    waiting = conn.execute(select(sessions.c.id).where(
        sessions.c.repository_id == repository_id, sessions.c.pr_number == number, sessions.c.number.is_(None))
        .order_by(sessions.c.created_at, sessions.c.run_id)).scalars().all()
    for session_id in waiting:
        last += 1
        conn.execute(update(sessions).where(sessions.c.id == session_id).values(number=last, updated_at=now))
    if waiting:
        conn.execute(update(pull_requests).where(pull_requests.c.repository_id == repository_id,
                                                 pull_requests.c.number == number)
                     .values(sessions_numbered=last, updated_at=now))


def observe_pull(engine: Engine, *, installation_id: int, repository_id: int, repository: str,
                 pull: dict) -> list[int]:
    """Record a pull request and link the sessions on its branch (head repository and ref); returns
    their run ids. A pull request whose head repository is unknown (a deleted fork) links none."""
    now = time.time()
    values = dict(installation_id=installation_id, repository=repository, id=pull["id"], title=pull.get("title"),
                  state="merged" if pull.get("merged_at") else pull.get("state"), draft=bool(pull.get("draft")),
                  author=(pull.get("user") or {}).get("login"),
                  assignees=json.dumps(sorted(a["login"] for a in pull.get("assignees") or [])),
                  head_branch=(pull.get("head") or {}).get("ref"), head_repository_id=model.head_repository_id(pull),
                  html_url=pull.get("html_url"),
                  created_at=model.timestamp(pull.get("created_at")),
                  github_updated_at=model.timestamp(pull.get("updated_at")), updated_at=now)
    number = pull["number"]
    with engine.begin() as conn:
        # Sessions before the pull request row, the order observe() locks them in.
        if values["head_branch"] and values["head_repository_id"]:
            conn.execute(update(sessions).where(
                sessions.c.repository_id == repository_id, sessions.c.pr_number.is_(None),
                sessions.c.head_repository_id == values["head_repository_id"],
                sessions.c.head_branch == values["head_branch"]).values(pr_number=number, updated_at=now))
        insert = dialect_insert(conn, pull_requests).values(repository_id=repository_id, number=number,
                                                            sessions_numbered=0, **values)
        stale = or_(pull_requests.c.github_updated_at.is_(None),
                    pull_requests.c.github_updated_at <= values["github_updated_at"])
        conn.execute(insert.on_conflict_do_update(index_elements=["repository_id", "number"], set_=values,
                                                  where=stale))
        _number_sessions(conn, installation_id, repository_id, repository, number, now)
        return list(conn.execute(select(sessions.c.run_id).where(
            sessions.c.repository_id == repository_id, sessions.c.pr_number == number)).scalars())


def apply_timeline(engine: Engine, repository_id: int, number: int, events: list[dict],
                   copilot_logins: tuple[str, ...]) -> int:
    """Attribute starters and outcomes of a pull request's sessions from its timeline; returns changes."""
    now, changed = time.time(), 0
    with engine.begin() as conn:
        rows = conn.execute(select(sessions).where(sessions.c.repository_id == repository_id,
                                                   sessions.c.pr_number == number).with_for_update()).all()
        facts = model.match_timeline([(r.run_id, r.created_at) for r in rows], events, copilot_logins)
        for row in rows:
            found = facts.get(row.run_id, model.TimelineFacts(None, None))
            run_starter = row.starter if row.starter_source == "run" else None
            who, source = model.starter(run_starter, found.starter)
            values = dict(starter=who, starter_source=source, timeline_outcome=found.outcome)
            if any(getattr(row, k) != v for k, v in values.items()):
                conn.execute(update(sessions).where(sessions.c.id == row.id).values(updated_at=now, **values))
                changed += 1
        _keep_commits(conn, repository_id, number, model.commits_of_timeline(events), now)
    return changed


def _keep_commits(conn: Connection, repository_id: int, number: int, commits: list, now: float) -> None:
    """Remember the pull request's commits not seen before (a commit never changes once pushed)."""
    if not commits:
        return
    known = set(conn.execute(select(pull_commits.c.sha).where(pull_commits.c.repository_id == repository_id,
                                                              pull_commits.c.pr_number == number)).scalars())
    new = {c.sha: c for c in commits if c.sha not in known}  # a timeline may list a commit twice
    if new:
        conn.execute(dialect_insert(conn, pull_commits).values([
            dict(repository_id=repository_id, pr_number=number, sha=c.sha,
                 message=clipped(c.message, COMMIT_MESSAGE_LIMIT),
                 author=clipped(c.author, 255) if c.author else None, committed_at=c.committed_at, seen_at=now)
            for c in new.values()]).on_conflict_do_nothing(index_elements=["repository_id", "pr_number", "sha"]))


def forget(engine: Engine, *, installation_id: int | None = None, repository_ids: list[int] | None = None) -> None:
    """Delete the sessions, pull requests and Copilot tasks of an uninstalled installation or removed
    repositories."""
    with engine.begin() as conn:
        for table in (sessions, pull_requests, agent_tasks):
            where = (table.c.installation_id == installation_id if installation_id is not None
                     else table.c.repository_id.in_(repository_ids or []))
            conn.execute(delete(table).where(where))
        if installation_id is not None:
            conn.execute(delete(backfill_budgets).where(backfill_budgets.c.installation_id == installation_id))


def grant_budget(engine: Engine, installation_id: int, calls: int, now: float | None = None) -> None:
    """Give an installation's backfill a fresh budget of GitHub calls, at most once per BUDGET_PERIOD.

    Keyed by installation, not by delivery: a retried delivery, or the same signed body replayed
    under a new delivery id, finds the budget already granted and adds nothing to it.
    """
    now = time.time() if now is None else now
    values = dict(calls_left=calls, granted_at=now, updated_at=now)
    with engine.begin() as conn:
        insert = dialect_insert(conn, backfill_budgets).values(installation_id=installation_id, **values)
        conn.execute(insert.on_conflict_do_update(index_elements=["installation_id"], set_=values,
                                                  where=backfill_budgets.c.granted_at <= now - BUDGET_PERIOD))


def spend_budget(engine: Engine, installation_id: int) -> bool:
    """Take one call from the installation's backfill budget; False when none is left."""
    with engine.begin() as conn:
        result = conn.execute(update(backfill_budgets).where(backfill_budgets.c.installation_id == installation_id,
                                                             backfill_budgets.c.calls_left > 0)
                              .values(calls_left=backfill_budgets.c.calls_left - 1, updated_at=time.time()))
    return result.rowcount == 1
