"""The job ledger (job_runs) on every backend, and on PostgreSQL the job queue's own schema.

On PostgreSQL the work after an ack runs on procrastinate (``coachbot.jobs.queue``). Its
tables, functions and triggers are applied here, from the schema file the installed
procrastinate ships, so ``coachbot db upgrade`` (and ``coachbot serve``, which runs it) is
still the one step that prepares a database. procrastinate is pinned to a minor version in
pyproject.toml: moving to a newer one means a new revision here that applies its migration
files, as its upgrade notes say.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from coachbot.storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _procrastinate_schema() -> str:
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        exists = bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").scalar()
        if not exists:  # applied already by hand (procrastinate schema --apply): leave it
            # The raw driver cursor: the schema is many statements, with % and : in its bodies.
            bind.connection.dbapi_connection.cursor().execute(_procrastinate_schema())


def downgrade() -> None:
    op.drop_table("job_runs")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = _procrastinate_schema()
        for table in re.findall(r"^CREATE TABLE (\w+)", schema, re.M):
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        for function in sorted(set(re.findall(r"^CREATE FUNCTION (\w+)", schema, re.M))):
            op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
        for kind in re.findall(r"^CREATE TYPE (\w+)", schema, re.M):
            op.execute(f"DROP TYPE IF EXISTS {kind} CASCADE")
