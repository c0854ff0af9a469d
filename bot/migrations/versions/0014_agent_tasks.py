"""Copilot tasks started or read with a person's token (GitHub's Agent tasks API), joined to sessions by
their artifacts: a pull request's GitHub id (indexed now) or a branch.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_tasks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("creator_id", sa.BigInteger),
        sa.Column("creator_login", sa.String(255)),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("model", sa.String(64)),
        sa.Column("name", sa.String(300)),
        sa.Column("html_url", sa.String(512)),
        sa.Column("pull_id", sa.BigInteger),
        sa.Column("head_ref", sa.String(255)),
        sa.Column("base_ref", sa.String(255)),
        sa.Column("session_count", sa.Integer),
        sa.Column("ai_credits_nano", sa.BigInteger),
        sa.Column("premium_requests", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("last_checked", sa.Float, nullable=False),
    )
    op.create_index("ix_agent_tasks_pull", "agent_tasks", ["repository_id", "pull_id"])
    op.create_index("ix_agent_tasks_branch", "agent_tasks", ["repository_id", "head_ref"])
    op.create_index("ix_agent_tasks_creator", "agent_tasks", ["creator_id", "last_checked"])
    op.create_index("ix_pull_requests_id", "pull_requests", ["repository_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_pull_requests_id", "pull_requests")
    op.drop_table("agent_tasks")
