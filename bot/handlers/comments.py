"""From pull-request comments to command jobs: one command run per command line, one job per comment.

A command run is keyed by (comment id, position, line), so a redelivered or retried delivery never
enqueues the same command twice, and an edit runs only the command lines it added. A person who
gives more than `COMMAND_RATE_LIMIT` commands a minute in one repository gets one notice; the
rest of that minute's commands are ignored.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import func, select

from bot.commands.command_lines import added_commands, find_commands
from bot.db import command_runs, dialect_insert, repositories, serialise
from bot.errors import PermanentError
from bot.events import Context, on
from bot.jobs import URGENT
from bot.patterns import linear
from bot.redact import redact
from bot.shapes import ID, INSTALLATION, NUMBER, REPOSITORY, TEXT, Maybe
from bot.github import api
from bot.github.errors import GitHubError

_SLASH_LINE = linear(r"(?:^|\r)\s*/", multiline=True)  # RE2's ^ follows \n only; GitHub also ends lines at \r
WINDOW = 60.0
_RATE_LIMIT_LOCK = 1  # the first part of the advisory lock key of one person's commands in a repository
# A command's GitHub writes (the 👀 reaction, the reply, a cancel), and the least time one is counted
# as taking, for turns to keep their order when writes are not paced (GITHUB_WRITE_INTERVAL_SECONDS=0).
WRITES_PER_COMMAND, MIN_WRITE_SECONDS = 3, 0.01
COMMENT = {"installation": INSTALLATION, "repository": REPOSITORY, "issue": {"number": NUMBER},
           "comment": {"id": ID, "body": Maybe(TEXT)}, "sender": {"login": TEXT, "id": ID, "type": Maybe(TEXT)},
           "changes": Maybe({"body": Maybe({"from": Maybe(TEXT)})})}
log = logging.getLogger(__name__)


def may_hold_command(payload: dict) -> bool:
    """Whether a comment can hold a command at all: a person's, on a pull request, with a line that
    starts with a slash (every prefix does). Decided in the acknowledgement, so no job runs for the
    rest; a payload it cannot read raises, and then the job's shape check says what is wrong."""
    body, issue = payload["comment"]["body"], payload["issue"]
    if body is None:
        return False  # a comment without text
    if not isinstance(issue, dict):
        return True  # unreadable: the job's shape check says so
    return "pull_request" in issue and payload["sender"].get("type") != "Bot" and bool(_SLASH_LINE.search(body))


@on("issue_comment.created", "issue_comment.edited", shape=COMMENT, wants=may_hold_command, urgent=True)
def receive_comment(ctx: Context) -> None:
    """Queue the commands of a human's comment on a pull request."""
    payload = ctx.payload
    if not may_hold_command(payload):
        return  # most comments: no need to read the repository's config to know there is no command
    comment = payload["comment"]
    body = comment["body"]
    repository = payload["repository"]
    config, _problem, _sha = ctx.runtime.repo_configs.get(ctx.github, repository["full_name"])
    if ctx.action == "edited":
        previous = ((payload.get("changes") or {}).get("body") or {}).get("from", "")
        lines = added_commands(body, previous, config.prefix)
    else:
        lines = find_commands(body, config.prefix)
    if not lines:
        return
    if not _covered(ctx, repository):
        # A signed delivery GitHub would not send: act on nothing, and leave the reason on the
        # delivery's job (dead, with this message) for an operator to see.
        log.warning("refused the commands of comment %s: installation %s does not cover repository %s (id %s)",
                    comment["id"], ctx.installation_id, repository["full_name"], repository["id"])
        raise PermanentError(f"installation {ctx.installation_id} does not cover repository "
                             f"{repository['full_name']} (id {repository['id']}); its commands were not run")
    now = time.time()
    sender = payload["sender"]
    queue = ctx.runtime.queue
    with ctx.runtime.engine.begin() as conn:
        # Count, then insert, as one: two comments of one person at once must not both pass the limit.
        serialise(conn, _RATE_LIMIT_LOCK, repository["id"], sender["id"])
        recent = _recent(conn, repository["id"], sender["id"], now - WINDOW)
        waiting = _waiting(conn, ctx.installation_id, sender["id"])
        run_ids = []
        for line in lines:
            state = "pending"
            if recent["all"] >= ctx.runtime.settings.command_rate_limit:
                if recent["limited"]:
                    continue  # already told; ignore quietly until the minute is over
                state = "limited"
            values = dict(installation_id=ctx.installation_id, repository_id=repository["id"],
                          repository=repository["full_name"], pr_number=payload["issue"]["number"],
                          # Kept redacted: a line may carry a secret (a `/session start` prompt is free text).
                          comment_id=comment["id"], position=line.position, text=redact(line.text)[:500],
                          sender_login=sender["login"], sender_id=sender["id"], state=state,
                          reply_uncertain=False, reacted=False, created_at=now)
            statement = dialect_insert(conn, command_runs).values(**values).on_conflict_do_nothing(
                index_elements=["comment_id", "position", "text"]).returning(command_runs.c.id)
            run_id = conn.execute(statement).scalar_one_or_none()
            if run_id is not None:
                run_ids.append(run_id)
                recent["all"] += 1
                recent["limited"] += state == "limited"
        if run_ids:
            # One job per comment: its commands run in the order they were written. Writes are paced
            # per installation, so each person's commands take turns with everyone else's: each of
            # theirs still waiting puts this job one command's writes later, and a flood delays its
            # sender, not the next person.
            share = max(ctx.runtime.settings.github_write_interval, MIN_WRITE_SECONDS) * WRITES_PER_COMMAND
            queue.enqueue(conn, "command", {"runs": run_ids}, run_at=now + waiting * share, priority=URGENT)
    queue.wake()


def _covered(ctx: Context, repository: dict) -> bool:
    """Whether the delivery's installation covers its repository (that id under that name): the
    index says so, or else GitHub does, by letting the installation read the repository."""
    with ctx.runtime.engine.connect() as conn:
        known = conn.execute(select(repositories.c.installation_id, repositories.c.full_name).where(
            repositories.c.id == repository["id"])).first()
    if known and known.installation_id == ctx.installation_id \
            and known.full_name.lower() == repository["full_name"].lower():
        return True
    try:
        found = api.repository(ctx.github, repository["full_name"])
    except GitHubError as exc:
        if exc.status in (403, 404):
            return False  # GitHub hides what an installation cannot see
        raise
    return isinstance(found, dict) and found.get("id") == repository["id"]


def _waiting(conn, installation_id: int, sender_id: int) -> int:
    """How many of the sender's commands in this installation are still waiting for their answer."""
    return conn.execute(select(func.count()).select_from(command_runs).where(
        command_runs.c.installation_id == installation_id, command_runs.c.sender_id == sender_id,
        command_runs.c.state == "pending")).scalar_one()


def _recent(conn, repository_id: int, sender_id: int, since: float) -> dict[str, int]:
    """The sender's commands in this repository since `since`: all of them, and rate-limit notices."""
    rows = conn.execute(select(command_runs.c.state, func.count()).where(
        command_runs.c.repository_id == repository_id, command_runs.c.sender_id == sender_id,
        command_runs.c.created_at >= since).group_by(command_runs.c.state)).all()
    counts = dict(rows)
    return {"all": sum(counts.values()), "limited": counts.get("limited", 0)}
