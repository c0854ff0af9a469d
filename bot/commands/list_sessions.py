"""`/session list` (alias `status`): this pull request's sessions as a table."""

from __future__ import annotations

import time

from bot.commands.session_text import sessions_table
from bot.commands.registry import command
from bot.sessions.queries import numbered_sessions


@command("list", usage="list", summary="List this pull request's agent sessions (alias: `status`).")
def list_sessions(invocation) -> str:
    with invocation.runtime.engine.connect() as conn:
        sessions = numbered_sessions(conn, invocation.run.repository_id, invocation.run.pr_number)
    if not sessions:
        return "there are no Copilot agent sessions on this pull request yet."
    return f"this pull request's Copilot agent sessions:\n\n{sessions_table(sessions, time.time())}"
