"""Caches every process shares: permission answers and repository config (or its absence).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "permission_cache",
        sa.Column("id", Id, primary_key=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("login", sa.String(255), nullable=False),
        sa.Column("level", sa.String(64), nullable=False),
        sa.Column("checked_at", sa.Float, nullable=False),
        sa.UniqueConstraint("installation_id", "repository", "login", name="uq_permission_cache_key"),
    )
    op.create_table(
        "repo_config_cache",
        sa.Column("id", Id, primary_key=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("checked_at", sa.Float, nullable=False),
        sa.UniqueConstraint("installation_id", "repository", name="uq_repo_config_cache_key"),
    )


def downgrade() -> None:
    op.drop_table("repo_config_cache")
    op.drop_table("permission_cache")
