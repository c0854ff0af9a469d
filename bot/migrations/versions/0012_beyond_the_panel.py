"""Beyond GitHub's panel: a stop's reason, the watchdog's stuck mark, and notices (comments that
mention a person once about one session).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("session_stops") as batch:
        batch.add_column(sa.Column("reason", sa.String(300)))
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("stuck", sa.String(16)))
        batch.add_column(sa.Column("stuck_at", sa.Float))
    op.create_table(
        "session_notices",
        sa.Column("id", Id, primary_key=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("pr_number", sa.Integer, nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("comment_id", sa.BigInteger),
        sa.Column("uncertain", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("posted_at", sa.Float),
        sa.UniqueConstraint("repository_id", "run_id", "kind", name="uq_session_notices_kind"),
    )


def downgrade() -> None:
    op.drop_table("session_notices")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("stuck_at")
        batch.drop_column("stuck")
    with op.batch_alter_table("session_stops") as batch:
        batch.drop_column("reason")
