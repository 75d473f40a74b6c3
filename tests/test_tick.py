"""The scheduler's tick reads only what is due: each schedule's next due instant is kept on every
change, an idle tick runs the same few statements however many schedules there are, and it goes
through the index. The posting pace is one budget per workspace, shared by every process."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select, text

from coachbot import schedule as slots
from coachbot.pacing import SharedPacer
from coachbot.scheduler import tick
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.storage import due, pace
from coachbot.storage.db import Database
from coachbot.storage.models import Schedule, digest_due, prompt_due
from tests.scenario import START, Bot
from tests.test_housekeeping import blank_database_url  # noqa: F401  (the fixture: a database with no tables)

UTC = timezone.utc
WED_0930 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # START is Tuesday 2026-11-24 09:00 UTC
FRI_1600 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def instants(bot: Bot, channel: str) -> tuple[datetime | None, datetime | None]:
    with bot.services.db.session() as session:
        row = session.scalar(select(Schedule).where(Schedule.channel_id == channel))
        return row.next_due, row.digest_next_due


def poster(bot: Bot) -> SlackPromptPoster:
    return SlackPromptPoster(prompt_client(bot.web.bolt.client))


# --- the instant follows every change ---------------------------------------------------


class Commands:
    """``/prep daily ...`` and ``/prep digest ...`` as the handlers call the services (the Slack
    round trip is covered by test_scenario_daily; here only the stored instant matters)."""

    def __init__(self, bot: Bot, channel: str) -> None:
        self.bot = bot

    def slash(self, user: str, words: str, channel: str) -> None:
        team = self.bot.slack.team_id
        head, _, rest = words.partition(" ")
        if head == "daily":
            self.bot.services.prompts.configure(team, channel, user, rest)
        else:
            self.bot.services.digests.configure(team, channel, rest, may_manage=True)


def test_every_change_to_a_schedule_keeps_its_next_due_instant(bot: Bot):
    channel, team = "C0NEXT", bot.slack.team_id
    bot.slack.add_channel(channel)
    d = Commands(bot, channel)
    d.slash("U1", "daily technical 09:30 weekdays UTC", channel)
    assert instants(bot, channel) == (datetime(2026, 11, 24, 9, 30, tzinfo=UTC), FRI_1600)

    d.slash("U1", "daily pause until 2026-11-26", channel)  # Tue, Wed and Thu skipped
    assert instants(bot, channel)[0] == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    d.slash("U1", "daily resume", channel)
    assert instants(bot, channel)[0] == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

    d.slash("U1", "digest mon 08:00", channel)
    assert instants(bot, channel)[1] == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    d.slash("U1", "digest off", channel)
    assert instants(bot, channel)[1] is None
    d.slash("U1", "digest on", channel)
    assert instants(bot, channel)[1] == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    # Posted: due again at the next slot; the tick's claim does not linger.
    report = bot.services.prompts.send_due(poster(bot), datetime(2026, 11, 24, 9, 30, 5, tzinfo=UTC))
    assert len(report.posted) == 1
    assert instants(bot, channel)[0] == WED_0930

    # Missed past the grace window (2 h): skipped, and due at the slot after it.
    report = bot.services.prompts.send_due(poster(bot), WED_0930 + timedelta(hours=3))
    assert report.posted == [] and len(report.missed) == 1
    assert instants(bot, channel)[0] == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)

    d.slash("U1", "daily off", channel)
    assert instants(bot, channel) == (None, None)
    d.slash("U1", "daily leadership 18:00 daily Europe/Berlin", channel)
    assert instants(bot, channel)[0] == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)

    assert bot.services.prompts.bot_removed(team, channel) == "U1"
    assert instants(bot, channel) == (None, None)


def test_a_slot_left_to_retry_comes_due_on_the_next_tick_not_in_this_one(bot: Bot):
    channel = "C0RETRY"
    bot.slack.add_channel(channel)
    Commands(bot, channel).slash("U1", "daily technical 09:30 weekdays UTC", channel)
    bot.slack.fail("chat.postMessage", error="internal_error", times=-1)
    slot = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    first = bot.services.prompts.send_due(poster(bot), slot)
    assert first.posted == [] and len(first.retry_later) == 1
    assert instants(bot, channel)[0] == slot + due_next_tick()
    bot.slack.clear_faults()
    second = bot.services.prompts.send_due(poster(bot), slot + timedelta(seconds=30))
    assert len(second.posted) + len(second.recovered) == 1
    assert instants(bot, channel)[0] == WED_0930


def due_next_tick() -> timedelta:
    from coachbot.services.fanout import NEXT_TICK

    return NEXT_TICK


@pytest.mark.parametrize(("day", "local", "expected"), [
    # Spring forward in Berlin (02:00 -> 03:00): 02:30 does not exist; the slot is at the end of the gap, 03:30.
    (datetime(2026, 3, 29).date(), time(2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    # Fall back (03:00 -> 02:00): 02:30 happens twice; the slot is the first, still in summer time.
    (datetime(2026, 10, 25).date(), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
])
def test_the_next_due_instant_follows_the_dst_rules(day, local, expected):
    after = datetime.combine(day - timedelta(days=1), time(12, 0), tzinfo=UTC)
    assert slots.first_due(after, local.strftime("%H:%M"), {day.weekday()}, "Europe/Berlin") == expected
    assert expected == slots.slot_instant(day, local, "Europe/Berlin")


# --- the idle tick ----------------------------------------------------------------------


def seed(db: Database, team_id: str, n: int, *, start: int = 0) -> None:
    """``n`` schedules due at 09:30 UTC every day, handled through START (none due before 09:30)."""
    rows = []
    for i in range(start, start + n):
        row = {"team_id": team_id, "channel_id": f"C0IDLE{i:06d}", "mode": "technical", "local_time": "09:30",
               "weekdays": "0,1,2,3,4,5,6", "tz": "UTC", "created_by": "U1", "enabled": True,
               "checked_through": START, "posted_count": 0, "created_at": START, "updated_at": START,
               "digest_enabled": True, "digest_weekday": 4, "digest_time": "16:00", "digest_checked_through": START}
        row["next_due"], row["digest_next_due"] = prompt_due(_Row(row)), digest_due(_Row(row))
        rows.append(row)
    with db.session() as session:
        for at in range(0, len(rows), 1000):
            session.execute(insert(Schedule), rows[at:at + 1000])


class _Row:
    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)
        self.paused_until = None


def statements_of(db: Database, run) -> list[str]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


def test_an_idle_tick_runs_the_same_statements_at_any_scale(bot: Bot):
    db, team, now = bot.services.db, bot.slack.team_id, START + timedelta(minutes=5)
    seed(db, team, 10)
    small = statements_of(db, lambda: tick(bot.services, poster(bot), now))
    seed(db, team, 990, start=10)
    large = statements_of(db, lambda: tick(bot.services, poster(bot), now + timedelta(seconds=30)))
    assert len(small) == len(large) <= 4, large  # prompts, digests, forgetting old event ids
    assert sum("schedules" in s for s in large) == 2
    # The same statement takes what is due once its instant comes (09:30, the digests at 16:00 Friday).
    taken = due.take_due(db, "prompt", START.replace(minute=30), START.replace(minute=32), 2000)
    assert len(taken) == 1000 and due.take_due(db, "digest", START.replace(minute=30), START, 2000) == []


def test_the_idle_tick_goes_through_the_index(database: Database):
    seed(database, "T0IDX", 3000)
    with database.engine.begin() as connection:
        if database.is_postgresql:
            connection.execute(text("ANALYZE schedules"))
        for kind, index in (("prompt", "ix_schedules_next_due"), ("digest", "ix_schedules_digest_next_due")):
            statement = due.take_statement(kind, START + timedelta(minutes=5), START + timedelta(minutes=7), 32)
            compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN " if database.is_postgresql else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(r[-1]) for r in connection.execute(text(explain + str(compiled))))
            assert index in plan, plan
            assert "Seq Scan on schedules" not in plan and "SCAN schedules" not in plan.replace(
                f"SCAN schedules USING INDEX {index}", ""), plan


# --- the shared posting pace ------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer_on(database: Database, t: FakeTime, per_minute: float, burst: float) -> SharedPacer:
    return SharedPacer(per_minute, burst=burst, clock=t.clock, sleep=t.sleep,
                       take=lambda team, now, interval: pace.take(database, team, now=now, interval=interval),
                       hold=lambda team, until: pace.hold(database, team, until=until))


def test_two_processes_share_one_workspace_budget_and_workspaces_do_not_wait_on_each_other(database: Database):
    t = FakeTime()
    other = Database(database.url)  # a second process: its own engine on the same database
    try:
        one, two = pacer_on(database, t, 60, 5), pacer_on(other, t, 60, 5)  # 1/s after a burst of 5
        began = t.now
        waits = [(one if n % 2 else two).acquire("T0A") for n in range(10)]
        assert waits[:5] == [0.0] * 5  # the burst, whichever process takes it
        # Ten posts between them take as long as ten from one process: five at once, then one a second.
        assert t.now - began == pytest.approx(5.0)
        # Another workspace has its own full budget, at the same moment.
        assert [one.acquire("T0B") for _ in range(5)] == [0.0] * 5
        # A 429 seen by one process holds the workspace for both.
        two.pause("T0A", 30)
        assert one.acquire("T0A") >= 30
    finally:
        other.dispose()


# --- the migration ----------------------------------------------------------------------


def test_migration_0007_backfills_the_instants_of_existing_schedules(blank_database_url: str):
    from alembic import command

    db = Database(blank_database_url)
    try:
        config = db._alembic()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
        columns = ("team_id, channel_id, mode, local_time, weekdays, tz, created_by, enabled, paused_until, "
                   "checked_through, posted_count, created_at, updated_at, digest_enabled, digest_weekday, "
                   "digest_time, digest_checked_through")
        made = [  # (channel, enabled, paused until, digest on, local time, zone, weekdays)
            ("C0ON", True, None, True, "09:30", "Europe/Berlin", "0,1,2,3,4"),
            ("C0PAUSED", True, "2026-12-01", True, "09:30", "UTC", "0,1,2,3,4,5,6"),
            ("C0OFF", False, None, True, "09:30", "UTC", "0,1,2,3,4"),
            ("C0NODIGEST", True, None, False, "07:00", "America/New_York", "5"),
        ]
        with db.engine.begin() as connection:
            for channel, enabled, paused, digest, local_time, tz, weekdays in made:
                connection.execute(text(f"INSERT INTO schedules ({columns}) VALUES (:team, :channel, 'technical', "
                                        ":local_time, :weekdays, :tz, 'U1', :enabled, :paused, :at, 0, :at, :at, "
                                        ":digest, 4, '16:00', NULL)"),
                                   {"team": "T0MIG", "channel": channel, "local_time": local_time,
                                    "weekdays": weekdays, "tz": tz, "enabled": enabled, "digest": digest,
                                    "paused": paused, "at": START.replace(tzinfo=None)})
        db.upgrade()
        with db.session() as session:
            found = {row.channel_id: (row.next_due, row.digest_next_due) for row in session.scalars(select(Schedule))}
    finally:
        db.dispose()
    assert found == {
        "C0ON": (datetime(2026, 11, 25, 8, 30, tzinfo=UTC), FRI_1600 - timedelta(hours=1)),  # Berlin is UTC+1
        "C0PAUSED": (datetime(2026, 12, 2, 9, 30, tzinfo=UTC), FRI_1600),
        "C0OFF": (None, None),
        "C0NODIGEST": (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), None),  # Saturday 07:00 in New York
    }


def test_a_batch_is_posted_in_turns_by_workspace():
    from coachbot.services.fanout import interleaved

    taken = [("T0A", 1), ("T0A", 2), ("T0A", 3), ("T0B", 4), ("T0C", 5), ("T0C", 6)]
    assert interleaved(taken) == [("T0A", 1), ("T0B", 4), ("T0C", 5), ("T0A", 2), ("T0C", 6), ("T0A", 3)]
    assert interleaved([]) == []
