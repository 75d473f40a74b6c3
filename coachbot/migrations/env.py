"""Alembic environment. Runs on a connection handed over by Database.upgrade,
or on the URL in the config when run from the alembic command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from coachbot.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # The job queue's tables (procrastinate_*, revision 0008) are procrastinate's, not our models:
        # autogenerate must never propose dropping them.
        include_name=lambda name, kind, parent: not (name or "").startswith("procrastinate_"),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
