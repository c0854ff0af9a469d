"""Integration fixtures: the real app under gunicorn (tests/harness/stack.py), talking to the fake GitHub over sockets."""

from __future__ import annotations

import pytest

from tests.harness.stack import Stack

SECRET = "integration-secret"

# Short durations, so tests never wait long. Periodic jobs stay off unless a test turns them on:
# their next occurrence, always queued, would keep `jobs_settled` from ever being true.
QUICK = dict(JOB_LEASE_SECONDS=3, JOB_POLL_SECONDS=0.2, JOB_RETRY_BASE_SECONDS=0.1, GITHUB_RETRIES=1,
             GITHUB_WRITE_INTERVAL_SECONDS=0.01, GITHUB_AMBIGUOUS_WAIT_SECONDS=2, STATUS_COMMENT_INTERVAL_SECONDS=0.5,
             STOP_GRACE_SECONDS=1, REPO_CONFIG_CACHE_SECONDS=0.001, TIMELINE_COALESCE_SECONDS=0.3,
             REDELIVERY_INTERVAL_SECONDS=0, RETENTION_DAYS=0, WATCHDOG_INTERVAL_SECONDS=0,
             INSIGHTS_INTERVAL_SECONDS=0)


class Bot(Stack):
    """A bot (not yet started: call `start_web()`) with QUICK settings, which `overrides` change."""

    def __init__(self, fake, app_key, database_url: str, **overrides):
        super().__init__(fake, app_key, database_url, secret=SECRET, **{**QUICK, **overrides})


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
