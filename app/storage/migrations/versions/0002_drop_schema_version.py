"""Drop release v1's own version table: Alembic's `alembic_version` took over.

Revision ID: 0002_drop_schema_version
Revises: 0001_initial

A release-v1 database (tables made by `create_all`, `schema_version` = 1) is stamped at 0001_initial
by the runner before upgrading, so its data stays where it is; a fresh database never had the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_drop_schema_version"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DROP TABLE IF EXISTS schema_version"))


def downgrade() -> None:
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
