"""Reading and updating command runs: what each command line is, and how far answering it got."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.db import command_runs


def load_run(engine, run_id: int):
    """The command_runs row `run_id`."""
    with engine.connect() as conn:
        return conn.execute(select(command_runs).where(command_runs.c.id == run_id)).one()


def update_run(engine, run_id: int, **values) -> None:
    """Record progress on a command run, in a transaction of its own."""
    with engine.begin() as conn:
        conn.execute(update(command_runs).where(command_runs.c.id == run_id).values(**values))
