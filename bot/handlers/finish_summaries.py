"""The summary on finish (`summary_on_finish: true`): a session that ends gets its log summary folded
into its pull request's status comment, and its starter is mentioned once in a new comment.

A `summary.finish` job per run attempt: it gets the summary (kept, or the log downloaded once:
bot/commands/kept_summaries.py), brings the status comment up to date itself, so that the notice
never points at a fold not there yet, then records the notice (bot/notices.py: once per session,
however often this runs).
"""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.commands import session_text
from bot.commands.kept_summaries import NotSummarised, summary_of
from bot.db import sessions
from bot.errors import TransientError
from bot.events import Context, on
from bot.handlers import status_comment
from bot.jobs import Job, handles
from bot.log_summaries import LogNotReady
from bot.notices import notify
from bot.patterns import linear
from bot.sessions import model

# A GitHub login: only such a name is mentioned (a starter is outside text like any other).
_LOGIN = linear(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


@on("workflow_run.completed")
def session_finished(ctx: Context) -> None:
    """Queue the summary on finish of a live session on a pull request (the job reads the repository's
    config: most repositories have not opted in)."""
    repository, run = ctx.payload["repository"], ctx.payload["workflow_run"]
    with ctx.runtime.engine.begin() as conn:
        row = conn.execute(select(sessions.c.pr_number, sessions.c.backfilled, sessions.c.run_attempt).where(
            sessions.c.repository_id == repository["id"], sessions.c.run_id == run["id"])).first()
        if row is None or row.pr_number is None or row.backfilled:
            return
        ctx.runtime.queue.enqueue(conn, "summary.finish", dict(
            installation_id=ctx.installation_id, repository_id=repository["id"], repository=repository["full_name"],
            run_id=run["id"], run_attempt=row.run_attempt),
            dedupe_key=f"summary.finish:{repository['id']}:{run['id']}:{row.run_attempt}")


@handles("summary.finish")
def fold_summary(runtime, job: Job) -> None:
    """Fold a finished session's log summary into the status comment, then mention its starter once."""
    args = job.args
    with runtime.engine.connect() as conn:
        session = conn.execute(select(sessions).where(sessions.c.repository_id == args["repository_id"],
                                                      sessions.c.run_id == args["run_id"])).first()
    if (session is None or session.pr_number is None or session.number is None or session.state in model.RUNNING
            or session.run_attempt != args["run_attempt"]):
        return  # gone, not on a pull request, or running again (its next attempt has its own job)
    client = runtime.github.installation(args["installation_id"])
    config, _problem, _sha = runtime.repo_configs.get(client, args["repository"])
    if not config.summary_on_finish:
        return
    try:
        summary_of(runtime, client, session)
        summarised = True
    except LogNotReady as exc:
        # GitHub writes the log shortly after the run ends; the queue retries, JOB_MAX_ATTEMPTS times.
        raise TransientError(f"GitHub has not published the log of session {session.number} yet") from exc
    except NotSummarised:  # kept as such: the fold says so, and nobody tries again
        summarised = False
    shown = status_comment.refresh(runtime, dict(installation_id=args["installation_id"],
                                                 repository_id=args["repository_id"],
                                                 repository=args["repository"], pr_number=session.pr_number), job)
    if session.starter and _LOGIN.match(session.starter):
        with runtime.engine.begin() as conn:
            notify(conn, runtime.queue, session, kind="finished",
                   body=finished_notice(session, summarised=summarised, shown=shown, prefix=config.prefix))


def finished_notice(session, *, summarised: bool, shown: bool, prefix: str) -> str:
    """`@mona session 2 finished: failed, 14m 05s.` and where its summary is (`shown`: in the status comment)."""
    word = session_text.STATES.get(session.state, ("", session.state))[1]
    took = session_text.session_duration(session, time.time())  # finished: its end, not now
    if not shown:
        where = f"`{prefix} log {session.number}` shows what the agent did."
    elif summarised:
        where = "Its log summary is in the status comment above."
    else:
        where = "Its log could not be summarised; the status comment above says why, and links the whole log."
    return f"@{session.starter} session {session.number} finished: {word}, {took}. {where}"
