"""The fault-injection suite: a real bot under gunicorn, faults injected at GitHub (the fake's
`fail`, its clock, its rate limit), in PostgreSQL and in the bot's own processes (bot/faults.py).

Every case asserts the same three things: nothing lost, nothing done twice, a clear state after.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot import db
from tests.copilot_pr import PR, REPO, RUN
from tests.integration.conftest import Bot


class Faults:
    """Arms the bot's fault points (bot/faults.py) through the directory its processes watch."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._armed = 0

    def arm(self, point: str, action: str, *, times: int = 1) -> None:
        for _ in range(times):
            self._armed += 1
            (self.directory / f"{point}.{self._armed}").write_text(action)

    def pending(self) -> list[str]:
        """Armed faults no process has reached yet."""
        return sorted(p.name for p in self.directory.iterdir())


@pytest.fixture
def faults(tmp_path) -> Faults:
    directory = tmp_path / "faults"
    directory.mkdir()
    return Faults(directory)


@pytest.fixture
def bot(fake_github, app_key, tmp_path, faults):
    """A bot (call `start_web()`) on SQLite whose processes watch `faults`: for faults where the
    database plays no part (PostgreSQL's own faults use `pg_bot`)."""
    bot = Bot(fake_github, app_key, f"sqlite:///{tmp_path}/bot.sqlite3", BOT_FAULTS_DIR=faults.directory)
    yield bot
    bot.stop()


@pytest.fixture
def pg_bot(fake_github, app_key, empty_postgres_url, faults):
    """The same on PostgreSQL only."""
    bot = Bot(fake_github, app_key, empty_postgres_url, BOT_FAULTS_DIR=faults.directory)
    yield bot
    bot.stop()


def cancels(fake) -> list:
    """Cancel requests GitHub acted on (a faulted request is recorded with the fault's answer)."""
    return [c for c in fake.calls("POST", f"/repos/{REPO}/actions/runs/{RUN}/cancel") if c.status == 202]


def reply_posts(fake) -> list:
    return [c for c in fake.calls("POST", f"/repos/{REPO}/issues/{PR}/comments") if c.status == 201]


def job_states(bot, kind: str | None = None) -> set[str]:
    """The states of the jobs (of `kind`), leaving out periodic ones waiting for their slot."""
    query = db.jobs.select().where((db.jobs.c.state != "queued") | (db.jobs.c.run_at <= time.time() + 5))
    if kind:
        query = query.where(db.jobs.c.kind == kind)
    with bot.engine.connect() as conn:
        return {row.state for row in conn.execute(query)}
