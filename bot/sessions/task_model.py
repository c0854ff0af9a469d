"""What a Copilot task is, as pure functions: the facts of GitHub's answer about it (the Agent tasks
API, read by a handler with a person's token), its usage per billing unit, and the one rule that joins
a task to sessions: its artifacts.

A task says where its work lands (`artifacts`: a `pull` with the pull request's GitHub id, a `branch`
with its ref) but never which Actions run is its session. So a task joins the sessions of its pull
request, and those on its branch in its own repository, and nothing else: not by when a session
started, nor who started it, nor what it is called. A pull request worked on by two tasks has its
sessions joined to both; nothing GitHub gives says which session is which task's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from bot.redact import clipped
from bot.sessions.model import timestamp

AI_CREDITS, PREMIUM_REQUESTS = "ai_credits", "premium_requests"  # GitHub's billing units (`usage.type`)
NANO = 1_000_000_000  # AI credits come in nano units
NAME_LIMIT = 300
# A whole number of nano units beyond 2**53 cannot have come exactly through JSON's double.
LARGEST_AMOUNT = 2 ** 53


@dataclass(frozen=True)
class Usage:
    """What a task's sessions used, per unit, never added across units; None: no session said that unit.

    `ai_credits_nano` is the sum of whole nano units (GitHub: "sum the nano values first, and divide
    once at the end"); `premium_requests` may be fractional (older sessions, before June 2026)."""

    ai_credits_nano: int | None = None
    premium_requests: float | None = None

    def ai_credits(self) -> float | None:
        """The AI credits as a person reads them: the nano sum divided once, to one decimal place."""
        return None if self.ai_credits_nano is None else round(self.ai_credits_nano / NANO, 1)


@dataclass(frozen=True)
class Artifacts:
    """Where a task's work lands: its pull request (GitHub's id, not its number) and its branch."""

    pull_id: int | None = None
    head_ref: str | None = None
    base_ref: str | None = None


@dataclass(frozen=True)
class Place:
    """Where a session's work is: its repository, its pull request's GitHub id (None while unknown),
    and the repository and ref of its head branch."""

    repository_id: int
    pull_id: int | None
    head_repository_id: int | None
    head_branch: str | None


@dataclass(frozen=True)
class TaskFacts:
    """What one answer of GitHub says of a task. `model` and `usage` are None when the answer has no
    `sessions` (a list's answer): what was known stays."""

    id: str
    repository_id: int | None
    creator_id: int | None
    state: str
    name: str | None
    html_url: str | None
    artifacts: Artifacts
    session_count: int | None
    model: str | None
    usage: Usage | None
    created_at: float
    updated_at: float


def joined(task_repository_id: int, artifacts: Artifacts, place: Place) -> bool:
    """Whether a session is one of the task's, by the task's artifacts alone: in the task's repository,
    its pull request is the task's `pull` (the same GitHub id), or its branch is the task's `branch`
    there (the same ref in the task's repository itself: a fork may hold a branch of that name)."""
    if place.repository_id != task_repository_id:
        return False
    if artifacts.pull_id is not None and place.pull_id == artifacts.pull_id:
        return True
    return (artifacts.head_ref is not None and place.head_branch == artifacts.head_ref
            and place.head_repository_id == task_repository_id)


def usage_of(sessions: Iterable[dict]) -> Usage:
    """The task's usage from its sessions' `usage` ({"type", "amount"}); an amount that is not a
    number from 0 to LARGEST_AMOUNT, or a unit GitHub does not list, counts for nothing."""
    nano: list[int] = []
    premium: list[float] = []
    for session in sessions:
        usage = session.get("usage") if isinstance(session, dict) else None
        amount = usage.get("amount") if isinstance(usage, dict) else None
        if not _number(amount) or not 0 <= amount <= LARGEST_AMOUNT:
            continue
        if usage.get("type") == AI_CREDITS:
            nano.append(round(amount))
        elif usage.get("type") == PREMIUM_REQUESTS:
            premium.append(float(amount))
    return Usage(sum(nano) if nano else None, math.fsum(premium) if premium else None)


def artifacts_of(items: Any) -> Artifacts:
    """The first `pull` and the first `branch` artifact GitHub lists (a task makes one of each)."""
    pull_id = head_ref = base_ref = None
    for item in items if isinstance(items, list) else []:
        data = item.get("data") if isinstance(item, dict) else None
        if not isinstance(data, dict):
            continue
        if item.get("type") == "pull" and pull_id is None and _integer(data.get("id")):
            pull_id = data["id"]
        elif item.get("type") == "branch" and head_ref is None and isinstance(data.get("head_ref"), str):
            head_ref, base_ref = data["head_ref"], _text(data.get("base_ref"), 255)
    return Artifacts(pull_id, _text(head_ref, 255), base_ref)


def facts_of(answer: dict) -> TaskFacts:
    """The facts of a task as GitHub answered it (a start's, a list's or a get's answer)."""
    sessions = answer.get("sessions")
    has_sessions = isinstance(sessions, list)
    models = [s.get("model") for s in sessions or [] if isinstance(s, dict) and isinstance(s.get("model"), str)]
    created = timestamp(answer["created_at"])
    return TaskFacts(
        id=str(answer["id"]), repository_id=_id_of(answer.get("repository")), creator_id=_id_of(answer.get("creator")),
        state=str(answer["state"])[:24], name=clipped(answer["name"], NAME_LIMIT) if _text(answer.get("name"), 1) else None,
        html_url=_text(answer.get("html_url"), 512), artifacts=artifacts_of(answer.get("artifacts")),
        session_count=answer["session_count"] if _integer(answer.get("session_count")) else None,
        model=_text(models[-1], 64) if models else None, usage=usage_of(sessions) if has_sessions else None,
        created_at=created, updated_at=timestamp(answer.get("updated_at")) or created)


def _id_of(account: Any) -> int | None:
    found = account.get("id") if isinstance(account, dict) else None
    return found if _integer(found) else None


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
