"""`/session list` (alias `status`): this pull request's sessions as a table."""

from __future__ import annotations

import time

from bot.commands.invoke import NONE_YET
from bot.commands.session_text import sessions_table
from bot.commands.registry import command
from bot.commands.status_text import fit_table
from bot.sessions.queries import latest_stops, numbered_sessions


# A pull request with hundreds of sessions has a longer table than GitHub takes in a comment (65,536).
MAX_TABLE = 50_000


@command("list", aliases=("status",), summary="List this pull request's agent sessions.")
def list_sessions(invocation, args) -> str:
    """The pull request's sessions as a table, with who stopped which, how it went and why."""
    with invocation.runtime.engine.connect() as conn:
        sessions = numbered_sessions(conn, invocation.run.repository_id, invocation.run.pr_number)
        stops = latest_stops(conn, invocation.run.repository_id, [s.run_id for s in sessions])
    if not sessions:
        return NONE_YET
    table = fit_table(sessions_table(sessions, time.time(), stops=stops), MAX_TABLE,
                      earlier=f"`{invocation.config.prefix} log N` summarises session N")
    return f"this pull request's Copilot agent sessions:\n\n{table}"
