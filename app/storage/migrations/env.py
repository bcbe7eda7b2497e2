"""Alembic environment: run the revisions on the connection `runner.py` hands in (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from app.storage.tables import metadata


def run_on_given_connection() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through app.storage.db.migrate (`mini-review migrate`)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters tables by copying them; autogenerate drafts batch operations for both backends.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file by path under a module name of its own; importing the package module (tools
# walking app/) must not start a migration.
if __name__ != "app.storage.migrations.env":
    run_on_given_connection()
