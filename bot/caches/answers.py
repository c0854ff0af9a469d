"""One answer per key in a cache table, taken while younger than a ttl, else asked for again."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from bot.db import dialect_insert


class SharedAnswers:
    """The rows of `table` (key columns, answer columns, `checked_at`), shared by every process."""

    def __init__(self, engine: Engine, table: Table, ttl: float, clock: Callable[[], float] = time.time):
        self.engine, self.table, self.ttl, self.clock = engine, table, ttl, clock

    def get(self, key: dict[str, Any], ask: Callable[[], dict[str, Any]]) -> Mapping[str, Any]:
        """The answer stored for `key` if it is younger than the ttl, else `ask()`'s, stored."""
        table = self.table
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(
                *(table.c[name] == value for name, value in key.items()),
                table.c.checked_at > self.clock() - self.ttl)).first()
        return row._mapping if row is not None else self.refresh(key, ask)

    def refresh(self, key: dict[str, Any], ask: Callable[[], dict[str, Any]]) -> Mapping[str, Any]:
        """Ask now and store the answer for `key`, whatever is stored."""
        # Stamped before asking: an answer is never taken as younger than the question.
        checked_at = self.clock()
        values = {**ask(), "checked_at": checked_at}
        with self.engine.begin() as conn:  # two processes asking at once: the last to store it stays
            conn.execute(dialect_insert(conn, self.table).values(**key, **values)
                         .on_conflict_do_update(index_elements=list(key), set_=values))
        return {**key, **values}
