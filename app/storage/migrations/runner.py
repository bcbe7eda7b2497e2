"""Upgrade a database to the newest revision on a connection we already hold (Alembic, no ini file)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Integer, column, inspect, select, table, text
from sqlalchemy.engine import Connection

HERE = Path(__file__).resolve().parent
# Release v1 tracked its schema in this table; version 1 is the schema of revision 0001_initial.
RELEASE_V1_TABLE = "schema_version"
RELEASE_V1_REVISION = "0001_initial"
# First key of the two-key advisory lock (the second is the schema): one migrator per schema at a time.
PG_LOCK_CLASS = 74201001


class UnknownSchemaError(RuntimeError):
    """The database was written by a schema this release cannot upgrade (storage imports no app errors)."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no revisions under app/storage/migrations/versions"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection) -> str:
    """Adopt a release-v1 database if this is one, then upgrade; runs in the caller's transaction."""
    if connection.dialect.name == "postgresql":
        # Many web/worker processes start at once: the first migrates, the others then find head.
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"), {"cls": PG_LOCK_CLASS}
        )
    config = alembic_config(connection)
    if _is_release_v1(connection):
        command.stamp(config, RELEASE_V1_REVISION)
    command.upgrade(config, "head")
    revision = current_revision(connection)
    assert revision is not None
    return revision


def _is_release_v1(connection: Connection) -> bool:
    names = set(inspect(connection).get_table_names())
    if RELEASE_V1_TABLE not in names or "alembic_version" in names:
        return False
    version = column("version", Integer)
    newest = connection.execute(select(version).select_from(table(RELEASE_V1_TABLE)).order_by(version.desc()))
    found = newest.scalar()
    if found != 1:
        raise UnknownSchemaError(f"database has schema_version {found}; only version 1 can be upgraded")
    return True
