"""Each schedule's next due instant for prompts and digests, indexed, and the shared posting pace.

A scheduler tick used to read every schedule and work out with the slot maths whether it was due
(four statements per schedule); with ``next_due`` and ``digest_next_due`` it reads only the rows
whose instant has come, through a partial index (rows that are off hold NULL and stay out of it).
Existing rows are backfilled here with the same slot maths, a batch at a time.

``posting_pace`` holds one token bucket per workspace, so every process that posts to a workspace
spends one budget between them rather than one each.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from coachbot.storage.models import UTCDateTime, digest_due, prompt_due

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 1000

_schedules = sa.table(
    "schedules", sa.column("id", sa.Integer), sa.column("enabled", sa.Boolean), sa.column("local_time", sa.String),
    sa.column("weekdays", sa.String), sa.column("tz", sa.String), sa.column("paused_until", sa.Date),
    sa.column("checked_through", UTCDateTime()), sa.column("created_at", UTCDateTime()),
    sa.column("digest_enabled", sa.Boolean), sa.column("digest_weekday", sa.Integer),
    sa.column("digest_time", sa.String), sa.column("digest_checked_through", UTCDateTime()),
    sa.column("next_due", UTCDateTime()), sa.column("digest_next_due", UTCDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("next_due", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("digest_next_due", UTCDateTime(), nullable=True))
    _backfill()
    op.create_index("ix_schedules_next_due", "schedules", ["next_due"],
                    postgresql_where=sa.text("next_due IS NOT NULL"), sqlite_where=sa.text("next_due IS NOT NULL"))
    op.create_index("ix_schedules_digest_next_due", "schedules", ["digest_next_due"],
                    postgresql_where=sa.text("digest_next_due IS NOT NULL"),
                    sqlite_where=sa.text("digest_next_due IS NOT NULL"))
    op.create_table(
        "posting_pace",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("next_at", sa.Double(), nullable=False),
    )


def _backfill() -> None:
    """Both instants for every existing schedule, by id in batches (each row read once)."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(sa.select(_schedules).where(_schedules.c.id > last)
                                  .order_by(_schedules.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = [{"row_id": row.id, "prompt_at": prompt_due(row), "digest_at": digest_due(row)}
                  for row in rows]
        connection.execute(_schedules.update().where(_schedules.c.id == sa.bindparam("row_id"))
                           .values(next_due=sa.bindparam("prompt_at"), digest_next_due=sa.bindparam("digest_at")),
                           values)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_table("posting_pace")
    op.drop_index("ix_schedules_digest_next_due", table_name="schedules")
    op.drop_index("ix_schedules_next_due", table_name="schedules")
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("digest_next_due")
        batch.drop_column("next_due")
