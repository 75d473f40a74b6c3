"""The weekly digest: each channel with a daily prompt gets the week's best answers,
who took part, what was covered and left out, and a focus for next week.

Posted exactly once per channel and week through the same slot ledger as the
prompts, by the same scheduler tick (and ``coachbot prompts send-due``). Only
answers posted in that channel are used: private answers never appear.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from coachbot import schedule as slots, tracks
from coachbot.clock import Clock
from coachbot.errors import InvalidInputError
from coachbot.services.people import zone
from coachbot.services.progress import AnswerSummary, ProgressService
from coachbot.services.fanout import Job, SendReport, SlotPoster
from coachbot.services.prompts import CLAIM_LEASE, DEFAULT_GRACE
from coachbot.storage import repo
from coachbot.storage import progress as store
from coachbot.storage.db import Database
from coachbot.storage.models import Digest, Schedule

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
TOP_ANSWERS = 3


@dataclass(frozen=True)
class Participant:
    user_id: str
    answers: int
    reactions: int


@dataclass(frozen=True)
class WeeklyDigest:
    channel_id: str
    first_day: date  # local dates the week covers, inclusive
    last_day: date
    answers: int
    top: tuple[AnswerSummary, ...]  # most-reacted first; only answers with reactions
    participants: tuple[Participant, ...]
    covered: tuple[tracks.Category, ...]
    left_out: tuple[tracks.Category, ...]
    focus: tracks.Category | None


@dataclass(frozen=True)
class DigestSettings:
    channel_id: str
    enabled: bool
    weekday: int
    local_time: time
    tz: str
    next_local: datetime | None

    @property
    def description(self) -> str:
        return slots.describe_digest(self.weekday, self.local_time, self.tz)


class DigestPoster(Protocol):
    def ready(self, team_id: str) -> None:
        """Wait for this post's turn under the workspace's rate limits (called before the lease restarts)."""
        ...

    def post_digest(self, team_id: str, channel_id: str, digest: WeeklyDigest, slot_key: str, schedule_id: int) -> str:
        """Post the digest; return its ts. Raises a PostingError subclass."""
        ...

    def find_digest(self, team_id: str, channel_id: str, slot_key: str, schedule_id: int) -> str | None:
        """The ts of an already-posted digest for this slot, if Slack has one."""
        ...


def categories_for(mode: str) -> tuple[tracks.Category, ...]:
    """The areas a channel's prompts draw from: one track, or all nine."""
    if mode in ("technical", "leadership"):
        return tracks.categories_of(mode)
    return tracks.CATEGORIES


def choose_focus(left_out: tuple[tracks.Category, ...], week_counts: dict[str, int], all_time: dict[str, int],
                 areas: tuple[tracks.Category, ...]) -> tracks.Category | None:
    """Next week's focus: the left-out area the channel has practised least overall;
    if nothing was left out, the area with the fewest answers this week."""
    pool = left_out or areas
    if not pool:
        return None
    order = {c.slug: i for i, c in enumerate(areas)}
    key = (lambda c: (all_time.get(c.slug, 0), order.get(c.slug, 0))) if left_out else \
        (lambda c: (week_counts.get(c.slug, 0), all_time.get(c.slug, 0), order.get(c.slug, 0)))
    return min(pool, key=key)


