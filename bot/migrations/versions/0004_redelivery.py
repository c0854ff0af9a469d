"""Missed-delivery recovery: the redeliveries asked for, how far GitHub's log was examined; an index
on jobs.delivery_id so retention can delete deliveries without scanning the jobs table.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "redelivery_requests",
        sa.Column("id", Id, primary_key=True),
        sa.Column("guid", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("hook_delivery_id", sa.BigInteger, nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(255)),
        sa.UniqueConstraint("guid", "attempt", name="uq_redelivery_requests_attempt"),
    )
    op.create_index("ix_redelivery_requests_requested_at", "redelivery_requests", ["requested_at"])
    op.create_table(
        "redelivery_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("examined_until", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_jobs_delivery_id", "jobs", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_delivery_id", table_name="jobs")
    op.drop_table("redelivery_cursor")
    op.drop_table("redelivery_requests")
