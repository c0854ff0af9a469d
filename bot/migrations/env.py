"""Alembic environment: run on the connection the bot hands over (see bot.db.upgrade)."""

from alembic import context

from bot.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `flask --app app db upgrade` (bot.db.upgrade)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
