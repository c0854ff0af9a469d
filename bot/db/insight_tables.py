"""The tables of the insights (bot/sessions/report.py): what sessions cost in time and why they failed.

Part of the one schema (`metadata` in tables.py); a change here comes with a migration too. Each
row is derived from GitHub's answers or from a stored summary, keyed like the session it belongs to;
none is ever shown without its session.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, String, Table, UniqueConstraint

from bot.db.tables import Id, metadata

# A finished run's jobs, read once when it completes (`GET …/runs/{run_id}/jobs?filter=all`): the time
# its jobs ran, every attempt's. `seconds` is None when no job said both when it started and ended.
run_times = Table(
    "run_times",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_attempt", Integer, nullable=False),  # the attempt whose completion the jobs were read at
    Column("seconds", Float),
    Column("jobs", Integer, nullable=False),
    Column("read_at", Float, nullable=False),
)

# What a stored log summary (session_summaries) says went wrong, by bot/sessions/failures.py:
# `cause` is None when the log shows no failure. Keyed with the summary's attempt: a summary of a
# later attempt is classified again.
summary_causes = Table(
    "summary_causes",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_attempt", Integer, nullable=False),
    Column("cause", String(16)),
    Column("classified_at", Float, nullable=False),
)

# Whether a repository has `.github/workflows/copilot-setup-steps.yml` on its default branch, as the
# contents API last said (bot/caches/setup_steps.py), shared like the repository config's cache.
setup_steps_cache = Table(
    "setup_steps_cache",
    metadata,
    Column("id", Id, primary_key=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),  # lower-case owner/name
    Column("present", Boolean, nullable=False),
    Column("checked_at", Float, nullable=False),
    UniqueConstraint("installation_id", "repository", name="uq_setup_steps_cache_key"),
)
