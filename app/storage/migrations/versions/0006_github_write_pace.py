"""GitHub write pacing shared by every process (one row per installation).

Revision ID: 0006_github_write_pace
Revises: 0005_procrastinate
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_github_write_pace"
down_revision = "0005_procrastinate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "github_write_pace",
        sa.Column("installation_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("tat", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("github_write_pace")
