"""The table of Copilot tasks (bot/sessions/tasks.py): what GitHub's Agent tasks API said of each task
the bot started or read with a person's token.

Part of the one schema (`metadata` in tables.py); a change here comes with a migration too.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table

from bot.db.tables import metadata

# One row per task, keyed by GitHub's task id. A task joins sessions only by its artifacts: its pull
# request (GitHub's id, as pull_requests.id keeps it) or its branch in its repository.
agent_tasks = Table(
    "agent_tasks",
    metadata,
    Column("id", String(64), primary_key=True),  # GitHub's task id
    Column("installation_id", BigInteger, nullable=False),  # the installation covering its repository
    Column("repository_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),  # owner/name when recorded
    Column("creator_id", BigInteger),  # GitHub's user id of who started it
    Column("creator_login", String(255)),  # known when that person's own token told us
    Column("state", String(24), nullable=False),  # GitHub's task state (queued … waiting_for_user, timed_out)
    Column("model", String(64)),  # the latest session's model, or the one asked for
    Column("name", String(300)),  # derived by GitHub from the prompt: outside text, redacted and clipped
    Column("html_url", String(512)),
    Column("pull_id", BigInteger),  # the `pull` artifact: GitHub's pull request id
    Column("head_ref", String(255)),  # the `branch` artifact
    Column("base_ref", String(255)),
    Column("session_count", Integer),
    # Usage per billing unit, never added across units; None: no session reported that unit.
    Column("ai_credits_nano", BigInteger),  # the sum of the sessions' nano AI credits (whole numbers)
    Column("premium_requests", Float),  # the sum of the sessions' premium requests (may be fractional)
    Column("created_at", Float, nullable=False),  # GitHub's
    Column("updated_at", Float, nullable=False),  # GitHub's: an older answer never overwrites a newer one
    Column("last_checked", Float, nullable=False),  # when the bot last asked GitHub (a 304 counts)
    Index("ix_agent_tasks_pull", "repository_id", "pull_id"),
    Index("ix_agent_tasks_branch", "repository_id", "head_ref"),
    Index("ix_agent_tasks_creator", "creator_id", "last_checked"),
)
