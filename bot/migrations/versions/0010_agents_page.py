"""The Agents page: sign-in (browser sessions, kept user tokens, what a person may see), progress
commits of pull requests, and stops from the page (a stop without a command line).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("login", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_last_seen", "web_sessions", ["last_seen_at"])
    op.create_table(
        "user_tokens",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("login", sa.String(255), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("refresh_expires_at", sa.Float),
        sa.Column("keep", sa.Boolean, nullable=False),
        sa.Column("last_used_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "user_access_cache",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("repositories", sa.Text, nullable=False),
        sa.Column("checked_at", sa.Float, nullable=False),
    )
    op.create_table(
        "pull_commits",
        sa.Column("repository_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("pr_number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sha", sa.String(64), primary_key=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("author", sa.String(255)),
        sa.Column("committed_at", sa.Float),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_pull_commits_time", "pull_commits", ["repository_id", "pr_number", "committed_at"])
    with op.batch_alter_table("session_stops") as batch:
        batch.alter_column("command_run_id", existing_type=sa.BigInteger, nullable=True)
        batch.add_column(sa.Column("via", sa.String(8), nullable=False, server_default="comment"))
    # The page lists everything newest first for an operator (ADMIN_TOKEN): one index in that order.
    op.create_index("ix_sessions_newest", "sessions", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_newest", table_name="sessions")
    with op.batch_alter_table("session_stops") as batch:
        batch.drop_column("via")
        batch.alter_column("command_run_id", existing_type=sa.BigInteger, nullable=False)
    op.drop_index("ix_pull_commits_time", table_name="pull_commits")
    op.drop_table("pull_commits")
    op.drop_table("user_access_cache")
    op.drop_table("user_tokens")
    op.drop_index("ix_web_sessions_last_seen", table_name="web_sessions")
    op.drop_index("ix_web_sessions_user", table_name="web_sessions")
    op.drop_table("web_sessions")
