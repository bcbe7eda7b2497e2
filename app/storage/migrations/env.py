"""Alembic environment: run the revisions on the connection `runner.py` hands in (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from app.storage.tables import metadata

# The job engine's objects (PostgreSQL) come from revision 0005, not from our models.
ENGINE_PREFIX = "procrastinate_"


def ours(name: str | None, type_: str, parent_names: object) -> bool:  # noqa: ARG001 - Alembic's hook
    """Autogenerate compares only our own tables (procrastinate's are applied as its SQL)."""
    return not (type_ == "table" and (name or "").startswith(ENGINE_PREFIX))


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
        include_name=ours,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file by path under a module name of its own; importing the package module (tools
# walking app/) must not start a migration.
if __name__ != "app.storage.migrations.env":
    run_on_given_connection()
