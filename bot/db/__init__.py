"""The database: tables (`tables.py`; the caches' in `cache_tables.py`, sign-in's in `web_tables.py`, recovery's in `recovery_tables.py`, notices' in `notice_tables.py`, unsummarisable logs' in `summary_tables.py`, Copilot tasks' in `task_tables.py`, the insights' in `insight_tables.py`), engines (`engine.py`), migrations under a lock (`migrate.py`).

One schema for SQLite (the embedded default) and PostgreSQL (scale-out). Import what you need from
`bot.db`; the modules behind it are how it is organised, not a second address.
"""

from bot.db.cache_tables import http_cache, permission_cache, repo_config_cache
from bot.db.engine import dialect_insert, is_sqlite, make_engine, serialise
from bot.db.insight_tables import run_times, setup_steps_cache, summary_causes
from bot.db.migrate import current_revision, head_revision, upgrade
from bot.db.notice_tables import session_notices
from bot.db.recovery_tables import redelivery_cursor, redelivery_requests
from bot.db.summary_tables import summary_failures
from bot.db.task_tables import agent_tasks
from bot.db.web_tables import user_access_cache, user_tokens, web_sessions
from bot.db.tables import (
    Id,
    backfill_budgets,
    command_runs,
    config_notices,
    deliveries,
    installations,
    jobs,
    log_requests,
    metadata,
    pull_commits,
    pull_requests,
    repositories,
    session_stops,
    session_summaries,
    sessions,
    status_comments,
)

__all__ = [
    "Id", "agent_tasks", "backfill_budgets", "command_runs", "config_notices", "current_revision", "deliveries",
    "dialect_insert", "head_revision", "http_cache", "installations", "is_sqlite", "jobs", "log_requests",
    "make_engine", "metadata", "permission_cache", "pull_commits", "pull_requests", "repo_config_cache", "redelivery_cursor", "redelivery_requests", "repositories", "run_times",
    "serialise", "session_notices", "session_stops", "session_summaries", "sessions", "setup_steps_cache", "status_comments",
    "summary_causes", "summary_failures", "upgrade",
    "user_access_cache", "user_tokens", "web_sessions",
]
