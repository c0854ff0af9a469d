"""Engines tuned for the bot, and the SQL that must differ between SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Table, create_engine, event, text
from sqlalchemy.engine import Engine

from bot.db import write_lock


def is_sqlite(engine: Engine) -> bool:
    """Whether `engine` talks to SQLite (the embedded default) rather than PostgreSQL."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pre_ping: bool = True) -> Engine:
    """An engine tuned for the bot: WAL + immediate transactions on SQLite, pre-ping on PostgreSQL.

    `pre_ping=False` for the intake's outbox, which retries a dropped connection itself rather
    than pay a ping before every acknowledgement.
    """
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection_class = write_lock.factory(path)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                  "factory": connection_class})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=pre_ping, pool_size=5, max_overflow=10)


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # A deferred transaction that later writes can fail with SQLITE_BUSY at once, without waiting
    # for the busy timeout; IMMEDIATE takes the write lock up front, so writers queue instead, on
    # the file lock that hands it over at once (bot/db/write_lock.py).
    conn.connection.driver_connection.begin_immediate()


def dialect_insert(conn, table: Table):
    """An INSERT that supports ON CONFLICT (`on_conflict_do_nothing` / `_do_update`) on both databases."""
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(table)


def serialise(conn, *key: int) -> None:
    """Hold, until this transaction ends, a lock no other transaction holding `key` can share.

    For a count-then-insert that must be atomic. PostgreSQL: a transaction-scoped advisory lock on
    the key (folded into the 64 bits it takes). SQLite: nothing to do, every write transaction
    already begins IMMEDIATE, so writers run one at a time.
    """
    if conn.dialect.name == "sqlite":
        return
    folded = 0
    for part in key:
        folded = (folded * 1_000_003 + part) % (1 << 63)
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": folded})
