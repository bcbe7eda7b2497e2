"""GitHub's hourly write budget shared by every process: a second schedule per installation.

Revision ID: 0008_github_write_hour
Revises: 0007_delivery_inbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_github_write_hour"
down_revision = "0007_delivery_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("github_write_pace", sa.Column("hour_tat", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("github_write_pace") as batch:
        batch.drop_column("hour_tat")
