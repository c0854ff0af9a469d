"""Sessions join pull requests on (head repository, branch), never the branch name alone: a fork's
pull request may carry a branch named like the agent's.

Existing sessions take their repository as their head repository: they are runs of the agent's
`dynamic` workflow, which runs on a branch of the repository itself. Existing pull requests are
left unknown (NULL, joining no session) until GitHub's next word on them says where their head is.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sessions_repository_branch", table_name="sessions")
    op.drop_index("ix_pull_requests_branch", table_name="pull_requests")
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("head_repository_id", sa.BigInteger))
    with op.batch_alter_table("pull_requests") as batch:
        batch.add_column(sa.Column("head_repository_id", sa.BigInteger))
    op.execute("UPDATE sessions SET head_repository_id = repository_id")
    op.create_index("ix_sessions_repository_branch", "sessions",
                    ["repository_id", "head_repository_id", "head_branch"])
    op.create_index("ix_pull_requests_branch", "pull_requests",
                    ["repository_id", "head_repository_id", "head_branch"])


def downgrade() -> None:
    op.drop_index("ix_pull_requests_branch", table_name="pull_requests")
    op.drop_index("ix_sessions_repository_branch", table_name="sessions")
    with op.batch_alter_table("pull_requests") as batch:
        batch.drop_column("head_repository_id")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("head_repository_id")
    op.create_index("ix_pull_requests_branch", "pull_requests", ["repository_id", "head_branch"])
    op.create_index("ix_sessions_repository_branch", "sessions", ["repository_id", "head_branch"])
