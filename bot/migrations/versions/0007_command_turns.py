"""Each person's commands take turns with everyone else's: the intake counts a person's commands
still waiting in the installation, by this index.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_command_runs_waiting", "command_runs", ["installation_id", "sender_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_command_runs_waiting", table_name="command_runs")
