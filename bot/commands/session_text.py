"""How sessions read in comments: states with emoji, times, durations, the sessions table. Pure."""

from __future__ import annotations

import time

from bot.inert import table_cell
from bot.sessions.model import RUNNING

STATES = {
    "queued": ("⏳", "queued"),
    "in_progress": ("🟢", "running"),
    "completed": ("✅", "completed"),
    "failed": ("❌", "failed"),
    "cancelled": ("🚫", "cancelled"),
    "timed_out": ("⌛", "timed out"),
}


def state(name: str) -> str:
    """`✅ completed`."""
    emoji, word = STATES.get(name, ("❔", name))
    return f"{emoji} {word}"


def when(timestamp: float | None) -> str:
    """`2026-11-24 16:20 UTC`."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp)) if timestamp else "—"


def duration(seconds: float | None) -> str:
    """`1h 02m`, `12m 05s`, `40s`."""
    if seconds is None or seconds < 0:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def session_duration(session, now: float) -> str:
    """From the start of its current attempt to its end (or to now, while it runs)."""
    start = session.started_at or session.created_at
    end = session.finished_at if session.state not in RUNNING else now
    return duration(end - start if start and end else None)


def person(login: str | None) -> str:
    """A login (in a table cell) shown without pinging anyone (no @), escaped like all outside text:
    GitHub links nothing, notifies nobody."""
    return table_cell(login, 100) if login else "unknown"


STOP_OUTCOMES = {"sending": "stop requested", "cancel_requested": "stop requested", "cancelled": "stopped",
                 "force_cancelled": "stopped (force-cancelled)", "already_finished": "stop came too late",
                 "run_gone": "stopped (its run is gone)", "unconfirmed": "stopped (GitHub did not confirm)"}
REASON_IN_TABLE = 140  # a reason is kept up to 300 characters; a table cell shows its start


def stop_note(stopped_by: str, via: str, outcome: str, reason: str | None = None) -> str:
    """`stopped by mona (Agents page): “no longer needed”`: who stopped a session, how it went and
    why, for a table cell."""
    where = " (Agents page)" if via == "page" else ""
    who = "the operator" if stopped_by == "operator" and via == "page" else person(stopped_by)
    why = f": “{table_cell(reason, REASON_IN_TABLE)}”" if reason else ""
    return f"{STOP_OUTCOMES.get(outcome, outcome)} by {who}{where}{why}"


# What the watchdog's marks (bot/sessions/watchdog.py) say where no time is counted.
STUCK = {"unfinished": "Copilot never said it finished", "gone": "its run is gone from GitHub"}


def stuck_note(session, now: float) -> str | None:
    """`stuck for 75 min`: the watchdog's mark on a session, for a table cell; None when it has none.
    Counted to `now`, or to when the mark was set if that is later (a clock behind the watchdog's)."""
    mark = getattr(session, "stuck", None)
    if mark == "queued" or mark == "running":
        start = session.created_at if mark == "queued" else session.started_at or session.created_at
        return f"stuck for {int((max(now, session.stuck_at or now) - start) // 60)} min"
    return STUCK.get(mark)


def sessions_table(sessions, now: float, *, highlight_running: bool = False, stops: dict | None = None) -> str:
    """The markdown table of a pull request's sessions (shared with the status comment); `stops` maps a
    run id to its latest stop's (stopped_by, via, outcome, reason)."""
    rows = ["| # | State | Started by | Started | Duration | Links |", "|---|---|---|---|---|---|"]
    for session in sessions:
        links = f"[run]({session.html_url})" if session.html_url else "—"
        if session.html_url and getattr(session, "job_id", None):
            links += f" · [log]({session.html_url}/job/{session.job_id})"
        attempt = f" (attempt {session.run_attempt})" if session.run_attempt > 1 else ""
        shown = f"{state(session.state)}{attempt}"
        if highlight_running and session.state in RUNNING:
            shown = f"**{shown}**"
        if note := stuck_note(session, now):
            shown += f" · {note}"
        if stops and session.run_id in stops:
            shown += f" · {stop_note(*stops[session.run_id])}"
        rows.append(f"| {session.number} | {shown} | "
                    f"{person(session.starter)} | {when(session.created_at)} | "
                    f"{session_duration(session, now)} | {links} |")
    return "\n".join(rows)
