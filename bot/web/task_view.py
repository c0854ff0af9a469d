"""What the Agents page and its JSON API show of Copilot tasks: a task's state, model and usage (each
unit apart, always named), the sessions it joins, and the tasks still waiting for a session.

Read from the index only (bot/sessions/tasks.py): what GitHub said when the bot last asked, with a
person's kept token (bot/handlers/task_refresh.py) or when the task was started. Narrowed to the
viewer's repositories like everything on the page; a task's name is outside text (Jinja escapes it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.patterns import linear
from bot.sessions import queries, task_model, tasks
from bot.web.viewer import Viewer

# GitHub's task states (bot.github.api.TASK_STATES), as the page names them.
TASK_LABELS = {"queued": "queued", "in_progress": "working", "completed": "completed", "failed": "failed",
               "idle": "idle", "waiting_for_user": "waiting for its user", "timed_out": "timed out",
               "cancelled": "cancelled"}
RECENT = 86_400.0  # a task with no session yet is listed on the page this long after it started
WAITING_SHOWN = 10
_TASK_ID = linear(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class TaskInfo:
    """A task as the page shows it."""

    id: str
    repository: str
    state: str  # GitHub's (TASK_LABELS)
    label: str
    model: str | None
    name: str | None  # derived by GitHub from the prompt: outside text
    html_url: str | None  # on GitHub
    creator: str | None  # login, when known
    created_at: float
    checked_at: float  # when GitHub was last asked
    ai_credits: float | None  # one decimal, from the nano sum divided once
    ai_credits_nano: int | None
    premium_requests: float | None
    page_path: str

    @property
    def usage_text(self) -> str | None:
        """`1.2 AI credits · 3 premium requests`, each unit named; None when GitHub reported none."""
        parts = []
        if self.ai_credits is not None:
            parts.append(f"{self.ai_credits:.1f} AI credits")
        if self.premium_requests is not None:
            parts.append(f"{premium(self.premium_requests)} premium request{'' if self.premium_requests == 1 else 's'}")
        return " · ".join(parts) or None

    @property
    def summary(self) -> str:
        """One short line for a list's row: `task working · gpt-5.4 · 1.2 AI credits`."""
        return " · ".join(filter(None, (f"task {self.label}", self.model, self.usage_text)))


def premium(amount: float) -> str:
    """Premium requests may be fractional: `3`, `0.5`, `1.33` (two decimals at most)."""
    rounded = round(amount, 2)
    return str(int(rounded)) if math.isclose(rounded, round(rounded)) else f"{rounded:.2f}".rstrip("0")


def info(row) -> TaskInfo:
    """The page's view of an `agent_tasks` row."""
    usage = task_model.Usage(row.ai_credits_nano, row.premium_requests)
    return TaskInfo(id=row.id, repository=row.repository, state=row.state, label=TASK_LABELS.get(row.state, row.state),
                    model=row.model, name=row.name, html_url=row.html_url, creator=row.creator_login,
                    created_at=row.created_at, checked_at=row.last_checked, ai_credits=usage.ai_credits(),
                    ai_credits_nano=row.ai_credits_nano, premium_requests=row.premium_requests,
                    page_path=f"/tasks/{row.id}")


def of_sessions(conn, found: list) -> dict[int, tuple[TaskInfo, ...]]:
    """The tasks each session (index rows) joins, by session id."""
    joined = tasks.tasks_of_sessions(conn, [(s.repository_id, s.run_id) for s in found])
    return {s.id: tuple(info(t) for t in joined.get((s.repository_id, s.run_id), ())) for s in found}


def waiting(runtime, viewer: Viewer, *, now: float) -> tuple[TaskInfo, ...]:
    """The viewer's repositories' tasks started within RECENT that join no session yet, newest first."""
    with runtime.engine.connect() as conn:
        rows = tasks.tasks_without_sessions(conn, viewer.repository_ids, since=now - RECENT, limit=WAITING_SHOWN)
    return tuple(info(row) for row in rows)


def find_task(runtime, viewer: Viewer, task_id: str):
    """The task and the sessions it joins (as `queries.session_by_id` gives them, oldest first), or None
    when there is none the viewer may see."""
    if not _TASK_ID.fullmatch(task_id):
        return None
    with runtime.engine.connect() as conn:
        row = tasks.task(conn, task_id)
        if row is None or not viewer.sees(row.repository_id):
            return None
        joined = [queries.session_by_id(conn, s.id, viewer.repository_ids) for s in tasks.sessions_of_task(conn, task_id)]
    return info(row), [s for s in joined if s is not None]
