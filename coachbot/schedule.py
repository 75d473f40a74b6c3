"""Daily prompt schedules: parsing ``/prep daily ...`` and the slot maths.

Pure: no Slack, no database, no clock. Every function is given the instant it
needs.

A schedule posts once per *slot*: a local calendar date that falls on one of
its weekdays, at its local wall-clock time, in its IANA timezone.

Daylight-saving time (see ``slot_instant``):

* spring-forward gap -- the local time does not exist that day (02:30 when
  clocks jump 02:00 -> 03:00): the slot is shifted forward by the length of
  the gap (03:30 local). The day is never skipped.
* fall-back overlap -- the local time happens twice (01:30 when clocks go
  02:00 -> 01:00): the slot is the FIRST occurrence (``fold=0``). It is never
  posted twice.

So every scheduled local date has exactly one slot, and slot instants increase
with the local date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Collection, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from coachbot.errors import InvalidInputError

# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

MODES: tuple[str, ...] = ("technical", "leadership", "alternate", "mixed")
_MODE_ALIASES: dict[str, str] = {
    "tech": "technical",
    "lead": "leadership",
    "alt": "alternate",
    "alternating": "alternate",
    "mix": "mixed",
    "both": "mixed",
}

DEFAULT_TIME = time(9, 30)
WEEKDAYS: frozenset[int] = frozenset(range(5))
EVERY_DAY: frozenset[int] = frozenset(range(7))
DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_FULL_NAMES: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_DAY_WORDS: dict[str, frozenset[int]] = {
    "weekdays": WEEKDAYS,
    "daily": EVERY_DAY,
    "everyday": EVERY_DAY,
}
for _number, _words in enumerate(
    (
        ("mon", "monday", "mondays"),
        ("tue", "tues", "tuesday", "tuesdays"),
        ("wed", "weds", "wednesday", "wednesdays"),
        ("thu", "thur", "thurs", "thursday", "thursdays"),
        ("fri", "friday", "fridays"),
        ("sat", "saturday", "saturdays"),
        ("sun", "sunday", "sundays"),
    )
):
    for _word in _words:
        _DAY_WORDS[_word] = frozenset({_number})

EXAMPLE = "`/prep daily leadership 09:30 weekdays Europe/Berlin`"
_TIME_RE = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)?")
_TIME_FRAGMENT_RE = re.compile(r"\d{1,2}(?::\d{2})?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ECHO_LIMIT = 40


@dataclass(frozen=True)
class DailyRequest:
    """Set (or replace) the daily schedule."""

    mode: str
    local_time: time
    weekdays: frozenset[int]  # 0 = Monday .. 6 = Sunday
    tz: str


@dataclass(frozen=True)
class DailyQuery:
    """Show the current schedule."""


@dataclass(frozen=True)
class DailyOff:
    """Stop daily prompts."""


@dataclass(frozen=True)
class DailyPause:
    """Skip slots on local dates up to and including ``until``; ``None`` resumes."""

    until: date | None


def _echo(text: str) -> str:
    """User text made safe to quote back: no ``<``/``>`` (mentions, links), no backticks, at most 40 chars."""
    cleaned = " ".join(re.sub(r"[<>`]", "", text).split())
    if len(cleaned) > _ECHO_LIMIT:
        cleaned = cleaned[:_ECHO_LIMIT] + "…"
    return cleaned


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(message)


def parse_daily(words: str, *, default_tz: str) -> DailyRequest | DailyQuery | DailyOff | DailyPause:
    """Parse the text after ``/prep daily``.

    Raises ``InvalidInputError`` (message shown to the person) for anything we
    cannot act on, and ``ValueError`` if ``default_tz`` is not a valid zone
    (that is the caller's bug, not the person's).
    """
    tokens = _tokens(words)
    if not tokens:
        return DailyQuery()
    head = tokens[0].lower()
    if head in ("off", "stop"):
        _no_more(tokens[1:], f"`/prep daily {head}`")
        return DailyOff()
    if head == "resume":
        _no_more(tokens[1:], "`/prep daily resume`")
        return DailyPause(until=None)
    if head == "pause":
        return _parse_pause(tokens[1:])
    return _parse_schedule(tokens, default_tz)


def _tokens(words: str) -> list[str]:
    # "mon, wed , fri" -> "mon,wed,fri"
    raw = re.sub(r"\s*,\s*", ",", words.strip()).split()
    tokens: list[str] = []
    for token in raw:
        lower = token.lower()
        if tokens and lower in ("am", "pm") and _TIME_FRAGMENT_RE.fullmatch(tokens[-1]):
            tokens[-1] += lower  # "9 am" -> "9am"
        elif tokens and lower == "day" and tokens[-1].lower() == "every":
            tokens[-1] = "everyday"  # "every day"
        else:
            tokens.append(token)
    return tokens


def _no_more(rest: list[str], usage: str) -> None:
    if rest:
        raise _invalid(f"I didn't expect `{_echo(' '.join(rest))}` there. Use just {usage}.")


def _parse_pause(rest: list[str]) -> DailyPause:
    usage = "Use `/prep daily pause until YYYY-MM-DD`, e.g. `/prep daily pause until 2026-12-01`."
    if rest and rest[0].lower() == "until":
        rest = rest[1:]
    if not rest:
        raise _invalid(f"Until when should I pause? {usage}")
    if len(rest) > 1:
        raise _invalid(f"I didn't expect `{_echo(' '.join(rest[1:]))}` there. {usage}")
    word = rest[0]
    if not _DATE_RE.fullmatch(word):
        raise _invalid(f"`{_echo(word)}` isn't a date. {usage}")
    try:
        until = date.fromisoformat(word)
    except ValueError:
        raise _invalid(f"`{_echo(word)}` isn't a real date. {usage}") from None
    return DailyPause(until=until)


def _parse_schedule(tokens: list[str], default_tz: str) -> DailyRequest:
    mode: str | None = None
    local_time: time | None = None
    days: set[int] = set()
    tz: str | None = None
    for token in tokens:
        lower = token.lower()
        if lower[:1].isdigit():
            if local_time is not None:
                raise _invalid(f"Give one time, not two (`{_echo(token)}`). e.g. {EXAMPLE}.")
            local_time = _parse_time(token)
        elif "," in lower or lower in _DAY_WORDS:
            days |= _parse_days(token)
        elif (found := _mode(lower)) is not None:
            if mode is not None and found != mode:
                raise _invalid(
                    f"Pick one mode, not both `{mode}` and `{_echo(token)}` "
                    f"(`mixed` gives you both tracks). e.g. {EXAMPLE}."
                )
            mode = found
        elif "/" in lower or lower == "utc":
            name = _timezone_name(token)
            if tz is not None and name != tz:
                raise _invalid(f"Give one timezone, not both `{tz}` and `{name}`. e.g. {EXAMPLE}.")
            tz = name
        else:
            raise _invalid(
                f"I don't understand `{_echo(token)}`. Give a mode ({_mode_list()}), a time (HH:MM), "
                f"days (`weekdays`, `daily`, or e.g. `mon,wed,fri`) and a timezone, e.g. {EXAMPLE}."
            )
    if mode is None:
        raise _invalid(f"Which kind of practice? Add a mode: {_mode_list()}. e.g. {EXAMPLE}.")
    if tz is None:
        _zone(default_tz)  # ValueError: the caller passed a bad default
        tz = default_tz
    return DailyRequest(
        mode=mode,
        local_time=local_time if local_time is not None else DEFAULT_TIME,
        weekdays=frozenset(days) if days else WEEKDAYS,
        tz=tz,
    )


def _mode_list() -> str:
    return ", ".join(f"`{m}`" for m in MODES[:-1]) + f" or `{MODES[-1]}`"


def _mode(lower: str) -> str | None:
    if lower in _MODE_ALIASES:
        return _MODE_ALIASES[lower]
    matches = [m for m in MODES if m.startswith(lower)]
    return matches[0] if len(matches) == 1 else None


def _parse_time(token: str, example: str = EXAMPLE) -> time:
    bad = _invalid(
        f"`{_echo(token)}` isn't a time of day. Use 24-hour HH:MM (`9am` and `4:15pm` work too), e.g. {example}."
    )
    match = _TIME_RE.fullmatch(token.lower())
    if match is None:
        raise bad
    hour_text, minute_text, suffix = match.groups()
    if minute_text is None and suffix is None:
        raise bad  # a bare number: "9" or "0930" is too ambiguous
    hour, minute = int(hour_text), int(minute_text or 0)
    if suffix is not None:
        if not 1 <= hour <= 12:
            raise bad
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise bad
    return time(hour, minute)


def _parse_days(token: str) -> frozenset[int]:
    days: set[int] = set()
    for part in token.lower().split(","):
        if not part:
            continue
        if part not in _DAY_WORDS:
            raise _invalid(
                f"`{_echo(part)}` isn't a day. Use `weekdays`, `daily`, or days like `mon,wed,fri`, e.g. {EXAMPLE}."
            )
        days |= _DAY_WORDS[part]
    return frozenset(days)


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    names = {name.lower(): name for name in available_timezones()}
    names["utc"] = "UTC"
    return names


def _timezone_name(token: str) -> str:
    name = _zone_names().get(token.lower())
    if name is None:
        try:  # a system without a zone list can still know the exact name
            ZoneInfo(token)
            name = token
        except (ZoneInfoNotFoundError, ValueError):
            raise _invalid(
                f"`{_echo(token)}` isn't a timezone I know. Use an IANA name like `Europe/Berlin` or "
                f"`America/New_York` (or `UTC`), e.g. {EXAMPLE}."
            ) from None
    return name


def describe_days(weekdays: Collection[int]) -> str:
    """"weekdays", "every day", or the days in order: "Mon, Wed, Fri"."""
    days = frozenset(weekdays)
    if days == WEEKDAYS:
        return "weekdays"
    if days == EVERY_DAY:
        return "every day"
    return ", ".join(DAY_NAMES[d] for d in sorted(days))


def describe(request: DailyRequest) -> str:
    """e.g. "leadership prompts at 09:30 on weekdays (Europe/Berlin)"."""
    days = describe_days(request.weekdays)
    on = days if days == "every day" else f"on {days}"
    return f"{request.mode} prompts at {request.local_time:%H:%M} {on} ({request.tz})"


# --------------------------------------------------------------------------
# Slot maths
# --------------------------------------------------------------------------

# due_slots never looks further back than this; older slots are counted as
# missed without being listed (DueResult.truncated).
LOOKBACK = timedelta(days=366)


@dataclass(frozen=True)
class Slot:
    local_date: date
    at: datetime  # aware, UTC

    @property
    def key(self) -> str:
        """A stable id for the slot: its local date, e.g. "2026-11-25"."""
        return self.local_date.isoformat()


@dataclass(frozen=True)
class DueResult:
    due: Slot | None  # post this one now (possibly a little late)
    missed: tuple[Slot, ...]  # oldest first; log and skip
    truncated: bool = False  # ``since`` was older than LOOKBACK: slots before that are missed but not listed


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown timezone {tz!r}") from None


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(timezone.utc)


def _check_time(local_time: time) -> None:
    if local_time.tzinfo is not None:
        raise ValueError("local_time must be a naive wall-clock time (the schedule's tz gives the zone)")


def _check_weekdays(weekdays: Collection[int]) -> frozenset[int]:
    days = frozenset(weekdays)
    if not days:
        raise ValueError("a schedule needs at least one weekday")
    if not days <= EVERY_DAY:
        raise ValueError(f"weekdays must be 0 (Monday) .. 6 (Sunday), got {sorted(days)}")
    return days


def _instant(local_date: date, local_time: time, zone: ZoneInfo) -> datetime:
    # fold=0 is exactly the documented rule (PEP 495): in an overlap it is the
    # first (earlier) occurrence; in a gap it applies the offset in force
    # before the transition, which lands the gap's length later on the wall
    # clock (02:30 -> 03:30 for a one-hour gap).
    wall = datetime.combine(local_date, local_time).replace(tzinfo=zone, fold=0)
    return wall.astimezone(timezone.utc)


def slot_instant(local_date: date, local_time: time, tz: str) -> datetime:
    """The UTC instant at which the wall clock in ``tz`` shows ``local_time`` on ``local_date``.

    If that wall-clock time does not exist (spring-forward gap) the result is
    shifted forward by the gap's length; if it exists twice (fall-back
    overlap) the result is the first occurrence.
    """
    _check_time(local_time)
    return _instant(local_date, local_time, _zone(tz))


def _slots(
    after: datetime, local_time: time, days: frozenset[int], zone: ZoneInfo, paused_until: date | None
) -> Iterator[Slot]:
    """Slots with ``at > after``, in order (``after`` is aware UTC)."""
    # Start two local days back: a gap shift can carry a slot's instant past
    # local midnight, so a slot dated before ``after``'s local date may still
    # fall after it. Earlier dates cannot.
    day = after.astimezone(zone).date() - timedelta(days=2)
    if paused_until is not None and paused_until >= day:
        day = paused_until + timedelta(days=1)
    one_day = timedelta(days=1)
    while True:
        if day.weekday() in days:
            at = _instant(day, local_time, zone)
            if at > after:
                yield Slot(day, at)
        day += one_day


def next_slot(
    after: datetime,
    local_time: time,
    weekdays: Collection[int],
    tz: str,
    *,
    paused_until: date | None = None,
) -> Slot:
    """The first slot strictly after ``after``, skipping local dates <= ``paused_until``.

    Raises ``ValueError`` for a naive ``after``, an aware ``local_time``, no
    weekdays, an unknown ``tz``, or when no slot exists before ``date.max``.
    """
    after_utc = _aware(after, "after")
    _check_time(local_time)
    days = _check_weekdays(weekdays)
    zone = _zone(tz)
    try:
        return next(_slots(after_utc, local_time, days, zone, paused_until))
    except OverflowError:
        raise ValueError("no slot before the end of the calendar") from None


def due_slots(
    now: datetime,
    local_time: time,
    weekdays: Collection[int],
    tz: str,
    *,
    since: datetime,
    grace: timedelta,
    paused_until: date | None = None,
) -> DueResult:
    """What to do with the slots in ``(since, now]``.

    ``since`` is the last instant already handled (exclusive). The newest slot
    in the window is ``due`` if ``now - at <= grace``; every other slot in the
    window (and the newest one when it is too late) is ``missed``. At most one
    slot is ever due, so a long outage never causes a burst of prompts.

    Work is bounded: only slots after ``now - LOOKBACK`` (366 days) are
    looked at. If ``since`` is older than that, slots between ``since`` and the
    cap are missed too but not listed, and ``truncated`` is True.
    """
    now_utc = _aware(now, "now")
    since_utc = _aware(since, "since")
    _check_time(local_time)
    days = _check_weekdays(weekdays)
    zone = _zone(tz)
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    if since_utc >= now_utc:
        return DueResult(None, ())
    floor = now_utc - LOOKBACK
    truncated = since_utc < floor
    start = floor if truncated else since_utc
    found: list[Slot] = []
    try:
        for slot in _slots(start, local_time, days, zone, paused_until):
            if slot.at > now_utc:
                break
            found.append(slot)
    except OverflowError:  # paused until the end of the calendar: nothing can be due
        pass
    if found and now_utc - found[-1].at <= grace:
        return DueResult(found[-1], tuple(found[:-1]), truncated)
    return DueResult(None, tuple(found), truncated)


# --- the weekly digest ------------------------------------------------------

DIGEST_EXAMPLE = "`/prep digest fri 16:00`"


@dataclass(frozen=True)
class DigestAt:
    weekday: int  # 0 = Monday
    local_time: time


@dataclass(frozen=True)
class DigestSwitch:
    on: bool


@dataclass(frozen=True)
class DigestQuery:
    pass


def parse_digest(words: str) -> DigestAt | DigestSwitch | DigestQuery:
    """Parse the text after ``/prep digest``: nothing, ``on``, ``off``, or one day and a time."""
    tokens = _tokens(words)
    if not tokens:
        return DigestQuery()
    head = tokens[0].lower()
    if head in ("off", "stop", "on", "resume"):
        _no_more(tokens[1:], f"`/prep digest {head}`")
        return DigestSwitch(on=head in ("on", "resume"))
    day: int | None = None
    local_time: time | None = None
    for token in tokens:
        if token[:1].isdigit():
            if local_time is not None:
                raise _invalid(f"Give one time, e.g. {DIGEST_EXAMPLE}.")
            local_time = _parse_time(token, DIGEST_EXAMPLE)
            continue
        if token.lower() not in _DAY_WORDS:
            raise _invalid(f"`{_echo(token)}` isn't a day or a time. Use e.g. {DIGEST_EXAMPLE}, "
                           "`/prep digest off` or `/prep digest on`.")
        days = _parse_days(token)
        if len(days) != 1 or day is not None:
            raise _invalid(f"The digest goes out once a week: give one day, e.g. {DIGEST_EXAMPLE}.")
        day = next(iter(days))
    if day is None or local_time is None:
        raise _invalid(f"Give a day and a time, e.g. {DIGEST_EXAMPLE}.")
    return DigestAt(day, local_time)


def describe_digest(weekday: int, local_time: time, tz: str) -> str:
    """e.g. "Fridays at 16:00 (Europe/Berlin)"."""
    return f"{DAY_FULL_NAMES[weekday]}s at {local_time:%H:%M} ({tz})"


# --- the next due instant, for the scheduler's index --------------------------


def first_due(after: datetime | None, local_time: str, weekdays: Collection[int], tz: str, *,
              paused_until: date | None = None) -> datetime | None:
    """The instant (UTC) of the first slot strictly after ``after``, from a schedule's stored
    fields (``local_time`` as "HH:MM"); None when there is none (no weekdays, paused to the end
    of the calendar, an unknown zone). What ``schedules.next_due`` holds."""
    if after is None or not weekdays:
        return None
    try:
        hours, minutes = local_time.split(":")
        return next_slot(after, time(int(hours), int(minutes)), weekdays, tz, paused_until=paused_until).at
    except ValueError:
        return None
