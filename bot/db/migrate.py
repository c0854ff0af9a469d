"""Bringing the schema up to date with Alembic, under a lock so many processes may start at once."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.db.engine import is_sqlite

# The migrations stay where Alembic's scripts have always been: bot/migrations/.
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

logger = logging.getLogger("bot.db")


def alembic_config(connection=None):
    """Alembic's configuration for bot/migrations/, running on `connection` (see migrations/env.py)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _sqlite_path(engine: Engine) -> str | None:
    database = engine.url.database
    return database if is_sqlite(engine) and database and database != ":memory:" else None


@contextlib.contextmanager
def _migration_lock(engine: Engine):
    """Serialise migrations across processes and hosts (advisory lock / lock file)."""
    if is_sqlite(engine):
        path = _sqlite_path(engine)
        if path is None:
            yield
            return
        with open(f"{path}.migrate-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(7331001)"))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(7331001)"))
            conn.commit()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe when many processes start at once."""
    from alembic import command

    with _migration_lock(engine):
        before = current_revision(engine)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        after = current_revision(engine)
    if before != after:
        logger.info("database migrated from %s to %s", before or "empty", after)


def head_revision() -> str:
    """The newest migration's revision."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
