"""Alembic environment: always run programmatically with a connection handed in by
:func:`safeshare.store.migrate.upgrade` (never from the current directory's alembic.ini)."""

from __future__ import annotations

from alembic import context

from safeshare.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the package never runs alembic this way
    raise RuntimeError("run migrations through safeshare.store.migrate.upgrade(engine)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
