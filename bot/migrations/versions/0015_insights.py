"""Insights (issue 20): a finished run's jobs' time, what each stored log summary says went wrong, and
whether a repository has copilot-setup-steps.yml; the indexes the report reads (on PostgreSQL, two of
the sessions' indexes also carry the columns it adds up, so it reads them alone).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
REPORTED = ["state", "starter", "stuck", "started_at", "finished_at", "run_id", "run_attempt"]
# (index, its columns, what PostgreSQL's copy of it includes from 0014 on)
COVERING = [("ix_sessions_repository_newest", ["repository_id", "created_at", "id"], REPORTED),
            ("ix_sessions_newest", ["created_at", "id"], ["repository_id", *REPORTED])]


def upgrade() -> None:
    op.create_table(
        "run_times",
        sa.Column("repository_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_attempt", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float),
        sa.Column("jobs", sa.Integer, nullable=False),
        sa.Column("read_at", sa.Float, nullable=False),
    )
    op.create_table(
        "summary_causes",
        sa.Column("repository_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_attempt", sa.Integer, nullable=False),
        sa.Column("cause", sa.String(16)),
        sa.Column("classified_at", sa.Float, nullable=False),
    )
    op.create_table(
        "setup_steps_cache",
        sa.Column("id", Id, primary_key=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("present", sa.Boolean, nullable=False),
        sa.Column("checked_at", sa.Float, nullable=False),
        sa.UniqueConstraint("installation_id", "repository", name="uq_setup_steps_cache_key"),
    )
    op.create_index("ix_pull_requests_created", "pull_requests", ["repository_id", "created_at"],
                    postgresql_include=["state", "author"])
    if op.get_bind().dialect.name == "postgresql":  # SQLite has no INCLUDE: its indexes stay as they are
        for name, columns, include in COVERING:
            op.drop_index(name, table_name="sessions")
            op.create_index(name, "sessions", columns, postgresql_include=include)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, columns, _ in COVERING:
            op.drop_index(name, table_name="sessions")
            op.create_index(name, "sessions", columns)
    op.drop_index("ix_pull_requests_created", table_name="pull_requests")
    op.drop_table("setup_steps_cache")
    op.drop_table("summary_causes")
    op.drop_table("run_times")
