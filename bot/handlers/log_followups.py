"""A session that ends with people waiting for its log: queue the summaries they asked for.

`/session log` on a running session (bot/commands/show_log.py) leaves a request; when the run
completes, each request becomes a `log.followup` job that posts the summary as a new comment.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.db import log_requests
from bot.events import Context, on


@on("workflow_run.completed")
def session_ended(ctx: Context) -> None:
    """Queue the summaries people asked for while this session ran."""
    repository_id, run_id = ctx.payload["repository"]["id"], ctx.payload["workflow_run"]["id"]
    with ctx.runtime.engine.begin() as conn:
        waiting = conn.execute(select(log_requests.c.command_run_id).where(
            log_requests.c.repository_id == repository_id, log_requests.c.run_id == run_id,
            log_requests.c.posted_comment_id.is_(None))).scalars().all()
        for command_run_id in waiting:
            ctx.runtime.queue.enqueue(conn, "log.followup", {"run": command_run_id},
                                      dedupe_key=f"log.followup:{command_run_id}")
