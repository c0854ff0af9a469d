"""Conditional-request memory in the database, shared by every process: an unchanged resource
answered with 304 costs GitHub no rate limit."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from bot.db import dialect_insert, http_cache


class DatabaseETagStore:
    """An ETagStore (see bot.github.client) backed by the `http_cache` table."""

    def __init__(self, engine):
        self.engine = engine

    def get(self, key: str) -> tuple[str, Any] | None:
        """The stored (etag, body) for `key` (a URL), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(http_cache.c.etag, http_cache.c.body).where(http_cache.c.key == key)).first()
        return (row.etag, json.loads(row.body)) if row else None

    def put(self, key: str, etag: str, body: Any) -> None:
        """Remember `body` and its `etag` for `key`, for every process."""
        values = dict(etag=etag, body=json.dumps(body), updated_at=time.time())
        with self.engine.begin() as conn:
            statement = dialect_insert(conn, http_cache).values(key=key[:512], **values)
            conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_=values))
