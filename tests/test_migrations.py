"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from coachbot.storage.db import Database
from coachbot.storage.models import Base


def test_migrated_schema_matches_the_models(database: Database):
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert database.current_revision() == database.head_revision() == "0003"