class DigestService:
    def __init__(self, db: Database, progress: ProgressService, clock: Clock, *, grace: timedelta = DEFAULT_GRACE,
                 lease: timedelta = CLAIM_LEASE) -> None:
        self.db = db
        self.progress = progress
        self.clock = clock
        self.grace = grace
        self.lease = lease

    # --- /prep digest -------------------------------------------------------

    def configure(self, team_id: str, channel_id: str, words: str, *, may_manage: bool) -> tuple[DigestSettings, bool]:
        """Apply ``/prep digest ...``; returns the settings and whether they changed."""
        request = slots.parse_digest(words)
        now = self.clock.now()
        with self.db.session() as session:
            row = repo.schedule_of(session, team_id, channel_id)
            if row is None:
                raise InvalidInputError("The weekly digest comes with a daily prompt, and this channel has none. "
                                        "Set one up with `/prep daily leadership 09:30 weekdays`.")
            if isinstance(request, slots.DigestQuery):
                return self._settings(row, now), False
            if not may_manage:
                raise InvalidInputError("Only the people listed in COACHBOT_ADMINS and workspace admins can change "
                                        "this channel's digest.")
            if isinstance(request, slots.DigestSwitch):
                row.digest_enabled = request.on
            else:
                row.digest_enabled = True
                row.digest_weekday = request.weekday
                row.digest_time = request.local_time.strftime("%H:%M")
            # Only digests after now: moving it to an earlier hour today does not post one late.
            row.digest_checked_through = now
            row.updated_at = now
            return self._settings(row, now), True

    def _settings(self, row: Schedule, now: datetime) -> DigestSettings:
        at = _hhmm(row.digest_time)
        next_local = None
        if row.digest_enabled and row.enabled:
            upcoming = slots.next_slot(max(now, row.digest_checked_through or now), at, {row.digest_weekday}, row.tz)
            next_local = upcoming.at.astimezone(zone(row.tz))
        return DigestSettings(row.channel_id, row.digest_enabled and row.enabled, row.digest_weekday, at, row.tz,
                              next_local)

    # --- content ------------------------------------------------------------

    def build(self, team_id: str, channel_id: str, until: datetime, *, mode: str = "alternate",
              tz: str = "UTC") -> WeeklyDigest:
        """The digest for the seven days before ``until``."""
        since = until - WEEK
        with self.db.session() as session:
            # Counted in the database; only the few answers shown are loaded whole.
            tallies = store.channel_tallies(session, team_id, channel_id, since, until)
            top_rows = store.channel_answers(session, team_id, channel_id, since, until, reacted_only=True,
                                             limit=TOP_ANSWERS)
            all_time = store.channel_category_counts(session, team_id, channel_id)
        top = self.progress.summaries(team_id, top_rows, with_emoji=True)
        people: dict[str, list[int]] = {}
        week_counts: dict[str, int] = {}
        for t in tallies:
            tally = people.setdefault(t.user_id, [0, 0])
            tally[0] += t.answers
            tally[1] += t.reactions
            week_counts[t.category] = week_counts.get(t.category, 0) + t.answers
        participants = tuple(Participant(u, n, r) for u, (n, r) in
                             sorted(people.items(), key=lambda item: (-item[1][0], -item[1][1], item[0])))
        areas = categories_for(mode)
        covered = tuple(c for c in tracks.CATEGORIES if week_counts.get(c.slug))
        left_out = tuple(c for c in areas if not week_counts.get(c.slug))
        local = zone(tz)
        return WeeklyDigest(channel_id, (since + timedelta(seconds=1)).astimezone(local).date(),
                            (until - timedelta(seconds=1)).astimezone(local).date(), sum(week_counts.values()),
                            tuple(top),
                            participants, covered, left_out, choose_focus(left_out, week_counts, all_time, areas))

    # --- posting ------------------------------------------------------------

    def send_due(self, poster: DigestPoster, now: datetime | None = None, *, workers: int = 8) -> SendReport:
        """Post every digest due at ``now`` that was not posted yet, exactly once."""
        return SlotPoster(self.db, self.clock, _DigestSlots(self), lease=self.lease).send_due(
            poster, now, workers=workers)


class _DigestSlots:
    """The weekly digest as a SlotKind: the ``digests`` ledger, the week's digest built just before
    posting, and a channel that is gone only costs this week's digest (the prompt side stops the
    schedule)."""

    kind, what, label, model = "digest", "digest", "digest-", Digest

    def __init__(self, service: DigestService) -> None:
        self.service = service

    def is_on(self, row: Schedule) -> bool:
        return row.enabled and row.digest_enabled

    def due(self, row: Schedule, now: datetime) -> slots.DueResult:
        return slots.due_slots(now, _hhmm(row.digest_time), {row.digest_weekday}, row.tz,
                               since=row.digest_checked_through or row.created_at, grace=self.service.grace)

    def handled(self, row: Schedule, now: datetime) -> None:
        row.digest_checked_through = max(row.digest_checked_through or now, now)

    def create(self, session, job: Job, slot: slots.Slot, token: str, at: datetime) -> Digest:
        return Digest(team_id=job.team_id, channel_id=job.channel_id, schedule_id=job.schedule_id,
                      slot_key=slot.key, slot_at=slot.at, status="claimed", claim_token=token, claimed_at=at,
                      attempts=1)

    def read(self, session, digest: Digest) -> datetime:
        return digest.slot_at

    def find(self, poster: DigestPoster, job: Job, slot: slots.Slot) -> str | None:
        return poster.find_digest(job.team_id, job.channel_id, slot.key, job.schedule_id)

    def prepare(self, job: Job, slot: slots.Slot, data: datetime) -> WeeklyDigest:
        return self.service.build(job.team_id, job.channel_id, slot.at, mode=job.mode, tz=job.tz)

    def post(self, poster: DigestPoster, job: Job, slot: slots.Slot, digest: WeeklyDigest) -> str:
        return poster.post_digest(job.team_id, job.channel_id, digest, slot.key, job.schedule_id)

    def posted(self, session, row: Schedule, data: datetime, now: datetime) -> None:
        pass  # nothing beyond the ledger and the schedule's checked_through

    def gone(self, poster: DigestPoster, job: Job, exc: Exception) -> None:
        log.warning("no digest in %s/%s: %s", job.team_id, job.channel_id, type(exc).__name__)


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
