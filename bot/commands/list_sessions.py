"""`/session list` (alias `status`): this pull request's sessions as a table."""

from __future__ import annotations

import time

from bot.commands.invoke import NONE_YET
from bot.commands.session_text import sessions_table
from bot.commands.registry import command
from bot.sessions.queries import latest_stops, numbered_sessions


@command("list", aliases=("status",), summary="List this pull request's agent sessions.")
def list_sessions(invocation, args) -> str:
    """The pull request's sessions as a table, with who stopped which, how it went and why."""
    with invocation.runtime.engine.connect() as conn:
        sessions = numbered_sessions(conn, invocation.run.repository_id, invocation.run.pr_number)
        stops = latest_stops(conn, invocation.run.repository_id, [s.run_id for s in sessions])
    if not sessions:
        return NONE_YET
    return f"this pull request's Copilot agent sessions:\n\n{sessions_table(sessions, time.time(), stops=stops)}"
