"""Shared fixtures. Every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (``.ci/run`` sets it). Each test run
creates its own database on that server, migrates it once, and empties the
tables between tests; SQLite tests copy a migrated template file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from coachbot.storage.db import Database

from tests.scenario import empty_tables

BACKENDS = ("sqlite", "postgresql")


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        return None
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = _postgres_admin_url()
    if admin_url is None:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set; .ci/run sets it to the PostgreSQL test server")
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)")
    name = f"coachbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    database.upgrade()
    database.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "coachbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    empty_tables(url)
    return url


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """The per-run PostgreSQL database, emptied for this test (for PostgreSQL-only tests)."""
    empty_tables(postgres_url)
    return postgres_url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def slack() -> Iterator["StandInSlack"]:
    from coachbot.standin.server import StandInSlack

    server = StandInSlack().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot(slack, database_url: str):
    from tests.scenario import start_bot

    running = start_bot(slack, database_url)
    yield running
    running.web.close()
