"""Logs that could not be summarised (bot/commands/kept_summaries.py): kept as such, so nobody downloads them again.

Part of the one schema (`metadata` in tables.py); a change here comes with a migration too.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table

from bot.db.tables import metadata

# One row per run, beside `session_summaries`: a log whose summariser ran past its budget or died
# would do the same on every try, and each try is a whole download.
summary_failures = Table(
    "summary_failures",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_attempt", Integer, nullable=False),
    Column("reason", String(16), nullable=False),  # timeout | failed
    Column("budget", Float, nullable=False),  # LOG_SUMMARY_BUDGET_SECONDS it had: a larger one may try again
    Column("created_at", Float, nullable=False),
)
