"""The status comment: one per pull request with live sessions, edited in place on every change.

Created with the first live (not backfilled) session and finalised when the pull request closes.
Changes are coalesced (bot/status_updates.py: how anything asks for an update): every change within
one `STATUS_COMMENT_INTERVAL_SECONDS` window queues the same job, which reads the latest state.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import select, update

from bot.commands import status_text
from bot.commands.kept_summaries import kept_of
from bot.commands.registry import hint
from bot.commands.run_totals import pr_totals
from bot.commands.session_text import sessions_table
from bot.db import dialect_insert, jobs, pull_requests, sessions, status_comments
from bot.errors import RetryLater
from bot.events import Context, on
from bot.github import api
from bot.jobs import Job, handles
from bot.sessions import model
from bot.sessions.insights import run_seconds_of_pull
from bot.sessions.queries import latest_stops, numbered_sessions
from bot.status_updates import KIND, request  # `request`: how anything asks for this comment's update

MARKER = "<!-- session-bot:status -->"


def status_body(pr_sessions, *, closed: str | None, now: float, prefix: str, stops: dict | None = None,
                kept: dict | None = None, public_url: str | None = None, run_seconds: dict | None = None) -> str:
    """The comment's body: the sessions table (the running one highlighted, who stopped which: `stops`),
    how long the finished ones ran (`run_seconds`, by run id), the kept log summaries (`kept`, by run id:
    bot/commands/status_text.py keeps it all under GitHub's limit) and a hint naming the commands with
    the repository's `prefix`."""
    running = [s for s in pr_sessions if s.state in model.RUNNING]
    if closed:
        headline = f"This pull request was {closed}; this is the final record of its Copilot agent sessions."
    elif running:
        headline = f"Copilot is working: session {running[-1].number} is running."
    else:
        headline = "No Copilot agent session is running."
    if totals := pr_totals(pr_sessions, run_seconds or {}):
        headline += f" {totals}"
    return status_text.fitted(f"{MARKER}\n### Copilot agent sessions\n\n{headline}",
                              sessions_table(pr_sessions, now, highlight_running=True, stops=stops), hint(prefix),
                              pr_sessions, kept or {}, prefix=prefix, public_url=public_url)


@on("workflow_run", "workflow_job")
def session_changed(ctx: Context) -> None:
    """After the index took a run's news: refresh its pull request's comment, if it has live sessions."""
    run_id = (ctx.payload.get("workflow_run") or {}).get("id") or (ctx.payload.get("workflow_job") or {}).get("run_id")
    repository = ctx.payload.get("repository") or {}
    with ctx.runtime.engine.connect() as conn:
        row = conn.execute(select(sessions.c.pr_number, sessions.c.backfilled).where(
            sessions.c.repository_id == repository.get("id"), sessions.c.run_id == run_id)).first()
    if row is not None and row.pr_number is not None and not row.backfilled:
        request(ctx.runtime, installation_id=ctx.installation_id, repository_id=repository["id"],
                repository=repository["full_name"], pr_number=row.pr_number)


@on("pull_request.closed", "pull_request.reopened", "pull_request.synchronize")
def pull_changed(ctx: Context) -> None:
    """A pull request with a status comment closed (finalise it) or moved on (refresh it)."""
    repository = ctx.payload["repository"]
    number = ctx.payload["pull_request"]["number"]
    with ctx.runtime.engine.connect() as conn:
        known = conn.execute(select(status_comments.c.pr_number).where(
            status_comments.c.repository_id == repository["id"], status_comments.c.pr_number == number)).first()
    if known:
        request(ctx.runtime, installation_id=ctx.installation_id, repository_id=repository["id"],
                repository=repository["full_name"], pr_number=number)


@handles(KIND)
def update_status(runtime, job: Job) -> None:
    """Create or edit the status comment of one pull request."""
    refresh(runtime, job.args, job)


def refresh(runtime, args: dict, job: Job) -> bool:
    """Create or edit the status comment of the pull request `args` names, as `job`; True when the
    comment on GitHub now shows its latest state (False: the bot does not keep one there)."""
    engine = runtime.engine
    with engine.connect() as conn:
        pr_sessions = numbered_sessions(conn, args["repository_id"], args["pr_number"])
        pull = conn.execute(select(pull_requests.c.state).where(
            pull_requests.c.repository_id == args["repository_id"],
            pull_requests.c.number == args["pr_number"])).first()
        stops = latest_stops(conn, args["repository_id"], [s.run_id for s in pr_sessions])
        run_seconds = run_seconds_of_pull(conn, args["repository_id"], args["pr_number"])
    if not any(not s.backfilled for s in pr_sessions):
        return False  # only backfilled sessions: the bot never comments on those
    closed = pull.state if pull and pull.state in ("closed", "merged") else None
    # The config before the body: the hint names the commands with the repository's prefix.
    client = runtime.github.installation(args["installation_id"])
    config, _problem, _sha = runtime.repo_configs.get(client, args["repository"])
    kept = None
    if config.summary_on_finish:  # what is kept only: the status comment never downloads a log
        with engine.connect() as conn:
            kept = kept_of(conn, pr_sessions, newest=status_text.MAX_FOLDS)
    body = status_body(pr_sessions, closed=closed, now=time.time(), prefix=config.prefix, stops=stops, kept=kept,
                       public_url=runtime.settings.public_url, run_seconds=run_seconds)
    digest = hashlib.sha256(body.encode()).hexdigest()
    row, inherited = _claim(engine, args, job.id)
    if row.finalised or row.body_hash == digest:
        return not row.finalised
    if not config.status_comment:
        return False  # the repository turned it off (an existing comment is left as it was)
    comment_id = row.comment_id
    if comment_id is None:
        if row.creating != job.id:
            raise RetryLater(time.time() + 2, "another job is creating the status comment")
        # Only a retry, or a job taking over from a dead one, can find a comment an earlier
        # attempt posted without recording it; the first try spends no call on looking.
        if job.attempts > 1 or inherited:
            comment_id = _find(client, args)
    if comment_id:
        api.edit_comment(client, args["repository"], comment_id, body)
    else:
        comment_id = api.post_comment(client, args["repository"], args["pr_number"], body)
    _set(engine, args, comment_id=comment_id, creating=None, body_hash=digest, finalised=bool(closed),
         edited_at=time.time())
    return True


def _claim(engine, args: dict, job_id: int):
    """The PR's status row (created if new), and whether this job took creating it over from a
    job that died; this job becomes its creator if nobody live is."""
    now = time.time()
    key = (status_comments.c.repository_id == args["repository_id"]) & (status_comments.c.pr_number == args["pr_number"])
    with engine.begin() as conn:
        conn.execute(dialect_insert(conn, status_comments).values(
            repository_id=args["repository_id"], pr_number=args["pr_number"], installation_id=args["installation_id"],
            repository=args["repository"], finalised=False, updated_at=now,
        ).on_conflict_do_nothing(index_elements=["repository_id", "pr_number"]))
        # Nobody is creating it, or its creator is no longer queued or running (dead): take over.
        live_creator = select(jobs.c.id).where(jobs.c.id == status_comments.c.creating,
                                               jobs.c.state.in_(["queued", "running"])).exists()
        before = conn.execute(select(status_comments.c.creating).where(key)).scalar()
        conn.execute(update(status_comments).where(key, status_comments.c.comment_id.is_(None), ~live_creator)
                     .values(creating=job_id, updated_at=now))
        row = conn.execute(select(status_comments).where(key)).one()
    return row, before not in (None, job_id) and row.creating == job_id


def _find(client, args: dict) -> int | None:
    """Recovery only: a comment a failed attempt may have posted before it could record it."""
    for comment in api.comments(client, args["repository"], args["pr_number"]):
        if (comment.get("body") or "").startswith(MARKER):
            return comment["id"]
    return None


def _set(engine, args: dict, **values) -> None:
    with engine.begin() as conn:
        conn.execute(update(status_comments).where(
            status_comments.c.repository_id == args["repository_id"],
            status_comments.c.pr_number == args["pr_number"]).values(updated_at=time.time(), **values))
