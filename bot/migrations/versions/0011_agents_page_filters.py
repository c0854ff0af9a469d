"""The Agents page's filters read off indexes: by state and by person across every repository (the
operator), and by state within a viewer's repositories; the counts per state use the same ones.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sessions_state_newest", "sessions", ["state", "created_at", "id"])
    op.create_index("ix_sessions_starter_newest", "sessions", ["starter", "created_at", "id"])
    op.create_index("ix_sessions_repository_state_newest", "sessions", ["repository_id", "state", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_repository_state_newest", table_name="sessions")
    op.drop_index("ix_sessions_starter_newest", table_name="sessions")
    op.drop_index("ix_sessions_state_newest", table_name="sessions")
