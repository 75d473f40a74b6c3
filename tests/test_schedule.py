"""Daily schedules: parsing ``/prep daily ...`` and the slot maths across DST."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachbot.errors import CoachbotError, InvalidInputError
from coachbot.schedule import (
    LOOKBACK,
    DailyOff,
    DailyPause,
    DailyQuery,
    DailyRequest,
    DueResult,
    Slot,
    describe,
    describe_days,
    due_slots,
    next_slot,
    parse_daily,
    slot_instant,
)

UTC = timezone.utc
DEFAULT_TZ = "America/New_York"
WEEKDAYS = frozenset({0, 1, 2, 3, 4})
EVERY_DAY = frozenset(range(7))
MON_WED_FRI = frozenset({0, 2, 4})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse(words: str) -> object:
    return parse_daily(words, default_tz=DEFAULT_TZ)


# ---------------------------------------------------------------------------
# Parsing: the non-schedule forms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("", DailyQuery()),
        ("   ", DailyQuery()),
        ("off", DailyOff()),
        ("OFF", DailyOff()),
        ("stop", DailyOff()),
        ("pause until 2026-12-01", DailyPause(date(2026, 12, 1))),
        ("Pause Until 2026-12-01", DailyPause(date(2026, 12, 1))),
        ("pause until 2028-02-29", DailyPause(date(2028, 2, 29))),
        ("pause until 2020-01-01", DailyPause(date(2020, 1, 1))),  # the past is the caller's business
        ("resume", DailyPause(None)),
    ],
)
def test_parse_commands(words: str, expected: object) -> None:
    assert parse(words) == expected


@pytest.mark.parametrize(
    ("words", "bad"),
    [
        ("pause until 2026-02-30", "2026-02-30"),
        ("pause until 2027-02-29", "2027-02-29"),
        ("pause until 2026-13-01", "2026-13-01"),
        ("pause until tomorrow", "tomorrow"),
        ("pause until 1/12/2026", "1/12/2026"),
        ("pause until 2026-12-01 please", "please"),
        ("off now", "now"),
        ("resume today", "today"),
    ],
)
def test_parse_command_errors_name_the_bad_part(words: str, bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse(words)
    assert bad in str(caught.value)
    assert "/prep daily" in str(caught.value)  # says how to do it


@pytest.mark.parametrize("words", ["pause", "pause until"])
def test_pause_without_a_date_explains_the_form(words: str) -> None:
    with pytest.raises(InvalidInputError, match="pause until YYYY-MM-DD"):
        parse(words)


# ---------------------------------------------------------------------------
# Parsing: schedules
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "mode", "local_time", "weekdays", "tz"),
    [
        ("leadership 09:30 weekdays Europe/Berlin", "leadership", time(9, 30), WEEKDAYS, "Europe/Berlin"),
        # defaults: 09:30, weekdays, the person's timezone
        ("technical", "technical", time(9, 30), WEEKDAYS, DEFAULT_TZ),
        ("mixed 7:05", "mixed", time(7, 5), WEEKDAYS, DEFAULT_TZ),
        ("alternate daily", "alternate", time(9, 30), EVERY_DAY, DEFAULT_TZ),
        ("alternate Asia/Kolkata", "alternate", time(9, 30), WEEKDAYS, "Asia/Kolkata"),
        # times
        ("lead 9:30", "leadership", time(9, 30), WEEKDAYS, DEFAULT_TZ),
        ("lead 00:00", "leadership", time(0, 0), WEEKDAYS, DEFAULT_TZ),
        ("lead 23:59", "leadership", time(23, 59), WEEKDAYS, DEFAULT_TZ),
        ("lead 9am", "leadership", time(9, 0), WEEKDAYS, DEFAULT_TZ),
        ("lead 9AM", "leadership", time(9, 0), WEEKDAYS, DEFAULT_TZ),
        ("lead 4:15pm", "leadership", time(16, 15), WEEKDAYS, DEFAULT_TZ),
        ("lead 4:15 pm", "leadership", time(16, 15), WEEKDAYS, DEFAULT_TZ),
        ("lead 12am", "leadership", time(0, 0), WEEKDAYS, DEFAULT_TZ),
        ("lead 12:30pm", "leadership", time(12, 30), WEEKDAYS, DEFAULT_TZ),
        # days
        ("lead everyday", "leadership", time(9, 30), EVERY_DAY, DEFAULT_TZ),
        ("lead every day", "leadership", time(9, 30), EVERY_DAY, DEFAULT_TZ),
        ("lead Every Day 8:00", "leadership", time(8, 0), EVERY_DAY, DEFAULT_TZ),
        ("lead mon,wed,fri", "leadership", time(9, 30), MON_WED_FRI, DEFAULT_TZ),
        ("lead Monday,WED,fri", "leadership", time(9, 30), MON_WED_FRI, DEFAULT_TZ),
        ("lead mon, wed , fri", "leadership", time(9, 30), MON_WED_FRI, DEFAULT_TZ),
        ("lead tue,thu", "leadership", time(9, 30), frozenset({1, 3}), DEFAULT_TZ),
        ("lead tues,thurs", "leadership", time(9, 30), frozenset({1, 3}), DEFAULT_TZ),
        ("lead thursday", "leadership", time(9, 30), frozenset({3}), DEFAULT_TZ),
        ("lead sat,sun", "leadership", time(9, 30), frozenset({5, 6}), DEFAULT_TZ),
        ("lead WEEKDAYS", "leadership", time(9, 30), WEEKDAYS, DEFAULT_TZ),
        # timezones, matched case-insensitively, returned in canonical spelling
        ("lead europe/berlin", "leadership", time(9, 30), WEEKDAYS, "Europe/Berlin"),
        ("lead AMERICA/NEW_YORK", "leadership", time(9, 30), WEEKDAYS, "America/New_York"),
        ("lead america/argentina/buenos_aires", "leadership", time(9, 30), WEEKDAYS, "America/Argentina/Buenos_Aires"),
        ("lead UTC", "leadership", time(9, 30), WEEKDAYS, "UTC"),
        ("lead utc", "leadership", time(9, 30), WEEKDAYS, "UTC"),
        # everything at once, odd order, odd case
        ("Europe/Berlin FRI,mon 6:45PM TECH", "technical", time(18, 45), frozenset({0, 4}), "Europe/Berlin"),
    ],
)
def test_parse_schedule(words: str, mode: str, local_time: time, weekdays: frozenset[int], tz: str) -> None:
    assert parse(words) == DailyRequest(mode=mode, local_time=local_time, weekdays=weekdays, tz=tz)


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["leadership", "16:00", "mon,wed,fri", "Asia/Tokyo"]))
)
def test_schedule_words_in_any_order(order: tuple[str, ...]) -> None:
    expected = DailyRequest("leadership", time(16, 0), MON_WED_FRI, "Asia/Tokyo")
    assert parse(" ".join(order)) == expected


@pytest.mark.parametrize(
    ("word", "mode"),
    [
        ("technical", "technical"),
        ("tech", "technical"),
        ("t", "technical"),
        ("techn", "technical"),
        ("Technical", "technical"),
        ("leadership", "leadership"),
        ("lead", "leadership"),
        ("leader", "leadership"),
        ("l", "leadership"),
        ("alternate", "alternate"),
        ("alt", "alternate"),
        ("alter", "alternate"),
        ("alternating", "alternate"),
        ("mixed", "mixed"),
        ("mix", "mixed"),
        ("mi", "mixed"),
        ("both", "mixed"),
        ("BOTH", "mixed"),
    ],
)
def test_mode_aliases_and_prefixes(word: str, mode: str) -> None:
    request = parse(f"{word} 10:00")
    assert isinstance(request, DailyRequest)
    assert request.mode == mode


@pytest.mark.parametrize(
    ("words", "bad"),
    [
        ("lead 25:00", "25:00"),
        ("lead 9:75", "9:75"),
        ("lead 24:00", "24:00"),
        ("lead 9:5", "9:5"),
        ("lead 13pm", "13pm"),
        ("lead 0am", "0am"),
        ("lead 9", "9"),
        ("lead 0930", "0930"),
        ("lead 9.30", "9.30"),
        ("lead 9:30 10:00", "10:00"),
        ("lead funday", "funday"),
        ("lead mon,funday", "funday"),
        ("lead mon,wed,fryday", "fryday"),
        ("lead Mars/Olympus", "Mars/Olympus"),
        ("lead Europe/Berln", "Europe/Berln"),
        ("lead Europe/Berlin Asia/Tokyo", "Asia/Tokyo"),
        ("lead tomorrow", "tomorrow"),
        ("leadership technical", "technical"),
        ("lead every", "every"),
        ("lead 09:30 weekdays Europe/Berlin please", "please"),
        ("leadership pause", "pause"),
    ],
)
def test_schedule_errors_name_the_bad_part(words: str, bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse(words)
    message = str(caught.value)
    assert f"`{bad}`" in message
    assert "/prep daily leadership 09:30 weekdays Europe/Berlin" in message  # an example to copy


def test_bad_time_message_explains_the_format() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse("lead 25:00")
    assert "isn't a time of day" in str(caught.value)
    assert "HH:MM" in str(caught.value)


@pytest.mark.parametrize("words", ["09:30 weekdays Europe/Berlin", "daily", "Europe/Berlin"])
def test_missing_mode_lists_the_modes(words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse(words)
    for mode in ("technical", "leadership", "alternate", "mixed"):
        assert mode in str(caught.value)


def test_invalid_input_is_a_coachbot_error() -> None:
    with pytest.raises(CoachbotError):
        parse("lead 99:99")


@pytest.mark.parametrize(
    "words",
    [
        "lead <@U12345678>",
        "lead <!channel>",
        "lead <!here|here>",
        "lead 9:3<@U1>",
        "lead Europe/<@U1>",
        "lead mon,<!everyone>",
        "pause until <!channel>",
        "off <@U1>",
    ],
)
def test_error_messages_cannot_mention_anyone(words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse(words)
    assert "<" not in str(caught.value)
    assert ">" not in str(caught.value)


def test_echoed_words_are_cut_to_40_characters() -> None:
    word = "x" * 39 + "ABCDEFGHIJ"
    with pytest.raises(InvalidInputError) as caught:
        parse(f"lead {word}")
    message = str(caught.value)
    assert word[:40] in message
    assert word[:41] not in message


def test_invalid_default_tz_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_daily("lead", default_tz="Mars/Olympus")
    # ... but an explicit timezone makes the default irrelevant
    assert parse_daily("lead UTC", default_tz="Mars/Olympus") == DailyRequest("leadership", time(9, 30), WEEKDAYS, "UTC")


@pytest.mark.parametrize(
    ("weekdays", "text"),
    [
        (WEEKDAYS, "weekdays"),
        (EVERY_DAY, "every day"),
        (MON_WED_FRI, "Mon, Wed, Fri"),
        (frozenset({6, 0}), "Mon, Sun"),
        (frozenset({3}), "Thu"),
        (frozenset({0, 1, 2, 3, 4, 5}), "Mon, Tue, Wed, Thu, Fri, Sat"),
    ],
)
def test_describe_days(weekdays: frozenset[int], text: str) -> None:
    assert describe_days(weekdays) == text


@pytest.mark.parametrize(
    ("words", "text"),
    [
        ("leadership 09:30 weekdays Europe/Berlin", "leadership prompts at 09:30 on weekdays (Europe/Berlin)"),
        ("mix 4:05pm daily utc", "mixed prompts at 16:05 every day (UTC)"),
        ("tech 7am mon,fri", "technical prompts at 07:00 on Mon, Fri (America/New_York)"),
    ],
)
def test_describe(words: str, text: str) -> None:
    request = parse(words)
    assert isinstance(request, DailyRequest)
    assert describe(request) == text


# ---------------------------------------------------------------------------
# slot_instant: DST
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "local_date", "local_time", "expected"),
    [
        # Europe/Berlin, spring forward on Sunday 2026-03-29 (CET +1 -> CEST +2)
        ("Europe/Berlin", date(2026, 3, 27), time(9, 30), utc(2026, 3, 27, 8, 30)),
        ("Europe/Berlin", date(2026, 3, 28), time(9, 30), utc(2026, 3, 28, 8, 30)),
        ("Europe/Berlin", date(2026, 3, 29), time(9, 30), utc(2026, 3, 29, 7, 30)),
        ("Europe/Berlin", date(2026, 3, 30), time(9, 30), utc(2026, 3, 30, 7, 30)),
        # Europe/Berlin, fall back on Sunday 2026-10-25 (CEST +2 -> CET +1)
        ("Europe/Berlin", date(2026, 10, 24), time(9, 30), utc(2026, 10, 24, 7, 30)),
        ("Europe/Berlin", date(2026, 10, 25), time(9, 30), utc(2026, 10, 25, 8, 30)),
        ("Europe/Berlin", date(2026, 10, 26), time(9, 30), utc(2026, 10, 26, 8, 30)),
        # America/New_York, spring forward 2026-03-08 (EST -5 -> EDT -4)
        ("America/New_York", date(2026, 3, 6), time(9, 30), utc(2026, 3, 6, 14, 30)),
        ("America/New_York", date(2026, 3, 8), time(9, 30), utc(2026, 3, 8, 13, 30)),
        ("America/New_York", date(2026, 3, 9), time(9, 30), utc(2026, 3, 9, 13, 30)),
        # America/New_York, fall back 2026-11-01 (EDT -4 -> EST -5)
        ("America/New_York", date(2026, 10, 30), time(9, 30), utc(2026, 10, 30, 13, 30)),
        ("America/New_York", date(2026, 11, 1), time(9, 30), utc(2026, 11, 1, 14, 30)),
        ("America/New_York", date(2026, 11, 2), time(9, 30), utc(2026, 11, 2, 14, 30)),
        # gaps: shifted forward by the gap's length
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 30)),  # 03:30 CEST
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30)),  # 03:30 EDT
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 45)),  # 02:45 +11, 30-min gap
        ("Pacific/Chatham", date(2026, 9, 27), time(3, 0), utc(2026, 9, 26, 14, 15)),  # 04:00 +13:45
        # overlaps: the first occurrence
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),  # 02:30 CEST
        ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), utc(2026, 4, 4, 14, 45)),  # 01:45 +11
        ("Pacific/Chatham", date(2026, 4, 5), time(3, 0), utc(2026, 4, 4, 13, 15)),  # 03:00 +13:45
        # no DST at all
        ("Asia/Kolkata", date(2026, 3, 29), time(9, 30), utc(2026, 3, 29, 4, 0)),
        ("America/Sao_Paulo", date(2026, 11, 1), time(9, 30), utc(2026, 11, 1, 12, 30)),
        ("UTC", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 2, 30)),
    ],
)
def test_slot_instant(tz: str, local_date: date, local_time: time, expected: datetime) -> None:
    at = slot_instant(local_date, local_time, tz)
    assert at == expected
    assert at.utcoffset() == timedelta(0)


def test_spring_forward_day_posts_once_at_the_shifted_time() -> None:
    slots = _walk(utc(2026, 3, 27), time(2, 30), EVERY_DAY, "Europe/Berlin", until=utc(2026, 4, 1))
    assert [s.local_date for s in slots] == [date(2026, 3, d) for d in (27, 28, 29, 30, 31)]
    berlin = ZoneInfo("Europe/Berlin")
    walls = [s.at.astimezone(berlin).replace(tzinfo=None) for s in slots]
    assert walls[2] == datetime(2026, 3, 29, 3, 30)
    assert [w.time() for i, w in enumerate(walls) if i != 2] == [time(2, 30)] * 4


def test_fall_back_day_posts_once_at_the_first_occurrence() -> None:
    # 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST) on 2026-11-01
    first = next_slot(utc(2026, 11, 1, 0, 0), time(1, 30), EVERY_DAY, "America/New_York")
    assert first == Slot(date(2026, 11, 1), utc(2026, 11, 1, 5, 30))
    following = next_slot(first.at, time(1, 30), EVERY_DAY, "America/New_York")
    assert following == Slot(date(2026, 11, 2), utc(2026, 11, 2, 6, 30))
    # between the two occurrences: still not the second 01:30
    assert next_slot(utc(2026, 11, 1, 6, 0), time(1, 30), EVERY_DAY, "America/New_York") == following


def test_fall_back_overlap_is_never_due_twice() -> None:
    schedule = (time(1, 30), EVERY_DAY, "America/New_York")
    first = due_slots(utc(2026, 11, 1, 5, 31), *schedule, since=utc(2026, 11, 1, 5, 0), grace=timedelta(hours=2))
    assert first.due == Slot(date(2026, 11, 1), utc(2026, 11, 1, 5, 30))
    # the next tick, past the second 01:30
    second = due_slots(utc(2026, 11, 1, 6, 31), *schedule, since=utc(2026, 11, 1, 5, 31), grace=timedelta(hours=2))
    assert second == DueResult(None, ())


# Wall-clock gaps in 2026 (tzdata facts): zone -> (date, first missing time, gap length)
GAPS_2026 = {
    "Europe/Berlin": (date(2026, 3, 29), time(2, 0), timedelta(hours=1)),
    "America/New_York": (date(2026, 3, 8), time(2, 0), timedelta(hours=1)),
    "Australia/Lord_Howe": (date(2026, 10, 4), time(2, 0), timedelta(minutes=30)),
    "Pacific/Chatham": (date(2026, 9, 27), time(2, 45), timedelta(hours=1)),
}


def _walk(start: datetime, local_time: time, weekdays: frozenset[int], tz: str, *, until: datetime) -> list[Slot]:
    slots: list[Slot] = []
    after = start
    while True:
        slot = next_slot(after, local_time, weekdays, tz)
        assert slot.at > after  # also keeps a regression from looping forever
        if slot.at >= until:
            return slots
        slots.append(slot)
        after = slot.at


@pytest.mark.parametrize(
    "tz", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata", "America/Sao_Paulo"]
)
@pytest.mark.parametrize(
    "local_time", [time(0, 0), time(1, 30), time(2, 15), time(2, 30), time(3, 0), time(3, 30), time(9, 30), time(23, 59)]
)
@pytest.mark.parametrize("weekdays", [EVERY_DAY, frozenset({6}), MON_WED_FRI])
def test_a_year_of_slots(tz: str, local_time: time, weekdays: frozenset[int]) -> None:
    zone = ZoneInfo(tz)
    # local midnights bracket the calendar year 2026 in the zone
    start = datetime(2026, 1, 1, tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1)
    end = datetime(2027, 1, 1, tzinfo=zone).astimezone(UTC)
    slots = _walk(start, local_time, weekdays, tz, until=end)

    expected_dates = [
        date(2026, 1, 1) + timedelta(days=n)
        for n in range(365)
        if (date(2026, 1, 1) + timedelta(days=n)).weekday() in weekdays
    ]
    assert [s.local_date for s in slots] == expected_dates  # one slot per scheduled date, none skipped
    assert all(a.at < b.at for a, b in itertools.pairwise(slots))  # strictly increasing

    gap = GAPS_2026.get(tz)
    for slot in slots:
        wall = slot.at.astimezone(zone)
        assert wall.fold == 0  # never the second occurrence of a repeated wall time
        scheduled = datetime.combine(slot.local_date, local_time)
        in_gap = (
            gap is not None
            and slot.local_date == gap[0]
            and datetime.combine(gap[0], gap[1]) <= scheduled < datetime.combine(gap[0], gap[1]) + gap[2]
        )
        if in_gap:
            assert gap is not None
            assert wall.replace(tzinfo=None) == scheduled + gap[2]
        else:
            assert wall.replace(tzinfo=None) == scheduled


# ---------------------------------------------------------------------------
# next_slot
# ---------------------------------------------------------------------------

BERLIN_WEEKDAYS_0930 = (time(9, 30), WEEKDAYS, "Europe/Berlin")


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 11, 25, 6, 0), Slot(date(2026, 11, 25), utc(2026, 11, 25, 8, 30))),  # Wed, before 09:30
        (utc(2026, 11, 25, 8, 30), Slot(date(2026, 11, 26), utc(2026, 11, 26, 8, 30))),  # exactly at: strictly after
        (utc(2026, 11, 25, 8, 29, 59), Slot(date(2026, 11, 25), utc(2026, 11, 25, 8, 30))),
        (utc(2026, 11, 27, 9, 0), Slot(date(2026, 11, 30), utc(2026, 11, 30, 8, 30))),  # Fri -> Mon
        (utc(2026, 11, 28, 12, 0), Slot(date(2026, 11, 30), utc(2026, 11, 30, 8, 30))),  # Sat -> Mon
        (utc(2026, 12, 31, 23, 30), Slot(date(2027, 1, 1), utc(2027, 1, 1, 8, 30))),  # 00:30 local on Fri
    ],
)
def test_next_slot(after: datetime, expected: Slot) -> None:
    assert next_slot(after, *BERLIN_WEEKDAYS_0930) == expected


def test_next_slot_accepts_any_aware_after() -> None:
    tokyo = datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # = 06:00Z
    assert next_slot(tokyo, *BERLIN_WEEKDAYS_0930) == Slot(date(2026, 11, 25), utc(2026, 11, 25, 8, 30))


def test_next_slot_local_date_is_the_zone_date_not_the_utc_date() -> None:
    # 07:00 in Auckland (+13) on Monday 2026-11-30 is 18:00Z on Sunday 2026-11-29
    slot = next_slot(utc(2026, 11, 29, 12, 0), time(7, 0), frozenset({0}), "Pacific/Auckland")
    assert slot == Slot(date(2026, 11, 30), utc(2026, 11, 29, 18, 0))
    assert slot.key == "2026-11-30"


@pytest.mark.parametrize(
    ("paused_until", "expected_date"),
    [
        (None, date(2026, 11, 25)),
        (date(2026, 11, 24), date(2026, 11, 25)),  # pause already over
        (date(2026, 11, 25), date(2026, 11, 26)),  # skips the pause's last day itself
        (date(2026, 11, 27), date(2026, 11, 30)),
        (date(2026, 12, 31), date(2027, 1, 1)),
    ],
)
def test_next_slot_skips_paused_dates(paused_until: date | None, expected_date: date) -> None:
    slot = next_slot(utc(2026, 11, 25, 6, 0), *BERLIN_WEEKDAYS_0930, paused_until=paused_until)
    assert slot.local_date == expected_date


def test_slot_key_is_the_local_date() -> None:
    assert Slot(date(2026, 11, 25), utc(2026, 11, 24, 23, 0)).key == "2026-11-25"


@pytest.mark.parametrize(
    "call",
    [
        lambda: next_slot(datetime(2026, 1, 1), time(9, 30), WEEKDAYS, "UTC"),  # naive after
        lambda: next_slot(utc(2026, 1, 1), time(9, 30), frozenset(), "UTC"),
        lambda: next_slot(utc(2026, 1, 1), time(9, 30), frozenset({7}), "UTC"),
        lambda: next_slot(utc(2026, 1, 1), time(9, 30), WEEKDAYS, "Mars/Olympus"),
        lambda: next_slot(utc(2026, 1, 1), time(9, 30), WEEKDAYS, ""),
        lambda: next_slot(utc(2026, 1, 1), time(9, 30, tzinfo=UTC), WEEKDAYS, "UTC"),
        lambda: next_slot(utc(2026, 1, 1), time(9, 30), WEEKDAYS, "UTC", paused_until=date.max),
        lambda: slot_instant(date(2026, 1, 1), time(9, 30), "Not/AZone"),
        lambda: due_slots(datetime(2026, 1, 2), time(9, 30), WEEKDAYS, "UTC", since=utc(2026, 1, 1), grace=timedelta(hours=2)),
        lambda: due_slots(utc(2026, 1, 2), time(9, 30), WEEKDAYS, "UTC", since=datetime(2026, 1, 1), grace=timedelta(hours=2)),
        lambda: due_slots(utc(2026, 1, 2), time(9, 30), frozenset(), "UTC", since=utc(2026, 1, 1), grace=timedelta(hours=2)),
        lambda: due_slots(utc(2026, 1, 2), time(9, 30), WEEKDAYS, "Nowhere", since=utc(2026, 1, 1), grace=timedelta(hours=2)),
        lambda: due_slots(utc(2026, 1, 2), time(9, 30), WEEKDAYS, "UTC", since=utc(2026, 1, 1), grace=timedelta(hours=-1)),
    ],
)
def test_invalid_arguments_raise_value_error(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------------------
# due_slots
# ---------------------------------------------------------------------------

GRACE = timedelta(hours=2)
WED_0930_BERLIN = Slot(date(2026, 11, 25), utc(2026, 11, 25, 8, 30))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 25, 8, 29), DueResult(None, ())),  # not yet
        (utc(2026, 11, 25, 8, 30), DueResult(WED_0930_BERLIN, ())),  # on time
        (utc(2026, 11, 25, 9, 45), DueResult(WED_0930_BERLIN, ())),  # late, within grace
        (utc(2026, 11, 25, 10, 30), DueResult(WED_0930_BERLIN, ())),  # exactly at the end of grace
        (utc(2026, 11, 25, 10, 31), DueResult(None, (WED_0930_BERLIN,))),  # too late: skipped, logged
    ],
)
def test_grace_window(now: datetime, expected: DueResult) -> None:
    assert due_slots(now, *BERLIN_WEEKDAYS_0930, since=utc(2026, 11, 25, 6, 0), grace=GRACE) == expected


def test_since_is_exclusive() -> None:
    # the slot at exactly `since` was handled by the previous tick
    result = due_slots(utc(2026, 11, 25, 9, 0), *BERLIN_WEEKDAYS_0930, since=WED_0930_BERLIN.at, grace=GRACE)
    assert result == DueResult(None, ())


@pytest.mark.parametrize("since", [utc(2026, 11, 25, 9, 0), utc(2026, 11, 26, 0, 0)])
def test_nothing_due_when_since_is_not_before_now(since: datetime) -> None:
    assert due_slots(utc(2026, 11, 25, 9, 0), *BERLIN_WEEKDAYS_0930, since=since, grace=GRACE) == DueResult(None, ())


def test_after_an_outage_at_most_one_is_due_and_the_rest_are_missed() -> None:
    # down from Wed 2026-11-18 07:00Z to Wed 2026-11-25 09:00Z
    result = due_slots(utc(2026, 11, 25, 9, 0), *BERLIN_WEEKDAYS_0930, since=utc(2026, 11, 18, 7, 0), grace=GRACE)
    assert result.due == WED_0930_BERLIN
    assert [s.key for s in result.missed] == [
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
        "2026-11-23",
        "2026-11-24",
    ]
    assert all(s.at == utc(s.local_date.year, s.local_date.month, s.local_date.day, 8, 30) for s in result.missed)
    assert not result.truncated


def test_after_an_outage_past_grace_everything_is_missed() -> None:
    result = due_slots(utc(2026, 11, 25, 12, 0), *BERLIN_WEEKDAYS_0930, since=utc(2026, 11, 23, 0, 0), grace=GRACE)
    assert result.due is None
    assert [s.key for s in result.missed] == ["2026-11-23", "2026-11-24", "2026-11-25"]


def test_outage_across_the_dst_switch() -> None:
    # Berlin 09:30 every day, down from Sat 2026-10-24 to Mon 2026-10-26 09:00 local
    result = due_slots(
        utc(2026, 10, 26, 8, 45), time(9, 30), EVERY_DAY, "Europe/Berlin", since=utc(2026, 10, 24, 0, 0), grace=GRACE
    )
    assert result.due == Slot(date(2026, 10, 26), utc(2026, 10, 26, 8, 30))
    assert result.missed == (
        Slot(date(2026, 10, 24), utc(2026, 10, 24, 7, 30)),
        Slot(date(2026, 10, 25), utc(2026, 10, 25, 8, 30)),
    )


def test_paused_dates_are_neither_due_nor_missed() -> None:
    result = due_slots(
        utc(2026, 11, 25, 9, 0),
        *BERLIN_WEEKDAYS_0930,
        since=utc(2026, 11, 18, 7, 0),
        grace=GRACE,
        paused_until=date(2026, 11, 23),
    )
    assert result.due == WED_0930_BERLIN
    assert [s.key for s in result.missed] == ["2026-11-24"]
    paused_today = due_slots(
        utc(2026, 11, 25, 9, 0),
        *BERLIN_WEEKDAYS_0930,
        since=utc(2026, 11, 18, 7, 0),
        grace=GRACE,
        paused_until=date(2026, 11, 25),
    )
    assert paused_today == DueResult(None, ())


def test_very_old_since_is_bounded() -> None:
    now = utc(2026, 11, 25, 9, 0)
    result = due_slots(now, time(9, 30), EVERY_DAY, "Europe/Berlin", since=utc(1990, 1, 1), grace=GRACE)
    assert result.due == WED_0930_BERLIN
    assert result.truncated
    assert 360 <= len(result.missed) <= 366
    assert all(now - LOOKBACK < s.at for s in result.missed)
    assert result.missed[-1].key == "2026-11-24"
    assert all(a.at < b.at for a, b in itertools.pairwise(result.missed))


def test_zero_grace_posts_only_exactly_on_time() -> None:
    on_time = due_slots(WED_0930_BERLIN.at, *BERLIN_WEEKDAYS_0930, since=utc(2026, 11, 25, 8, 0), grace=timedelta(0))
    assert on_time.due == WED_0930_BERLIN
    late = due_slots(
        WED_0930_BERLIN.at + timedelta(seconds=1), *BERLIN_WEEKDAYS_0930, since=utc(2026, 11, 25, 8, 0), grace=timedelta(0)
    )
    assert late == DueResult(None, (WED_0930_BERLIN,))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
]

zones = st.sampled_from(ZONES)
local_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
pauses = st.none() | st.dates(min_value=date(2023, 12, 1), max_value=date(2031, 1, 31))
PROPERTY = settings(deadline=None, max_examples=200)


@PROPERTY
@given(tz=zones, local_time=local_times, weekdays=weekday_sets, after=instants, paused_until=pauses)
def test_next_slot_is_the_first_scheduled_slot_after(
    tz: str, local_time: time, weekdays: frozenset[int], after: datetime, paused_until: date | None
) -> None:
    slot = next_slot(after, local_time, weekdays, tz, paused_until=paused_until)
    zone = ZoneInfo(tz)
    assert slot.at > after
    assert slot.at.utcoffset() == timedelta(0)
    assert slot.local_date.weekday() in weekdays
    assert paused_until is None or slot.local_date > paused_until
    assert slot.at == slot_instant(slot.local_date, local_time, tz)
    # the instant is on the slot's local date (no zone here has a gap crossing midnight)
    assert slot.at.astimezone(zone).date() == slot.local_date
    # brute force: no scheduled, unpaused slot lies in (after, slot.at)
    day = after.astimezone(zone).date() - timedelta(days=3)
    while day < slot.local_date:
        if day.weekday() in weekdays and (paused_until is None or day > paused_until):
            assert slot_instant(day, local_time, tz) <= after
        day += timedelta(days=1)


@PROPERTY
@given(
    tz=zones,
    local_date=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    local_time=local_times,
)
def test_slot_instant_matches_the_wall_clock(tz: str, local_date: date, local_time: time) -> None:
    zone = ZoneInfo(tz)
    at = slot_instant(local_date, local_time, tz)
    wall = at.astimezone(zone)
    scheduled = datetime.combine(local_date, local_time)
    if wall.replace(tzinfo=None) == scheduled:
        assert wall.fold == 0  # the first occurrence if the wall time repeats
    else:
        # a spring-forward gap: the wall time does not exist, and the slot is
        # shifted by exactly the gap's length
        shift = wall.replace(tzinfo=None) - scheduled
        before = (at - timedelta(hours=3)).astimezone(zone).utcoffset()
        after = wall.utcoffset()
        assert before is not None and after is not None
        assert timedelta(0) < shift <= timedelta(hours=1)
        assert shift == after - before
        for offset in (before, after):
            candidate = (scheduled - offset).replace(tzinfo=UTC)
            assert candidate.astimezone(zone).replace(tzinfo=None) != scheduled


@PROPERTY
@given(
    tz=zones,
    local_time=local_times,
    weekdays=weekday_sets,
    since=instants,
    outage=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    grace=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)),
    paused_until=pauses,
)
def test_due_slots_partitions_the_window(
    tz: str,
    local_time: time,
    weekdays: frozenset[int],
    since: datetime,
    outage: timedelta,
    grace: timedelta,
    paused_until: date | None,
) -> None:
    now = since + outage
    result = due_slots(now, local_time, weekdays, tz, since=since, grace=grace, paused_until=paused_until)
    # the window's slots, one next_slot at a time
    window: list[Slot] = []
    slot = next_slot(since, local_time, weekdays, tz, paused_until=paused_until)
    while slot.at <= now:
        window.append(slot)
        following = next_slot(slot.at, local_time, weekdays, tz, paused_until=paused_until)
        assert following.at > slot.at
        slot = following
    listed = [*result.missed, *([result.due] if result.due else [])]
    assert listed == window
    assert not result.truncated
    if result.due is not None:
        assert result.due == window[-1]
        assert now - result.due.at <= grace
    elif window:
        assert now - window[-1].at > grace
