"""Event ids past Slack's retry window are forgotten, a batch at a time; recent ones still stop
redeliveries; the index that makes it cheap can be built by hand before its migration. On SQLite
and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, inspect, make_url, select, text
from sqlalchemy.exc import IntegrityError

from coachbot.clock import FixedClock
from coachbot.services.housekeeping import KEEP_EVENT_IDS, HousekeepingService
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.storage import repo
from coachbot.storage.db import Database
from coachbot.storage.models import ProcessedEvent

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def remember(db: Database, team: str, ages: dict[str, timedelta]) -> None:
    with db.session() as session:
        for event_id, age in ages.items():
            repo.remember_event(session, team, event_id, NOW - age)


def remembered(db: Database) -> set[tuple[str, str]]:
    with db.session() as session:
        return {(team, event) for team, event in session.execute(select(ProcessedEvent.team_id, ProcessedEvent.event_id))}


def test_ids_older_than_a_day_are_forgotten_and_newer_ones_kept(database: Database):
    remember(database, "T1", {"Ev-old": timedelta(days=3), "Ev-just-old": KEEP_EVENT_IDS + timedelta(seconds=1),
                              "Ev-at-the-line": KEEP_EVENT_IDS, "Ev-recent": timedelta(minutes=5)})
    remember(database, "T2", {"Ev-old": timedelta(days=2), "Ev-new": timedelta(seconds=1)})
    forgotten = HousekeepingService(database, FixedClock(NOW)).forget_old_event_ids()
    assert forgotten == 3
    assert remembered(database) == {("T1", "Ev-at-the-line"), ("T1", "Ev-recent"), ("T2", "Ev-new")}


def test_a_redelivery_of_a_kept_id_is_still_refused(database: Database):
    remember(database, "T1", {"Ev-recent": timedelta(minutes=5), "Ev-old": timedelta(days=2)})
    HousekeepingService(database, FixedClock(NOW)).forget_old_event_ids()
    with pytest.raises(IntegrityError):
        with database.session() as session:
            repo.remember_event(session, "T1", "Ev-recent", NOW)


@pytest.mark.parametrize(("batch", "max_batches", "expected"), [(3, 2, [6, 4, 0]), (4, 5, [10, 0]), (10, 1, [10, 0])])
def test_it_forgets_a_batch_per_transaction_and_at_most_so_many_per_call(
        database: Database, batch: int, max_batches: int, expected: list[int]):
    remember(database, "T1", {f"Ev{n:02d}": timedelta(days=2, minutes=n) for n in range(10)})
    remember(database, "T1", {"Ev-recent": timedelta(hours=1)})
    service = HousekeepingService(database, FixedClock(NOW), batch=batch, max_batches=max_batches)
    assert [service.forget_old_event_ids() for _ in expected] == expected
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


def test_the_oldest_go_first(database: Database):
    remember(database, "T1", {f"Ev{n}": timedelta(days=2, hours=n) for n in range(5)})
    HousekeepingService(database, FixedClock(NOW), batch=2, max_batches=1).forget_old_event_ids()
    assert remembered(database) == {("T1", "Ev0"), ("T1", "Ev1"), ("T1", "Ev2")}


def test_each_scheduler_tick_forgets_old_ids(bot):
    from coachbot.scheduler import tick

    now = bot.clock.now()
    with bot.services.db.session() as session:
        repo.remember_event(session, bot.slack.team_id, "Ev-old", now - timedelta(days=2))
        repo.remember_event(session, bot.slack.team_id, "Ev-recent", now - timedelta(minutes=1))
    tick(bot.services, SlackPromptPoster(prompt_client(bot.web.bolt.client)), now)
    assert remembered(bot.services.db) == {(bot.slack.team_id, "Ev-recent")}


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database with no tables at all, for migrating step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    from tests.conftest import _postgres_admin_url

    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)")
    name = f"coachbot_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_index_built_by_hand_before_revision_0005_is_kept(blank_database_url: str):
    """The README's advice for a large table: build the index without blocking writes, then upgrade."""
    from alembic import command

    db = Database(blank_database_url)
    try:
        config = db._alembic()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0004")
        concurrently = "CONCURRENTLY " if db.is_postgresql else ""
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"CREATE INDEX {concurrently}IF NOT EXISTS ix_processed_events_received_at "
                                    "ON processed_events (received_at)"))
        db.upgrade()
        assert db.current_revision() == db.head_revision() and db.head_revision() >= "0005"
        with db.engine.connect() as connection:
            indexes = [ix["name"] for ix in inspect(connection).get_indexes("processed_events")]
        assert indexes.count("ix_processed_events_received_at") == 1
    finally:
        db.dispose()
