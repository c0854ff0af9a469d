"""A pull request's sessions' run time in one line, for its status comment. Pure.

The seconds come from `bot.sessions.insights.run_seconds_of_pull`: each finished session's jobs'
time as GitHub gave it when the run completed, else its run's own start and end.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from bot.commands.session_text import duration
from bot.sessions.model import RUNNING


def pr_totals(sessions: Iterable, seconds: Mapping[int, float]) -> str:
    """`Run time: 1h 02m over 3 finished sessions, 1 still running.` for a pull request's sessions (rows
    with `run_id` and `state`) and `seconds` (run id → seconds); "" before the time of any finished
    session is known."""
    states = [(row.run_id, row.state) for row in sessions]
    finished = [run_id for run_id, state in states if state not in RUNNING]
    running = len(states) - len(finished)
    if not finished:
        return ""
    timed = [seconds[run_id] for run_id in finished if run_id in seconds]
    if not timed:
        return ""
    line = f"Run time: {duration(sum(timed))} over {_count(len(timed), 'finished session')}"
    if len(timed) < len(finished):
        line += f" ({len(finished) - len(timed)} more without a known time)"
    if running:
        line += f", {running} still running"
    return line + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
