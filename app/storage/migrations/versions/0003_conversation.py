"""Conversation and learning: learnings, the fate of each posted finding, and answer claims with costs.

Revision ID: 0003_conversation
Revises: 0002_drop_schema_version
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_conversation"
down_revision = "0002_drop_schema_version"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "learnings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(256), nullable=False),
        sa.Column("source_key", sa.String(128), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("path_pattern", sa.String(512), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("person", sa.String(256), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("repo", "source_key", name="uq_learnings_source"),
    )
    op.create_index("ix_learnings_repo", "learnings", ["repo"])
    op.create_table(
        "finding_states",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(256), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(40)),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer()),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("commit_sha", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text()),
        sa.Column("addressed_sha", sa.String(64)),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("repo", "pr_number", "fingerprint", name="uq_finding_states"),
    )
    op.create_index("ix_finding_states_repo_state", "finding_states", ["repo", "state"])
    op.create_table(
        "conversation_calls",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(256), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.BigInteger()),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("model_calls", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("repo", "kind", "source_id", name="uq_conversation_calls"),
    )
    op.create_index("ix_conversation_calls_pr", "conversation_calls", ["repo", "pr_number"])


def downgrade() -> None:
    op.drop_table("conversation_calls")
    op.drop_table("finding_states")
    op.drop_table("learnings")
