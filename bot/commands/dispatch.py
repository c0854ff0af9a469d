"""The `command` job: for each command of a comment, acknowledge with 👀, run its handler, reply once.

A handler that fails transiently is retried by the queue; from the third attempt on, the reply
says so ("could not …: GitHub answered 502, retrying") and is edited when the outcome is known,
so nobody is left with silence. A request GitHub refuses because the installation lacks a
permission is answered once, naming the permission and where an owner grants it; no retry.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from bot import logging_config
from bot.commands import replies
from bot.commands.invoke import Invocation, answer, asker_of
from bot.commands.registry import CommandCall, commands, interpret
from bot.commands.runs import load_run, update_run
from bot.db import config_notices, dialect_insert, installations
from bot.errors import TransientError
from bot.github import api, permissions
from bot.github.errors import GitHubError, MissingPermission
from bot.inert import one_line
from bot.jobs import Job, handles
from bot.repo_config import PATH
from bot.sessions.queries import numbered_sessions

SAY_RETRYING_FROM_ATTEMPT = 3
logger = logging.getLogger(__name__)
# Import every command module now, as importing this one did by name before: besides their commands,
# they define job kinds (`log.followup`, `stop.verify`) a worker must know before its first job.
commands()


@handles("command")
def run_commands(runtime, job: Job) -> None:
    """Answer a comment's command runs in order; a retry skips those already answered."""
    for run_id in job.args["runs"]:
        run_command(runtime, job, load_run(runtime.engine, run_id))


def run_command(runtime, job: Job, run) -> None:
    """Answer one command run (see the module docstring)."""
    if run.state == "answered":
        return
    with logging_config.context(command_run=run.id, repository=run.repository, pr=run.pr_number):
        client = runtime.github.installation(run.installation_id)
        if run.state == "limited":
            limit = runtime.settings.command_rate_limit
            replies.send(runtime.engine, client, run, f"you gave more than {limit} commands in a minute here; "
                                                      "I am ignoring the rest of them until the minute is over.")
            update_run(runtime.engine, run.id, state="answered", answered_at=time.time())
            _log_answered(run, "rate-limited", "over the limit")
            return
        if not run.reacted:
            api.react(client, run.repository, run.comment_id, "eyes")
            update_run(runtime.engine, run.id, reacted=True)
        parsed, outcome = None, "answered"
        try:
            config, problem, sha = runtime.repo_configs.get(client, run.repository)
            if problem:
                _explain_config_once(runtime, client, run, problem, sha)
            parsed = interpret(run.text)
            invocation = Invocation(runtime, run, client, config)
            body = answer(parsed, invocation, asker=asker_of(invocation),
                          numbered=lambda: _numbered(runtime, run))
        except MissingPermission as exc:  # only an owner can fix this: say how, once, and end
            logger.warning("installation lacks a permission: %s", exc)
            body = missing_permission(runtime, run, exc, parsed.name if isinstance(parsed, CommandCall) else None)
            outcome = "missing a permission"
        except TransientError as exc:
            if job.attempts >= SAY_RETRYING_FROM_ATTEMPT:
                name = parsed.name if isinstance(parsed, CommandCall) else "this"
                replies.send(runtime.engine, client, load_run(runtime.engine, run.id),
                             f"could not finish `{name}` yet: {one_line(str(exc), 300)}. "
                             "Retrying; this reply will be updated.")
            raise
        replies.send(runtime.engine, client, load_run(runtime.engine, run.id), body)
        update_run(runtime.engine, run.id, state="answered", answered_at=time.time())
        _log_answered(run, parsed.name if isinstance(parsed, CommandCall) else "not understood", outcome)


def _log_answered(run, name: str, outcome: str) -> None:
    """The operator's one line per command answered: which, where, how, and how long after the comment.
    Only the bot's own words: nothing the commenter wrote."""
    logger.info("command %s on %s#%s: %s in %.1f s", name, run.repository, run.pr_number, outcome,
                time.time() - run.created_at)


def _numbered(runtime, run) -> list:
    """The numbered sessions of the commented pull request."""
    with runtime.engine.connect() as conn:
        return numbered_sessions(conn, run.repository_id, run.pr_number)


def missing_permission(runtime, run, exc: MissingPermission, name: str | None) -> str:
    """The reply when GitHub refused a request for a permission the installation lacks."""
    what = f"`{name}`" if name else "this"
    needs = permissions.describe(exc.needs) if exc.needs else "a permission it does not have"
    return (f"could not finish {what}: GitHub refused it because this installation of the App lacks "
            f"{needs}. An owner of the account can grant it in the installation's settings: "
            f"{installation_settings_url(runtime, run.installation_id)}")


def installation_settings_url(runtime, installation_id: int) -> str:
    """The installation's settings page: the account from the installation index, else from GitHub."""
    with runtime.engine.connect() as conn:
        row = conn.execute(select(installations.c.account_login, installations.c.account_type)
                           .where(installations.c.id == installation_id)).first()
    if row is None or row.account_type not in ("User", "Organization"):
        try:
            account = api.installation(runtime.github.app(), installation_id).get("account") or {}
            row = (account.get("login"), account.get("type"))
        except (GitHubError, TransientError):
            row = (None, None)  # the user form still reaches an owner's list of installations
    return permissions.settings_url(installation_id, row[0], row[1])


def _explain_config_once(runtime, client, run, problem: str, sha: str | None) -> None:
    """One comment per version of an invalid config file, on the PR where it first mattered."""
    with runtime.engine.begin() as conn:
        first = conn.execute(dialect_insert(conn, config_notices).values(
            repository_id=run.repository_id, sha=sha or "none", created_at=time.time(),
        ).on_conflict_do_nothing(index_elements=["repository_id", "sha"]).returning(
            config_notices.c.repository_id)).first()
    if first:
        api.post_comment(client, run.repository, run.pr_number, config_notice(problem))


def config_notice(problem: str) -> str:
    """The comment explaining why the repository's config file is not used (`problem` is inert markdown)."""
    return (f"<!-- session-bot:config -->\nsession-bot could not use `{PATH}` on the default branch: {problem}. "
            "It is using its defaults until the file is fixed.")
