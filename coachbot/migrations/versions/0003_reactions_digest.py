"""Reactions on answers, the weekly digest, cached permalinks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from coachbot.storage.models import ID, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("reaction_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("permalink", sa.String(400), nullable=True))
    op.create_index("ix_answers_team_created", "answers", ["team_id", "created_at"])
    op.create_index("ix_answers_team_channel_created", "answers", ["team_id", "channel_id", "created_at"])
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("digest_enabled", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("digest_weekday", sa.Integer(), nullable=False, server_default="4"))
        batch.add_column(sa.Column("digest_time", sa.String(5), nullable=False, server_default="16:00"))
        batch.add_column(sa.Column("digest_checked_through", UTCDateTime(), nullable=True))
    op.create_table(
        "reactions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("answer_id", ID, sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("emoji", sa.String(100), nullable=False),
        sa.Column("is_self", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "answer_id", "user_id", "emoji", name="uq_reactions_one_each"),
    )
    op.create_index("ix_reactions_answer", "reactions", ["answer_id"])
    op.create_index("ix_reactions_team_user", "reactions", ["team_id", "user_id"])
    op.create_table(
        "digests",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("schedule_id", ID, nullable=False),
        sa.Column("slot_key", sa.String(16), nullable=False),
        sa.Column("slot_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.UniqueConstraint("team_id", "channel_id", "slot_key", name="uq_digests_slot"),
    )


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_index("ix_reactions_team_user", table_name="reactions")
    op.drop_index("ix_reactions_answer", table_name="reactions")
    op.drop_table("reactions")
    with op.batch_alter_table("schedules") as batch:
        for column in ("digest_checked_through", "digest_time", "digest_weekday", "digest_enabled"):
            batch.drop_column(column)
    op.drop_index("ix_answers_team_channel_created", table_name="answers")
    op.drop_index("ix_answers_team_created", table_name="answers")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("permalink")
        batch.drop_column("reaction_count")
