"""The tables of the Agents page's sign-in (bot/web/): who is signed in, their kept tokens, what they may see.

Part of the one schema (`metadata` in tables.py); a change here comes with a migration too.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, LargeBinary, String, Table, Text

from bot.db.tables import metadata

# One row per signed-in browser. The cookie carries the id (signed); the row is what makes it
# valid, so signing out, a revoked authorisation or an idle timeout ends it at once.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the id in the cookie, never the id
    Column("user_id", BigInteger, nullable=False),  # GitHub's user id
    Column("login", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Index("ix_web_sessions_user", "user_id"),
    Index("ix_web_sessions_last_seen", "last_seen_at"),
)

# A person's GitHub App user access token (and refresh token), encrypted (AES-GCM, bot/people/sealing.py).
# Kept beyond the browser session only when the person opted in (`keep`).
user_tokens = Table(
    "user_tokens",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("login", String(255), nullable=False),
    Column("sealed", LargeBinary, nullable=False),  # key id, nonce and ciphertext of the token bundle
    Column("expires_at", Float),  # of the access token; None: it does not expire
    Column("refresh_expires_at", Float),
    Column("keep", Boolean, nullable=False, default=False),
    Column("last_used_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Which repositories (of this App's installations) a person can see, as GitHub last said with their
# token (`GET /user/installations` and each one's repositories), shared by every process for a while.
user_access_cache = Table(
    "user_access_cache",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("repositories", Text, nullable=False),  # JSON: [[installation_id, repository_id, full_name], …]
    Column("checked_at", Float, nullable=False),
)
