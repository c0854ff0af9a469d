"""Sessions: Copilot agent sessions, the pull requests they work on, backfill budgets.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("repository_id", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("pr_number", sa.Integer),
        sa.Column("number", sa.Integer),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("conclusion", sa.String(32)),
        sa.Column("run_attempt", sa.Integer, nullable=False),
        sa.Column("run_updated_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("head_branch", sa.String(255)),
        sa.Column("html_url", sa.String(512)),
        sa.Column("actor", sa.String(255)),
        sa.Column("triggering_actor", sa.String(255)),
        sa.Column("starter", sa.String(255)),
        sa.Column("starter_source", sa.String(16)),
        sa.Column("timeline_outcome", sa.String(16)),
        sa.Column("backfilled", sa.Boolean, nullable=False),
        sa.Column("indexed_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("repository_id", "run_id", name="uq_sessions_run"),
        sa.UniqueConstraint("repository_id", "pr_number", "number", name="uq_sessions_pr_number"),
    )
    op.create_index("ix_sessions_installation_newest", "sessions", ["installation_id", "created_at", "id"])
    op.create_index("ix_sessions_installation_state_newest", "sessions",
                    ["installation_id", "state", "created_at", "id"])
    op.create_index("ix_sessions_installation_starter_newest", "sessions",
                    ["installation_id", "starter", "created_at", "id"])
    op.create_index("ix_sessions_repository_newest", "sessions", ["repository_id", "created_at", "id"])
    op.create_index("ix_sessions_repository_branch", "sessions", ["repository_id", "head_branch"])
    op.create_table(
        "pull_requests",
        sa.Column("repository_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("id", sa.BigInteger),
        sa.Column("title", sa.Text),
        sa.Column("state", sa.String(16)),
        sa.Column("draft", sa.Boolean),
        sa.Column("author", sa.String(255)),
        sa.Column("assignees", sa.Text),
        sa.Column("head_branch", sa.String(255)),
        sa.Column("html_url", sa.String(512)),
        sa.Column("created_at", sa.Float),
        sa.Column("github_updated_at", sa.Float),
        sa.Column("sessions_numbered", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_pull_requests_branch", "pull_requests", ["repository_id", "head_branch"])
    op.create_index("ix_pull_requests_installation", "pull_requests", ["installation_id"])
    op.create_table(
        "backfill_budgets",
        sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("calls_left", sa.Integer, nullable=False),
        sa.Column("delivery", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("backfill_budgets", "pull_requests", "sessions"):
        op.drop_table(table)
