"""Deliveries become the intake's inbox: what a delivery asks for, and whether it was applied yet.

A webhook is acknowledged once its row (with `effects`) is committed; the jobs it asks for are
written afterwards by an applier, which sets `applied_at`. Rows written before this revision were
applied in the same transaction, so they are marked applied.

Revision ID: 0007_delivery_inbox
Revises: 0006_github_write_pace
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_delivery_inbox"
down_revision = "0006_github_write_pace"
branch_labels = None
depends_on = None

PENDING = sa.text("applied_at IS NULL")


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("effects", sa.JSON(), nullable=True))
    op.add_column("deliveries", sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE deliveries SET applied_at = received_at")
    op.create_index(
        "ix_deliveries_pending",
        "deliveries",
        ["received_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_pending", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("applied_at")
        batch.drop_column("effects")
