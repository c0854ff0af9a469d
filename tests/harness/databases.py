"""Throwaway PostgreSQL databases (and emptied ones) for tests and benchmarks."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text

from bot import db

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _as_admin(admin_url: str, statement: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def unreachable(admin_url: str = ADMIN_URL) -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it can."""
    try:
        _as_admin(admin_url, "SELECT 1")
    except Exception as exc:  # noqa: BLE001 -- any failure means: no PostgreSQL here
        return f"PostgreSQL at {admin_url.split('@')[-1]} is unreachable: {type(exc).__name__}"
    return None


def create_database(prefix: str = "sb_", admin_url: str = ADMIN_URL) -> str:
    """A new empty database `<prefix><random>` on the server; its URL."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    _as_admin(admin_url, f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str, admin_url: str = ADMIN_URL) -> None:
    """Drop a database `create_database` made, closing whatever is still connected to it."""
    _as_admin(admin_url, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def emptied(url: str) -> str:
    """`url`'s database migrated, with every table emptied (tests share one database); `url`."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in db.metadata.sorted_tables) + " CASCADE"))
    engine.dispose()
    return url
