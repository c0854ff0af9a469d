"""Starting a Copilot task as a person, with their own GitHub token: the Agents page's New task (and
`POST /api/tasks`) and `/session start` share it.

GitHub's Agent tasks API takes only a person's token, never the installation's, so the task is the
person's own: GitHub checks their access and their Copilot plan. What GitHub answers is recorded in
the index at once (bot/sessions/tasks.py), so the task shows as queued before any run exists; it
joins its pull request and run later, by the artifacts a refresh reads (bot/handlers/task_refresh.py).

GitHub's refusals become TaskRefused, in plain words: a plan or an organisation without the API
(403, 404 or 422: the statuses GitHub documents for it), or a token GitHub no longer takes (401).
The App lacking the Agent tasks permission stays a MissingPermission (a GitHubError too), for the
caller to name the permission and who grants it. The prompt is never logged here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.github import api
from bot.github.errors import GitHubError, MissingPermission
from bot.sessions import tasks

PROMPT_LIMIT = 16_000  # characters of a prompt from the page (GitHub documents none; a comment's line is shorter)
PLAN = "plan"  # TaskRefused kinds
TOKEN = "token"
REFUSED = "refused"


@dataclass(frozen=True)
class Target:
    """Where a task starts: an installed repository."""

    installation_id: int
    repository_id: int
    repository: str  # owner/name


class TaskRefused(Exception):
    """GitHub would not start the task. `kind`: PLAN (the plan or organisation lacks the API), TOKEN
    (GitHub no longer takes the person's token) or REFUSED (anything else it refused); `said` is
    GitHub's own message (outside text: escape or make it inert before showing it)."""

    def __init__(self, kind: str, status: int, reason: str, said: str):
        super().__init__(reason)
        self.kind, self.status, self.reason, self.said = kind, status, reason, said


def start(runtime, token: str, target: Target, prompt: str, *, person: tuple[int, str], model: str | None = None,
          base_ref: str | None = None, head_ref: str | None = None, create_pull_request: bool = True):
    """Start a task in `target` as `person` (GitHub user id, login) with their `token`, and record
    it; the index's row (state queued). Raises TaskRefused, MissingPermission (the App lacks
    `agent_tasks`), and TransientError (`ambiguous`: the task may have started; look before again)."""
    client = runtime.github.user(token)
    try:
        answer = api.start_task(client, target.repository, prompt, model=model, base_ref=base_ref,
                                head_ref=head_ref, create_pull_request=create_pull_request)
    except MissingPermission:
        raise
    except GitHubError as exc:
        raise refused(exc, target.repository) from None
    return record(runtime, target, answer, person=person, model=model)


def record(runtime, target: Target, answer: dict, *, person: tuple[int, str], model: str | None = None):
    """Keep what GitHub answered of a task of `target`, asked by `person`; the index's row."""
    with runtime.engine.begin() as conn:
        return tasks.record_task(conn, answer, installation_id=target.installation_id,
                                 repository_id=target.repository_id, repository=target.repository,
                                 now=time.time(), person=person, model=model)


def refused(exc: GitHubError, repository: str) -> TaskRefused:
    """GitHub's refusal to start a task in `repository`, in plain words."""
    said = " ".join(str(exc.message or "").split())[:200]
    if exc.status == 401:
        return TaskRefused(TOKEN, 401, "GitHub no longer accepts your token: it expired or was revoked. "
                                       "Sign in again.", said)
    if exc.status in (403, 404, 422):
        return TaskRefused(PLAN, exc.status, (
            f"GitHub refused to start a Copilot task in {repository} (it answered {exc.status}). Starting "
            "tasks needs a Copilot Business or Enterprise plan, and the repository's organisation must allow "
            "Copilot's cloud agent and its API (a public preview); an owner of the organisation decides."), said)
    return TaskRefused(REFUSED, exc.status, f"GitHub refused to start the task (it answered {exc.status}).", said)
