"""The tables of missed-delivery recovery (bot/deliveries/): what the bot asked GitHub to redeliver.

Part of the one schema (`metadata` in tables.py); a change here comes with a migration too.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, UniqueConstraint

from bot.db.tables import Id, metadata

# Missed-delivery recovery (bot/deliveries/): each redelivery the bot asked GitHub for, one row per
# (guid, attempt) so two runs can never both ask for the same attempt, and how far back the last
# run examined GitHub's delivery log.
redelivery_requests = Table(
    "redelivery_requests",
    metadata,
    Column("id", Id, primary_key=True),
    Column("guid", String(64), nullable=False),  # X-GitHub-Delivery of the event
    Column("attempt", Integer, nullable=False),  # 1..REDELIVERY_MAX_ATTEMPTS
    Column("hook_delivery_id", BigInteger, nullable=False),  # GitHub's id of the attempt redelivered
    Column("requested_at", Float, nullable=False),
    Column("outcome", String(255)),  # None while asking; "accepted", or why GitHub refused
    UniqueConstraint("guid", "attempt", name="uq_redelivery_requests_attempt"),
    Index("ix_redelivery_requests_requested_at", "requested_at"),
)

redelivery_cursor = Table(
    "redelivery_cursor",
    metadata,
    Column("name", String(32), primary_key=True),  # "app": the App's one webhook
    Column("examined_until", Float, nullable=False),  # delivered_at of GitHub's log, unix seconds
    Column("updated_at", Float, nullable=False),
)
