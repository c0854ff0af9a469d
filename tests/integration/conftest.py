"""Integration fixtures: the real app under gunicorn, talking to the fake GitHub over sockets."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot import db
from tests.fakegithub import payloads
from tests.servers import Gunicorn, Worker, bot_env

SECRET = "integration-secret"


class Bot:
    """A running bot: where to deliver, its database, and helpers to wait on its work."""

    def __init__(self, fake, app_key, database_url: str, **overrides):
        # Periodic jobs stay off unless a test turns them on: their next occurrence, always queued,
        # would keep `jobs_settled` from ever being true.
        overrides = {"REDELIVERY_INTERVAL_SECONDS": 0, "RETENTION_DAYS": 0, **overrides}
        self.fake = fake
        self.database_url = database_url
        self.env = bot_env(APP_ID=fake.app_id, PRIVATE_KEY=app_key.pem, WEBHOOK_SECRET=SECRET,
                           GITHUB_API_URL=fake.url, DATABASE_URL=database_url, JOB_LEASE_SECONDS=3,
                           JOB_POLL_SECONDS=0.2, JOB_RETRY_BASE_SECONDS=0.1, GITHUB_RETRIES=1,
                           GITHUB_WRITE_INTERVAL_SECONDS=0.01, GITHUB_AMBIGUOUS_WAIT_SECONDS=2,
                           STATUS_COMMENT_INTERVAL_SECONDS=0.5,
                           STOP_GRACE_SECONDS=1, REPO_CONFIG_CACHE_SECONDS=0.001,
                           TIMELINE_COALESCE_SECONDS=0.3, **overrides)
        self.engine = db.make_engine(database_url)
        self.web: Gunicorn | None = None
        self.workers: list[Worker] = []

    def start_web(self, **overrides) -> Gunicorn:
        self.web = Gunicorn({**self.env, **{k: str(v) for k, v in overrides.items()}})
        return self.web

    def start_worker(self) -> Worker:
        worker = Worker({**self.env, "BOT_INLINE_WORKERS": "0"})
        self.workers.append(worker)
        return worker

    @property
    def webhook_url(self) -> str:
        return self.web.url + "/api/github/webhooks"

    def deliver(self, event: str, payload: dict, *, delivery: str | None = None):
        return payloads.deliver(self.webhook_url, event, payload, SECRET, delivery=delivery)

    def count(self, table, *where) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()

    def wait_until(self, condition, timeout: float = 30.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := condition():
                return value
            time.sleep(0.05)
        logs = "\n".join(p.text() for p in [self.web, *self.workers] if p)
        raise AssertionError(f"timed out waiting for {what}; bot output:\n{logs}")

    def jobs_settled(self) -> bool:
        """No job is running or due within seconds (periodic jobs wait minutes for their slot)."""
        due = db.jobs.c.run_at <= time.time() + 5
        return self.count(db.jobs, (db.jobs.c.state == "running") | ((db.jobs.c.state == "queued") & due)) == 0

    def stop(self) -> None:
        for process in [*self.workers, self.web]:
            if process:
                process.stop()
        self.engine.dispose()


@pytest.fixture
def bot(fake_github, app_key, database_url):
    """A bot (not yet started: call `start_web()`) on SQLite or PostgreSQL."""
    bot = Bot(fake_github, app_key, database_url)
    yield bot
    bot.stop()


@pytest.fixture
def pg_bot(fake_github, app_key, empty_postgres_url):
    """A bot on PostgreSQL only: the scale-out path."""
    bot = Bot(fake_github, app_key, empty_postgres_url)
    yield bot
    bot.stop()
