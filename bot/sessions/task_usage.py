"""What Copilot tasks used, per billing unit, for the insights report: per repository and per person.

Usage comes only from GitHub's Agent tasks API (a task's sessions' `usage`, read with a person's token:
bot/handlers/task_refresh.py), and GitHub never says which Actions run a task's session was; so usage
is summed over the tasks created in the report's window, by repository and by who started them, and
shown beside run time rather than divided among sessions. AI credits and premium requests stay apart
(bot/sessions/task_model.Usage): different units, never added together.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.db import agent_tasks
from bot.sessions.task_model import Usage


def plus(one: Usage, other: Usage) -> Usage:
    """Both usages together, unit by unit (a unit neither has stays None)."""
    def add(a, b):
        return b if a is None else a if b is None else a + b
    return Usage(add(one.ai_credits_nano, other.ai_credits_nano), add(one.premium_requests, other.premium_requests))


def usage_in(conn: Connection, repository_ids: Iterable[int], *, since: float,
             until: float) -> tuple[dict[int, Usage], dict[str, Usage]]:
    """The usage of the tasks created in [since, until) in `repository_ids`: per repository id, and per
    login of who started them (lower case; tasks whose starter is unknown count for their repository only)."""
    ids = sorted(set(repository_ids))
    if not ids:
        return {}, {}
    by_repository: dict[int, Usage] = {}
    by_person: dict[str, Usage] = {}
    login = func.lower(agent_tasks.c.creator_login)
    for repository_id, who, nano, premium in conn.execute(
            select(agent_tasks.c.repository_id, login, func.sum(agent_tasks.c.ai_credits_nano),
                   func.sum(agent_tasks.c.premium_requests))
            .where(agent_tasks.c.repository_id.in_(ids), agent_tasks.c.created_at >= since,
                   agent_tasks.c.created_at < until)
            .group_by(agent_tasks.c.repository_id, login)):
        used = Usage(None if nano is None else int(nano), None if premium is None else float(premium))
        by_repository[repository_id] = plus(by_repository.get(repository_id, Usage()), used)
        if who:
            by_person[who] = plus(by_person.get(who, Usage()), used)
    return by_repository, by_person


def said(usage: Usage) -> str:
    """`12.3 AI credits · 4 premium requests`, each with its unit; "—" when no task said any."""
    parts = []
    if usage.ai_credits_nano is not None:
        parts.append(f"{usage.ai_credits():,.1f} AI credits")
    if usage.premium_requests is not None:
        parts.append(f"{usage.premium_requests:,.1f}".rstrip("0").rstrip(".") + " premium requests")
    return " · ".join(parts) or "—"
