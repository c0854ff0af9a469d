"""A pull request's run time for its status comment (bot/commands/run_totals.py): the sessions' times
from the index, in one line of inert markdown."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.commands.run_totals import pr_totals
from bot.sessions import insights
from tests import web_index


def session(run_id: int, state: str):
    return SimpleNamespace(run_id=run_id, state=state)


@pytest.mark.parametrize("states, seconds, expected", [
    ([], {}, ""),
    (["in_progress"], {}, ""),
    (["completed", "failed"], {}, ""),  # no time known: nothing rather than "0s"
    (["completed"], {1: 65.0}, "Run time: 1m 05s over 1 finished session."),
    (["completed", "failed", "in_progress"], {1: 3000.0, 2: 720.0}, "Run time: 1h 02m over 2 finished sessions, "
                                                                    "1 still running."),
    (["completed", "cancelled"], {1: 40.0}, "Run time: 40s over 1 finished session (1 more without a known time)."),
])
def test_pr_totals(states, seconds, expected):
    assert pr_totals([session(n + 1, state) for n, state in enumerate(states)], seconds) == expected


def test_from_the_index_the_jobs_time_first_else_the_runs_own(engine):
    web_index.install(engine)
    rows = [web_index.session(engine, run, pr=7, state=state)
            for run, state in ((1, "completed"), (2, "failed"), (3, "in_progress"))]
    insights.record_run_time(engine, repository_id=101, run_id=1, run_attempt=1, jobs=[
        {"started_at": "2025-06-15T15:08:00Z", "completed_at": "2025-06-15T15:38:00Z"}])
    with engine.connect() as conn:
        seconds = insights.run_seconds_of_pull(conn, 101, 7)
    assert seconds == {1: 1800.0, 2: 25.0}  # run 2: its run's start (created + 5 s) to its end (created + 30 s)
    assert pr_totals(rows, seconds) == "Run time: 30m 25s over 2 finished sessions, 1 still running."
