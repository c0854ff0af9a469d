"""`/session list` (alias `status`): this pull request's sessions as a table."""

from __future__ import annotations

import time

from bot.commands import format
from bot.commands.registry import command
from bot.sessions.store import sessions_of_pull


def sessions_table(sessions, now: float, *, highlight_running: bool = False) -> str:
    """The markdown table of a pull request's sessions (shared with the status comment)."""
    rows = ["| # | State | Started by | Started | Duration | Links |", "|---|---|---|---|---|---|"]
    for session in sessions:
        links = f"[run]({session.html_url})" if session.html_url else "—"
        if session.html_url and getattr(session, "job_id", None):
            links += f" · [log]({session.html_url}/job/{session.job_id})"
        attempt = f" (attempt {session.run_attempt})" if session.run_attempt > 1 else ""
        state = f"{format.state(session.state)}{attempt}"
        if highlight_running and session.state in format.RUNNING:
            state = f"**{state}**"
        rows.append(f"| {session.number} | {state} | "
                    f"{format.person(session.starter)} | {format.when(session.created_at)} | "
                    f"{format.session_duration(session, now)} | {links} |")
    return "\n".join(rows)


@command("list", usage="list", summary="List this pull request's agent sessions (alias: `status`).")
def list_sessions(invocation) -> str:
    with invocation.runtime.engine.connect() as conn:
        sessions = [s for s in sessions_of_pull(conn, invocation.run.repository_id, invocation.run.pr_number)
                    if s.number is not None]
    if not sessions:
        return "there are no Copilot agent sessions on this pull request yet."
    return f"this pull request's Copilot agent sessions:\n\n{sessions_table(sessions, time.time())}"
