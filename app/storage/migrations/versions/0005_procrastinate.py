"""PostgreSQL: the job engine's schema (procrastinate's tables, types, functions); nothing on SQLite.

Revision ID: 0005_procrastinate
Revises: 0004_dashboard

procrastinate's tables are created by our migrations so that `mini-review migrate` is the one step
of a deploy. The SQL is the schema of the pinned procrastinate version (pyproject pins it exactly);
upgrading procrastinate means a new revision that applies its own migration files.
"""

from __future__ import annotations

from alembic import op

revision = "0005_procrastinate"
down_revision = "0004_dashboard"
branch_labels = None
depends_on = None

DROP_ALL = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %%I CASCADE', r.tablename);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%%' LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %%s CASCADE', r.sig);
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%%'
               AND t.typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %%I CASCADE', r.typname);
    END LOOP;
END;
$$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # The driver reads `%` as a placeholder: double them, as procrastinate itself does.
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(DROP_ALL)
