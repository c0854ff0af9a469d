"""Copilot cloud-agent tasks as the fake keeps them, and the agent working on them: what the Agent
tasks API (agent_tasks.py) serves, and helpers for tests.

A started task is queued, with one queued session. `work` makes its Copilot run and pull request
(actions.py's `add_run` / `add_pull`) and gives the task its `pull` and `branch` artifacts; `finish`
ends its latest session, with its `usage` ({"type": "ai_credits" | "premium_requests", "amount"}).
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .actions import iso
from .openapi import spec

if TYPE_CHECKING:
    from .server import FakeGitHub

REPO_TASKS = "/agents/repos/{owner}/{repo}/tasks"
NAME_LENGTH = 80  # a task's name is "derived from the task prompt": its first line, this long at most
_RUN_CONCLUSIONS = {"completed": "success", "failed": "failure", "cancelled": "cancelled", "timed_out": "timed_out"}


@functools.cache
def models() -> tuple[str, ...]:
    """The models GitHub's description of `POST …/tasks` lists ("Currently supported values: …")."""
    body = spec().document["paths"][REPO_TASKS]["post"]["requestBody"]["content"]["application/json"]
    text = body["schema"]["properties"]["model"]["description"]
    return tuple(re.findall(r"`([^`]+)`", text.split("Currently supported values:", 1)[1]))


@dataclass
class Task:
    """One task; `Tasks.answer(task)` is GitHub's object."""

    id: str
    repo: str  # full name, as the fake spells it
    creator: str  # login
    prompt: str
    created_at: float
    updated_at: float
    base_ref: str
    head_ref: str | None = None
    model: str | None = None
    custom_agent: str | None = None
    create_pull_request: bool = False
    sessions: list[dict] = field(default_factory=list)  # GitHub's session objects, oldest first
    artifacts: list[dict] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)  # session id → its Actions run id
    archived_at: float | None = None

    @property
    def state(self) -> str:
        """"Derived from its most recent session"."""
        return self.sessions[-1]["state"]


