"""Shared fixtures: databases (SQLite and PostgreSQL), settings, and the fake GitHub (plugin)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings as hypothesis_settings

from bot import db
from bot.config import Settings
from bot.runtime import build_runtime
from tests.harness import databases

pytest_plugins = ["tests.fakegithub.pytest_plugin"]

# Property tests: "ci" is reproducible (the same examples every run, no example database written),
# bounded, and prints a failing example's blob for `@reproduce_failure`; "dev" explores anew each run.
# Tests that set max_examples themselves (tests/test_sessions_model.py) keep their own counts.
hypothesis_settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=200, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("dev", deadline=None, max_examples=100, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


@pytest.fixture(scope="session")
def postgres_url():
    """A database of this test run's own (sb_<random>), dropped at the end.

    Unreachable server: a failure under CI=true, a visible skip elsewhere.
    """
    if reason := databases.unreachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true requires it)")
        pytest.skip(reason)
    url = databases.create_database("sb_")
    yield url
    databases.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """Each database test runs on both: SQLite in a temp dir, and this run's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/bot.sqlite3"
    return request.getfixturevalue("empty_postgres_url")


@pytest.fixture
def empty_postgres_url(postgres_url):
    """The run's PostgreSQL database, migrated, with every table emptied (tests share it)."""
    return databases.emptied(postgres_url)


@pytest.fixture
def engine(database_url):
    """A migrated engine on the test's database."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url) -> Settings:
    """Settings with short durations, so tests never wait long; setup mode (no App) by default."""
    return Settings(database_url=database_url, job_lease=2.0, job_retry_base=0.05, job_poll_interval=0.05,
                    log_format="text")


@pytest.fixture
def runtime(settings):
    """A Runtime (engine, queue; no GitHub client in setup mode) on a migrated database."""
    runtime = build_runtime(settings)
    db.upgrade(runtime.engine)
    yield runtime
    runtime.dispose()
