"""The tables of the caches every process shares (bot/caches/): GitHub's answers kept for a while.

Part of the one schema (`metadata` in tables.py); a change here comes with a migration too.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, String, Table, Text, UniqueConstraint

from bot.db.tables import Id, metadata

# Bodies and ETags of GitHub responses the bot polls, so an unchanged resource costs a 304.
http_cache = Table(
    "http_cache",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("etag", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Answers every process shares for a while (bot/caches/): a person's role on a repository, and a
# repository's config file (or that it has none). `checked_at` is when GitHub was asked; a reader
# takes an answer younger than its ttl. Keys are lower-case: GitHub's names are case-insensitive.
permission_cache = Table(
    "permission_cache",
    metadata,
    Column("id", Id, primary_key=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),
    Column("login", String(255), nullable=False),
    Column("level", String(64), nullable=False),
    Column("checked_at", Float, nullable=False),
    UniqueConstraint("installation_id", "repository", "login", name="uq_permission_cache_key"),
)

repo_config_cache = Table(
    "repo_config_cache",
    metadata,
    Column("id", Id, primary_key=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),
    Column("answer", Text, nullable=False),  # JSON: the config's settings, the problem, the file's sha
    Column("checked_at", Float, nullable=False),
    UniqueConstraint("installation_id", "repository", name="uq_repo_config_cache_key"),
)
