"""Throwaway PostgreSQL databases (and emptied ones) for tests and benchmarks."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot import db

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _psycopg(url: str) -> str:
    """`url` with the driver the bot uses (SQLAlchemy would take postgresql:// for psycopg2)."""
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def as_admin(statement: str, admin_url: str = ADMIN_URL) -> list:
    """Run `statement` on the server, outside any transaction; the rows it returns."""
    admin = create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            result = conn.execute(text(statement))
            return result.all() if result.returns_rows else []
    finally:
        admin.dispose()


def unreachable(admin_url: str = ADMIN_URL) -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it can."""
    try:
        as_admin("SELECT 1", admin_url)
    except Exception as exc:  # noqa: BLE001 -- any failure means: no PostgreSQL here
        return f"PostgreSQL at {admin_url.split('@')[-1]} is unreachable: {type(exc).__name__}"
    return None


def create_database(prefix: str = "sb_", admin_url: str = ADMIN_URL) -> str:
    """A new empty database `<prefix><random>` on the server; its URL. RuntimeError "… unavailable: …"
    when there is no server to make it on."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    try:
        as_admin(f'CREATE DATABASE "{name}"', admin_url)
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0]
        raise RuntimeError(f"PostgreSQL at {admin_url.split('@')[-1]} unavailable: {first}") from exc
    return _psycopg(admin_url).rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str, admin_url: str = ADMIN_URL) -> None:
    """Drop a database `create_database` made, closing whatever is still connected to it."""
    as_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)', admin_url)


def emptied(url: str) -> str:
    """`url`'s database migrated, with every table emptied (tests share one database); `url`."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in db.metadata.sorted_tables) + " CASCADE"))
    engine.dispose()
    return url
