"""The dashboard's tables: sign-in sessions, generated secrets, repository switches, run progress.

Revision ID: 0004_dashboard
Revises: 0003_conversation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_dashboard"
down_revision = "0003_conversation"
branch_labels = None
depends_on = None

# Frozen: never import from tables.py here.
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger()),
        sa.Column("login", sa.String(256)),
        sa.Column("token", sa.Text()),
        sa.Column("oauth_state", sa.String(64)),
        sa.Column("next_path", sa.Text()),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
    )
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_table(
        "repo_settings",
        sa.Column("repo", sa.String(256), primary_key=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(256)),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_table(
        "run_progress",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("pr_title", sa.Text()),
        sa.Column("installation_id", sa.BigInteger()),
        sa.Column("stage", sa.String(32)),
        sa.Column("chunks_done", sa.Integer()),
        sa.Column("chunks_total", sa.Integer()),
        sa.Column("reviewed_files", sa.JSON()),
        sa.Column("updated_at", UTC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_progress")
    op.drop_table("repo_settings")
    op.drop_table("app_secrets")
    op.drop_index("ix_sessions_expires_at", table_name="sessions")
    op.drop_table("sessions")
