"""Alembic environment: migrations run on the connection the bot hands over."""

from __future__ import annotations

from alembic import context

from bot.db.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `vertebrobot db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
