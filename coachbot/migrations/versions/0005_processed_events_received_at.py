"""An index on processed_events.received_at, so that event ids past Slack's retry window can be
deleted a batch at a time without reading the whole table.

Until this revision nothing deleted from processed_events, so on a busy PostgreSQL database it may
be large, and a plain CREATE INDEX blocks writes to it (events get 503s) while it builds. The
README says how to build it first with CREATE INDEX CONCURRENTLY; this revision then finds it
(IF NOT EXISTS) and does nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_processed_events_received_at", "processed_events", ["received_at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_processed_events_received_at", table_name="processed_events")
