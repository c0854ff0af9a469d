"""How the pages show a session's values: a state's icon, times, durations (Jinja helpers).

Times and durations read as in PR comments (bot/commands/session_text.py), so a session reads the
same in a comment and on the page.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import Blueprint

from bot.commands import session_text

# Octicons vendored in static/octicons/ (its README lists them); a state the page does not know yet: alert.
# A Copilot task's states too (bot/web/task_view.py).
ICONS = {"queued": "clock", "in_progress": "sync", "completed": "check-circle", "failed": "x-circle",
         "cancelled": "circle-slash", "timed_out": "stopwatch",
         "waiting_for_user": "person", "idle": "clock"}  # a Copilot task's states besides


def state_icon(state: str) -> str:
    """The octicon drawn beside a state's word: `in_progress` → `sync`."""
    return ICONS.get(state, "alert")


def iso(timestamp: float | None) -> str:
    """`2026-11-24T16:20:05Z`, for a `<time datetime>` (and the script's live durations)."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def duration(row) -> str:
    """From the start of its current attempt to its end, or to now while it runs: `12m 05s`."""
    return session_text.duration(row.duration(time.time()))


def web_url(url: str | None) -> str:
    """The URL if it is a web address (http or https), else "": a link never runs `javascript:`."""
    return url if url and url.lower().startswith(("https://", "http://")) else ""


def register(blueprint: Blueprint) -> None:
    """Make these helpers available to every template."""
    blueprint.add_app_template_global(state_icon)
    blueprint.add_app_template_filter(iso)
    blueprint.add_app_template_filter(web_url)
    blueprint.add_app_template_filter(session_text.when, "when")
    blueprint.add_app_template_filter(duration)
