"""New task on the Agents page and `POST /api/tasks`: what the form (or the JSON) asks for, checked,
then started with the signed-in person's own token (bot/commands/task_starts.py).

The token is the browser session's: starting a task needs no token kept beyond it (only following
the task afterwards does: bot/handlers/task_refresh.py). The operator's ADMIN_TOKEN has no GitHub
token behind it, so it cannot start a task. Every refusal is a `Refused` in plain words; the prompt
is outside text and is never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping

from bot.commands import task_starts
from bot.commands.dispatch import installation_settings_url
from bot.errors import RetryLater, TransientError
from bot.github.api import TASK_MODELS
from bot.github.errors import MissingPermission
from bot.github.oauth import OAuthUnavailable
from bot.patterns import linear
from bot.sessions import queries
from bot.web.viewer import Viewer

log = logging.getLogger(__name__)

# A branch name as git allows it, roughly: no spaces, controls or `..`; GitHub refuses the rest (422).
_REF = linear(r"[^\s~^:?*\[\\\x00-\x1f\x7f]{1,255}")


@dataclass(frozen=True)
class NewTask:
    """What a person asked for: a repository they can see, a prompt, and optionally a base branch and model."""

    repository: str
    prompt: str
    base_ref: str | None = None
    model: str | None = None


class Refused(Exception):
    """The task was not started: `status` for the answer, `message` (the bot's words) and `said`
    (GitHub's own message, outside text, or "")."""

    def __init__(self, status: int, message: str, said: str = ""):
        super().__init__(message)
        self.status, self.message, self.said = status, message, said


def parse(values: Mapping) -> NewTask:
    """The form's (or the JSON body's) fields, checked; Refused(400) says which one is wrong."""
    def text(name: str) -> str:
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            raise Refused(400, f"`{name}` must be a string.")
        return (value or "").strip()

    repository, prompt, base_ref, model = text("repository"), text("prompt"), text("base_ref"), text("model")
    if not repository:
        raise Refused(400, "Choose a repository.")
    if not prompt:
        raise Refused(400, "Say what Copilot should do: the prompt is empty.")
    if len(prompt) > task_starts.PROMPT_LIMIT:
        raise Refused(400, f"The prompt is longer than {task_starts.PROMPT_LIMIT:,} characters.")
    if base_ref and (not _REF.fullmatch(base_ref) or ".." in base_ref):
        raise Refused(400, "The base branch is not a branch name.")
    if model and model not in TASK_MODELS:
        raise Refused(400, "Choose a model from the list, or GitHub's default.")
    return NewTask(repository, prompt, base_ref or None, model or None)


def start(runtime, viewer: Viewer, new: NewTask, token_of):
    """Start `new` as the viewer with `token_of(user_id)` (their browser session's token, None when it
    is gone); the index's row of the task, queued. Raises Refused."""
    if viewer.user_id is None or viewer.login is None:
        raise Refused(403, "Starting a task takes your own GitHub token: sign in with GitHub. "
                           "The operator's token cannot start one.")
    with runtime.engine.connect() as conn:
        found = queries.repository_named(conn, new.repository, viewer.repository_ids)
    if found is None:
        raise Refused(422, "There is no such repository among those the App is installed on and you can access.")
    target = task_starts.Target(found.installation_id, found.id, found.full_name)
    try:
        token = token_of(viewer.user_id)
        if token is None:
            raise Refused(401, "Your GitHub sign-in has expired: sign in again.")
        return task_starts.start(runtime, token, target, new.prompt, person=(viewer.user_id, viewer.login),
                                 model=new.model, base_ref=new.base_ref, create_pull_request=True)
    except task_starts.TaskRefused as refused:
        raise Refused(401 if refused.kind == task_starts.TOKEN else 403, refused.reason, refused.said) from None
    except MissingPermission:
        raise Refused(403, "This installation of the App lacks the Agent tasks permission (`agent_tasks: write`). "
                           "An owner of the account can grant it in the installation's settings: "
                           f"{installation_settings_url(runtime, found.installation_id)}") from None
    except TransientError as exc:
        log.warning("a task in %s could not be started: %s", found.full_name, exc)
        if getattr(exc, "ambiguous", False):
            raise Refused(502, "GitHub did not answer in time: the task may have started. Look at your tasks "
                               "on GitHub before starting it again.") from None
        raise Refused(503, "GitHub could not be reached. Try again in a minute.") from None
    except (RetryLater, OAuthUnavailable) as exc:
        log.warning("a task in %s could not be started: %s", found.full_name, type(exc).__name__)
        raise Refused(503, "GitHub is not taking requests for you right now. Try again in a minute.") from None
