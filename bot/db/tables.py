"""The tables: one schema for SQLite and PostgreSQL, the source of Alembic's migrations.

Times are unix seconds (floats) so comparisons mean the same on both databases. A change here
comes with a migration in `bot/migrations/versions/`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for long-lived tables.
Id = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData()

installations = Table(
    "installations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # GitHub's installation id
    Column("account_login", String(255), nullable=False),
    Column("account_type", String(32), nullable=False),
    Column("repository_selection", String(16)),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

repositories = Table(
    "repositories",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # GitHub's repository id
    Column("installation_id", BigInteger, ForeignKey("installations.id", ondelete="CASCADE"), nullable=False),
    Column("full_name", String(255), nullable=False),
    Column("private", Boolean, nullable=False, default=False),
    Column("added_at", Float, nullable=False),
    Index("ix_repositories_installation", "installation_id"),
    Index("ix_repositories_full_name", "full_name"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("guid", String(64), nullable=False, unique=True),  # X-GitHub-Delivery: the dedupe key
    Column("event", String(64), nullable=False),
    Column("action", String(64)),
    Column("installation_id", BigInteger),
    Column("received_at", Float, nullable=False),
    Column("body", LargeBinary, nullable=False),
    # queued → done | ignored | failed: what became of the delivery, for metrics and operators.
    Column("outcome", String(16), nullable=False, default="queued"),
    Column("processed_at", Float),
    Index("ix_deliveries_received_at", "received_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("args", Text, nullable=False, default="{}"),  # JSON
    Column("delivery_id", BigInteger, ForeignKey("deliveries.id", ondelete="SET NULL")),
    # queued → running → done | dead; a running job whose lease lapsed is queued again in effect.
    Column("state", String(16), nullable=False, default="queued"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_at", Float, nullable=False),
    # Lower first among due jobs (as graphile-worker orders them): URGENT (-1) when a person waits (bot/jobs.py).
    Column("priority", SmallInteger, nullable=False, default=0, server_default="0"),
    Column("lease_until", Float),
    Column("locked_by", String(128)),
    Column("last_error", Text),
    Column("dedupe_key", String(255), unique=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Index("ix_jobs_state_run_at", "state", "run_at"),
    # The claim's order, so the next job is the index's first due row, not a sort of the whole queue.
    Index("ix_jobs_claim", "state", "priority", "run_at", "id"),
    # Retention deletes deliveries: without it, each one's ON DELETE SET NULL scans the jobs table.
    Index("ix_jobs_delivery_id", "delivery_id"),
)

# The columns of a session the insights report reads (PostgreSQL's covering indexes INCLUDE them).
REPORTED = ("state", "starter", "stuck", "started_at", "finished_at", "run_id", "run_attempt")

# Copilot agent sessions: one workflow run of the agent, keyed by (repository, run). No foreign key
# to `repositories`: a run's delivery may arrive before the installation's repository list does.
sessions = Table(
    "sessions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("repository_id", BigInteger, nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),  # owner/name when last seen
    Column("pr_number", Integer),
    Column("number", Integer),  # 1..n per pull request in start order; assigned once, never reused
    # queued | in_progress | completed | failed | cancelled | timed_out
    Column("state", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # GitHub's run status
    Column("conclusion", String(32)),  # GitHub's run conclusion, kept as the reason when unmapped
    Column("run_attempt", Integer, nullable=False),
    Column("run_updated_at", Float, nullable=False),  # with attempt and status: the ordering key
    Column("created_at", Float, nullable=False),  # the run's creation: when the session began
    Column("started_at", Float),  # the current attempt's start
    Column("finished_at", Float),
    Column("head_branch", String(255)),
    Column("head_repository_id", BigInteger),  # the run's head_repository: with head_branch, its branch
    Column("html_url", String(512)),
    Column("actor", String(255)),
    Column("triggering_actor", String(255)),
    Column("starter", String(255)),  # a person, or None: unknown, and nobody has a starter's rights
    Column("starter_source", String(16)),  # "run" (triggering_actor) or "timeline"
    Column("timeline_outcome", String(16)),  # "finished" / "failed", from copilot_work_finished*
    # The watchdog's mark (bot/handlers/watchdog.py): queued | running (past the repository's limit),
    # unfinished (the run completed, the timeline never said Copilot finished) | gone (the run is 404).
    Column("stuck", String(16)),
    Column("stuck_at", Float),
    Column("backfilled", Boolean, nullable=False, default=False),  # first indexed by backfill: no comments
    Column("indexed_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("repository_id", "run_id", name="uq_sessions_run"),
    UniqueConstraint("repository_id", "pr_number", "number", name="uq_sessions_pr_number"),
    Index("ix_sessions_installation_newest", "installation_id", "created_at", "id"),
    Index("ix_sessions_installation_state_newest", "installation_id", "state", "created_at", "id"),
    Index("ix_sessions_installation_starter_newest", "installation_id", "starter", "created_at", "id"),
    # On PostgreSQL these two also carry what the insights report adds up (bot/sessions/report.py), so its
    # pass over a window's sessions reads the index alone: 10^5 sessions of a repository in ~20 ms, not ~150.
    Index("ix_sessions_repository_newest", "repository_id", "created_at", "id", postgresql_include=REPORTED),
    Index("ix_sessions_repository_branch", "repository_id", "head_repository_id", "head_branch"),
    Index("ix_sessions_newest", "created_at", "id", postgresql_include=("repository_id", *REPORTED)),  # the operator
    # The Agents page's filters (a state, a person) across every repository, and a state within a
    # viewer's repositories; its capped counts per state read the same ones (bot/sessions/queries.py).
    Index("ix_sessions_state_newest", "state", "created_at", "id"),
    Index("ix_sessions_starter_newest", "starter", "created_at", "id"),
    Index("ix_sessions_repository_state_newest", "repository_id", "state", "created_at", "id"),
)

# Pull requests the agent works on, and the counter that numbers their sessions.
pull_requests = Table(
    "pull_requests",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),
    Column("id", BigInteger),  # GitHub's pull request id; None until the pull request itself is read
    Column("title", Text),
    Column("state", String(16)),
    Column("draft", Boolean),
    Column("author", String(255)),
    Column("assignees", Text),  # JSON list of logins
    Column("head_branch", String(255)),
    # head.repo.id: a fork's branch may share the agent's branch name, so sessions join on both;
    # None when the head repository was deleted (or for a row from before revision 0005 until re-read)
    Column("head_repository_id", BigInteger),
    Column("html_url", String(512)),
    Column("created_at", Float),
    Column("github_updated_at", Float),
    Column("sessions_numbered", Integer, nullable=False, default=0),  # the last session number given
    Column("updated_at", Float, nullable=False),
    Index("ix_pull_requests_branch", "repository_id", "head_repository_id", "head_branch"),
    Index("ix_pull_requests_id", "repository_id", "id"),  # a Copilot task's `pull` artifact names this id
    Index("ix_pull_requests_installation", "installation_id"),
    # The insights' count of the agent's pull requests opened in a window, off the index on PostgreSQL.
    Index("ix_pull_requests_created", "repository_id", "created_at", postgresql_include=("state", "author")),
)

# Per-installation API budget of a backfill, spent one call at a time across its repository jobs.
backfill_budgets = Table(
    "backfill_budgets",
    metadata,
    Column("installation_id", BigInteger, primary_key=True, autoincrement=False),
    Column("calls_left", Integer, nullable=False),
    # When it was granted: one grant per installation and BUDGET_PERIOD, whatever delivery asks again.
    Column("granted_at", Float, nullable=False, server_default="0"),
    Column("updated_at", Float, nullable=False),
)


# One row per command line in a pull-request comment: keyed by (comment, position, line) so a
# redelivery never runs it twice; it remembers its reply so a retry edits instead of reposting.
command_runs = Table(
    "command_runs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("comment_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", String(500), nullable=False),
    Column("sender_login", String(255), nullable=False),
    Column("sender_id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # pending | answered
    Column("reacted", Boolean, nullable=False, default=False),
    Column("reply_comment_id", BigInteger),
    Column("reply_uncertain", Boolean, nullable=False, default=False),  # a POST of the reply may have landed
    Column("created_at", Float, nullable=False),
    Column("answered_at", Float),
    UniqueConstraint("comment_id", "position", "text", name="uq_command_runs_line"),
    Index("ix_command_runs_sender", "repository_id", "sender_id", "created_at"),
    Index("ix_command_runs_waiting", "installation_id", "sender_id", "state"),  # a person's turn (intake)
)

# Who stopped which session, when, and what became of it (the audit trail of /session stop).
session_stops = Table(
    "session_stops",
    metadata,
    Column("id", Id, primary_key=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("command_run_id", BigInteger),  # the `/session stop` line; None for a stop from the Agents page
    Column("via", String(8), nullable=False, default="comment", server_default="comment"),  # comment | page
    Column("stopped_by", String(255), nullable=False),
    Column("requested_at", Float, nullable=False),
    # sending → cancel_requested → cancelled | force_cancelled; or already_finished
    Column("outcome", String(24), nullable=False),
    Column("reason", String(300)),  # why, as the person gave it (redacted, one line), or "auto-stop"
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("command_run_id", "run_id", name="uq_session_stops_command"),
    Index("ix_session_stops_run", "repository_id", "run_id"),
)

# Commits pushed to a pull request, as its timeline lists them: a session's progress is the
# agent's commits made while it ran (the session page's timeline).
pull_commits = Table(
    "pull_commits",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("pr_number", Integer, primary_key=True, autoincrement=False),
    Column("sha", String(64), primary_key=True),
    Column("message", Text, nullable=False),  # redacted and clipped when stored
    Column("author", String(255)),  # the commit's author name (commits carry no verified login)
    Column("committed_at", Float),
    Column("seen_at", Float, nullable=False),
    Index("ix_pull_commits_time", "repository_id", "pr_number", "committed_at"),
)


# The one status comment per pull request with live sessions. The row is created before the
# comment, so two workers never both post one; `creating` names the job that may post it.
status_comments = Table(
    "status_comments",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("pr_number", Integer, primary_key=True, autoincrement=False),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository", String(255), nullable=False),
    Column("comment_id", BigInteger),
    Column("creating", BigInteger),  # id of the job posting the comment; NULL when nobody is
    Column("body_hash", String(64)),  # of the last body sent: an unchanged table costs no edit
    Column("finalised", Boolean, nullable=False, default=False),  # the PR closed: no more edits
    Column("edited_at", Float),
    Column("updated_at", Float, nullable=False),
)


# Summaries of finished sessions' logs: downloaded once, never again.
session_summaries = Table(
    "session_summaries",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_attempt", Integer, nullable=False),
    Column("summary", Text, nullable=False),  # JSON of bot.logs.summary.Summary
    Column("created_at", Float, nullable=False),
)

# `/session log` asked of a running session: the summary is posted when the session ends.
log_requests = Table(
    "log_requests",
    metadata,
    Column("command_run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("repository_id", BigInteger, nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("full", Boolean, nullable=False, default=False),
    Column("posted_comment_id", BigInteger),
    Column("created_at", Float, nullable=False),
    Index("ix_log_requests_run", "repository_id", "run_id"),
)


# Which versions of a repository's invalid `.github/session-bot.yml` the bot has explained.
config_notices = Table(
    "config_notices",
    metadata,
    Column("repository_id", BigInteger, primary_key=True, autoincrement=False),
    Column("sha", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
)
