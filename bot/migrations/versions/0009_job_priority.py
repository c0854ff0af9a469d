"""Jobs get a priority (commands go first) and an index in the claim's order.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"))
    op.create_index("ix_jobs_claim", "jobs", ["state", "priority", "run_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_claim", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("priority")
