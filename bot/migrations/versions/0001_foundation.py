"""Foundation: installations, repositories, deliveries, jobs, http_cache.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "installations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account_login", sa.String(255), nullable=False),
        sa.Column("account_type", sa.String(32), nullable=False),
        sa.Column("repository_selection", sa.String(16)),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "repositories",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column(
            "installation_id",
            sa.BigInteger,
            sa.ForeignKey("installations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("private", sa.Boolean, nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
    )
    op.create_index("ix_repositories_installation", "repositories", ["installation_id"])
    op.create_index("ix_repositories_full_name", "repositories", ["full_name"])
    op.create_table(
        "deliveries",
        sa.Column("id", Id, primary_key=True),
        sa.Column("guid", sa.String(64), nullable=False, unique=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64)),
        sa.Column("installation_id", sa.BigInteger),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("processed_at", sa.Float),
    )
    op.create_index("ix_deliveries_received_at", "deliveries", ["received_at"])
    op.create_table(
        "jobs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("delivery_id", sa.BigInteger, sa.ForeignKey("deliveries.id", ondelete="SET NULL")),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("run_at", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.Column("locked_by", sa.String(128)),
        sa.Column("last_error", sa.Text),
        sa.Column("dedupe_key", sa.String(255), unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
    )
    op.create_index("ix_jobs_state_run_at", "jobs", ["state", "run_at"])
    op.create_table(
        "http_cache",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("etag", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("http_cache", "jobs", "deliveries", "repositories", "installations"):
        op.drop_table(table)
