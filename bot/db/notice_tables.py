"""The table of notices (bot/notices.py): comments that mention a person once about one session.

Part of the one schema (`metadata` in tables.py); a change here comes with a migration too.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, String, Table, Text, UniqueConstraint

from bot.db.tables import Id, metadata

# One row per (session, kind): the unique key is what makes "mentioned once" hold however often a
# check finds the same thing, in however many processes.
session_notices = Table(
    "session_notices",
    metadata,
    Column("id", Id, primary_key=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("kind", String(24), nullable=False),  # stuck | finished | stop_unconfirmed | auto_stop
    Column("body", Text, nullable=False),  # the comment, inert markdown, marker first
    Column("comment_id", BigInteger),  # once posted
    Column("uncertain", Boolean, nullable=False, default=False),  # a POST failed ambiguously: look first
    Column("created_at", Float, nullable=False),
    Column("posted_at", Float),
    UniqueConstraint("repository_id", "run_id", "kind", name="uq_session_notices_kind"),
)
