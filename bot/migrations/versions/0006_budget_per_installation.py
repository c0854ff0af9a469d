"""A backfill budget is granted once per installation and period, not once per delivery: the same
signed body replayed under a new delivery id must not grant it again.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backfill_budgets") as batch:
        batch.add_column(sa.Column("granted_at", sa.Float, nullable=False, server_default="0"))
    op.execute("UPDATE backfill_budgets SET granted_at = updated_at")
    with op.batch_alter_table("backfill_budgets") as batch:
        batch.drop_column("delivery")


def downgrade() -> None:
    with op.batch_alter_table("backfill_budgets") as batch:
        batch.add_column(sa.Column("delivery", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("backfill_budgets") as batch:
        batch.drop_column("granted_at")
