"""Daily prompts: schedules and the prompts posted for them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from coachbot.storage.models import ID, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("local_time", sa.String(5), nullable=False),
        sa.Column("weekdays", sa.String(16), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("status_note", sa.String(200), nullable=True),
        sa.Column("checked_through", UTCDateTime(), nullable=False),
        sa.Column("posted_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", name="uq_schedules_team_channel"),
    )
    op.create_table(
        "prompts",
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
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("question_text", sa.Text(), nullable=False),
        sa.Column("track", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.UniqueConstraint("team_id", "channel_id", "slot_key", name="uq_prompts_slot"),
    )
    op.create_index("ix_prompts_team_message", "prompts", ["team_id", "channel_id", "message_ts"])


def downgrade() -> None:
    op.drop_index("ix_prompts_team_message", table_name="prompts")
    op.drop_table("prompts")
    op.drop_table("schedules")
