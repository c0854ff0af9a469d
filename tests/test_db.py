"""Schema and migrations: the migrations build exactly the tables the code declares, and many
processes starting at once against an empty database never race."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from bot import db
from bot.db.migrate import alembic_config

ROOT = Path(__file__).parents[1]


def test_migrations_match_the_declared_tables(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert differences == []
    assert db.current_revision(engine) == db.head_revision()


def _fresh_database(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/race.sqlite3", None
    name = f"sb_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return database_url.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def _drop(cleanup) -> None:
    """Drop the database `_fresh_database` made (None on SQLite: its file goes with tmp_path)."""
    if cleanup:
        admin, name = cleanup
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_several_processes_migrating_at_once_do_not_race(database_url, tmp_path):
    url, cleanup = _fresh_database(database_url, tmp_path)
    script = "import sys; from bot import db; db.upgrade(db.make_engine(sys.argv[1]))"
    processes = [subprocess.Popen([sys.executable, "-c", script, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
    errors = [p.communicate(timeout=60)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    engine = db.make_engine(url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()
    _drop(cleanup)


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/deep/dir/bot.sqlite3"])
def test_sqlite_file_directory_is_created(url, tmp_path):
    engine = db.make_engine(url.format(tmp=tmp_path))
    db.upgrade(engine)
    assert (tmp_path / "deep/dir/bot.sqlite3").exists()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_revision_0005_gives_existing_sessions_their_repository_as_head_and_pull_requests_none(database_url,
                                                                                              tmp_path):
    from alembic import command

    url, cleanup = _fresh_database(database_url, tmp_path)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0004")
        conn.execute(text(
            "INSERT INTO sessions (repository_id, run_id, installation_id, repository, state, status, run_attempt,"
            " run_updated_at, created_at, head_branch, backfilled, indexed_at, updated_at)"
            " VALUES (501, 11, 1, 'octo-org/app', 'queued', 'queued', 1, 1.0, 1.0, 'copilot/fix-1', false, 1.0, 1.0)"))
        conn.execute(text(
            "INSERT INTO pull_requests (repository_id, number, installation_id, repository, head_branch,"
            " sessions_numbered, updated_at) VALUES (501, 7, 1, 'octo-org/app', 'copilot/fix-1', 0, 1.0)"))

    db.upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT head_repository_id FROM sessions")).scalar() == 501
        assert conn.execute(text("SELECT head_repository_id FROM pull_requests")).scalar() is None
        command.downgrade(alembic_config(conn), "0004")
        command.upgrade(alembic_config(conn), "head")
        assert conn.execute(text("SELECT head_repository_id FROM sessions")).scalar() == 501
    engine.dispose()
    _drop(cleanup)
