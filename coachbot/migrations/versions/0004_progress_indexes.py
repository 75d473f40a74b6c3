"""Indexes for reading progress at scale: a person's newest-first index becomes a covering index for
their stats, and a covering index for a channel's all-time answers per category.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_answers_user_team_progress", "answers",
                    ["user_id", "team_id", "created_at", "id", "visibility", "reaction_count", "track", "category",
                     "local_day", "channel_id"])
    op.drop_index("ix_answers_team_user_created", table_name="answers")
    op.create_index("ix_answers_team_channel_category", "answers", ["team_id", "channel_id", "visibility", "category"])


def downgrade() -> None:
    op.drop_index("ix_answers_team_channel_category", table_name="answers")
    op.create_index("ix_answers_team_user_created", "answers", ["team_id", "user_id", "created_at"])
    op.drop_index("ix_answers_user_team_progress", table_name="answers")
