"""Commands: one row per command line, the audit trail of stops, status comments, log summaries.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "command_runs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("pr_number", sa.Integer, nullable=False),
        sa.Column("comment_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("sender_login", sa.String(255), nullable=False),
        sa.Column("sender_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reacted", sa.Boolean, nullable=False),
        sa.Column("reply_comment_id", sa.BigInteger),
        sa.Column("reply_uncertain", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("answered_at", sa.Float),
        sa.UniqueConstraint("comment_id", "position", "text", name="uq_command_runs_line"),
    )
    op.create_index("ix_command_runs_sender", "command_runs", ["repository_id", "sender_id", "created_at"])
    op.create_table(
        "session_stops",
        sa.Column("id", Id, primary_key=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("command_run_id", sa.BigInteger, nullable=False),
        sa.Column("stopped_by", sa.String(255), nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("command_run_id", "run_id", name="uq_session_stops_command"),
    )
    op.create_index("ix_session_stops_run", "session_stops", ["repository_id", "run_id"])
    op.create_table(
        "status_comments",
        sa.Column("repository_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("pr_number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("comment_id", sa.BigInteger),
        sa.Column("creating", sa.BigInteger),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("finalised", sa.Boolean, nullable=False),
        sa.Column("edited_at", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "session_summaries",
        sa.Column("repository_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_attempt", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "log_requests",
        sa.Column("command_run_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("repository_id", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("full", sa.Boolean, nullable=False),
        sa.Column("posted_comment_id", sa.BigInteger),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_log_requests_run", "log_requests", ["repository_id", "run_id"])
    op.create_table(
        "config_notices",
        sa.Column("repository_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("sha", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("config_notices")
    op.drop_table("log_requests")
    op.drop_table("session_summaries")
    op.drop_table("status_comments")
    op.drop_table("session_stops")
    op.drop_table("command_runs")