class Tasks:
    """The fake's tasks; reached as `fake.agent_tasks`."""

    def __init__(self, fake: FakeGitHub):
        self.fake = fake
        self.tasks: dict[str, Task] = {}
        self.withheld: dict[tuple[str, str], int] = {}  # ("user", login) | ("repo", full name) → status

    def withhold(self, status: int = 403, *, login: str | None = None, repo: str | None = None) -> None:
        """A plan (or organisation) without the API: `login`'s calls, or every call on `repo`, get
        `status` (403, 404 or 422)."""
        if status not in (403, 404, 422) or (login is None) == (repo is None):
            raise ValueError("withhold(403 | 404 | 422, login=… or repo=…)")
        with self.fake._lock:
            self.withheld[("user", login.lower()) if login else ("repo", repo.lower())] = status

    def add_task(self, repo: str, login: str, prompt: str, *, model: str | None = None,
                 base_ref: str | None = None, head_ref: str | None = None, create_pull_request: bool = False,
                 custom_agent: str | None = None) -> dict:
        """A task `login` started on `repo` (by `POST …/tasks`, or on github.com): queued, with one
        queued session. Returns GitHub's object."""
        repository = self.fake.repositories[repo.lower()]
        self.fake.users.user(login)
        now = self.fake.now()
        task = Task(str(uuid.uuid4()), repository["full_name"], login, prompt, now, now,
                    base_ref or repository["default_branch"], head_ref, model, custom_agent, create_pull_request)
        with self.fake._lock:
            self.tasks[task.id] = task
            self._new_session(task, prompt, model)
        return self.answer(task)

    def add_session(self, task_id: str, prompt: str, *, state: str = "queued", model: str | None = None,
                    usage: dict | None = None) -> dict:
        """Another session of a task (a follow-up); the task's state is its latest session's."""
        with self.fake._lock:
            return dict(self._new_session(self.tasks[task_id], prompt, model, state=state, usage=usage))

    def work(self, task_id: str, run_id: int, *, pr_number: int | None = None,
             branch: str | None = None) -> tuple[dict, dict | None]:
        """The task's latest session starts: its Copilot run (in progress, on the task's `head_ref`,
        else `branch`) and, when the task asked for one, a pull request (number `pr_number`, else the
        next), or the open one on its `head_ref`; the task gets its artifacts. Returns (run, pull
        request or None), for a test to deliver their webhooks."""
        task = self.tasks[task_id]
        session = task.sessions[-1]
        branch = task.head_ref or branch or f"copilot/{task.id[:8]}"
        pull = self._pull_on(task, branch)
        if pull is None and task.create_pull_request:
            number = pr_number or max(self.fake.actions.pulls.get(task.repo.lower(), {}), default=0) + 1
            pull = self.fake.add_pull(task.repo, number, head_branch=branch, title=f"[WIP] {_name(task.prompt)}",
                                      assignees=[task.creator], created_at=self.fake.now())
        run = self.fake.add_run(task.repo, run_id, status="in_progress", conclusion=None, head_branch=branch,
                                pull_requests=[pull["number"]] if pull else [], created_at=self.fake.now(),
                                triggering_actor=task.creator)
        artifacts = [{"provider": "github", "type": "branch", "data": {"head_ref": branch, "base_ref": task.base_ref}}]
        if pull:
            artifacts.insert(0, {"provider": "github", "type": "pull",
                                 "data": {"id": pull["id"], "global_id": pull["node_id"]}})
        with self.fake._lock:
            task.runs[session["id"]] = run_id
            session.update(state="in_progress", head_ref=branch, updated_at=iso(self.fake.now()))
            task.artifacts, task.updated_at = artifacts, self.fake.now()
        return run, pull

    def finish(self, task_id: str, state: str = "completed", *, usage: dict | None = None,
               error_message: str | None = None) -> dict | None:
        """The task's latest session ends in `state`, having used `usage`; its run (if it had one)
        completes to match. Returns the run, for a test to deliver `workflow_run.completed`."""
        task = self.tasks[task_id]
        session, now = task.sessions[-1], self.fake.now()
        with self.fake._lock:
            session.update(state=state, updated_at=iso(now), completed_at=iso(now))
            if usage is not None:
                session["usage"] = dict(usage)
            if error_message is not None:
                session["error"] = {"message": error_message}
            task.updated_at = now
        run_id = task.runs.get(session["id"])
        if run_id is None:
            return None
        run = self.fake.actions.runs[task.repo.lower()][run_id]
        run.update(status="completed", conclusion=_RUN_CONCLUSIONS.get(state, "failure"), updated_at=iso(now))
        return run

    def answer(self, task: Task, *, sessions: bool = False) -> dict:
        """The task as GitHub answers it; with its `sessions` for the two get operations."""
        repository = self.fake.repositories[task.repo.lower()]
        found = {"id": task.id, "url": f"{self.fake.url}/agents/repos/{task.repo}/tasks/{task.id}",
                 "html_url": f"https://github.com/{task.repo}/copilot/tasks/{task.id}", "name": _name(task.prompt),
                 "creator": {"id": self.fake.users.user(task.creator)["id"]}, "creator_type": "user",
                 "owner": {"id": repository["owner"]["id"]}, "repository": {"id": repository["id"]},
                 "state": task.state, "session_count": len(task.sessions),
                 "artifacts": [dict(a, data=dict(a["data"])) for a in task.artifacts],
                 "archived_at": iso(task.archived_at) if task.archived_at else None,
                 "created_at": iso(task.created_at), "updated_at": iso(task.updated_at)}
        if task.custom_agent:
            found["custom_agent"] = {"id": task.custom_agent}
        if sessions:
            found["sessions"] = [dict(s) for s in task.sessions]
        return found

    def _new_session(self, task: Task, prompt: str, model: str | None, *, state: str = "queued",
                     usage: dict | None = None) -> dict:
        repository = self.fake.repositories[task.repo.lower()]
        when = iso(self.fake.now())
        session = {"id": str(uuid.uuid4()), "name": _name(prompt),
                   "user": {"id": self.fake.users.user(task.creator)["id"]},
                   "owner": {"id": repository["owner"]["id"]}, "repository": {"id": repository["id"]},
                   "task_id": task.id, "state": state, "created_at": when, "updated_at": when, "prompt": prompt,
                   "base_ref": task.base_ref, "model": model or task.model or models()[0]}
        if task.head_ref:
            session["head_ref"] = task.head_ref
        if usage is not None:
            session["usage"] = dict(usage)
        task.sessions.append(session)
        task.updated_at = self.fake.now()
        return session

    def _pull_on(self, task: Task, branch: str) -> dict | None:
        """The open pull request on the task's `head_ref`, one targeting its `base_ref` first (the
        description: "the agent looks up open PR context for `head_ref` targeting `base_ref`")."""
        if not task.head_ref:
            return None
        open_on = [p for p in self.fake.actions.pulls.get(task.repo.lower(), {}).values()
                   if p["state"] == "open" and p["head"]["ref"] == branch]
        targeting = [p for p in open_on if p["base"]["ref"] == task.base_ref]
        return (targeting or open_on or [None])[0]


def _name(prompt: str) -> str:
    first = (prompt.strip().splitlines() or [""])[0]
    return first if len(first) <= NAME_LENGTH else first[:NAME_LENGTH - 1] + "…"
