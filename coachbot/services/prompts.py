"""Daily practice prompts: schedules per channel and posting them exactly once.

The database is the source of truth. Each posting slot (a channel and a local
date) is a row in ``prompts`` under a unique key, so two schedulers racing
for the same slot cannot both post it. A claim is a lease: a process that
dies holding one leaves it to be taken over once the lease runs out, and the
taker first asks Slack whether the post already went out (the message carries
the slot in its metadata) before posting again.

This module knows nothing of Slack: it talks to a ``PromptPoster``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from coachbot import rotation, schedule as slots, tracks
from coachbot.bank import Question, QuestionBank
from coachbot.clock import Clock
from coachbot.errors import InvalidInputError, NotInChannelError
from coachbot.services.fanout import Job, SendReport, SlotPoster
from coachbot.services.people import PeopleService, zone
from coachbot.storage import repo
from coachbot.storage.db import Database
from coachbot.storage.models import Prompt, Schedule

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=2)
CLAIM_LEASE = timedelta(minutes=2)


class PromptPoster(Protocol):
    def ready(self, team_id: str) -> None:
        """Wait for this post's turn under the workspace's rate limits (called before the lease restarts)."""
        ...

    def post_prompt(self, team_id: str, channel_id: str, question: Question, slot_key: str, schedule_id: int) -> str:
        """Post the prompt; return its message ts. Raises a PostingError subclass."""
        ...

    def find_prompt(self, team_id: str, channel_id: str, slot_key: str, schedule_id: int, since: datetime) -> str | None:
        """The ts of an already-posted prompt for this slot, if Slack has one."""
        ...

    def tell_owner(self, team_id: str, user_id: str, channel_id: str, reason: str) -> None:
        """Tell the person who set up the schedule why it stopped."""
        ...


class ChannelAccess(Protocol):
    def ensure_member(self, team_id: str, channel_id: str) -> None:
        """Make sure the bot is in the channel (joining a public one).

        Raises NotInChannelError when it is not and can't join by itself (a private channel).
        Slack delivers a channel's replies and reactions only to members, so a schedule in a
        channel the bot is not in would post prompts nobody's answers could reach.
        """


INVITE_FIRST = ("I'm not a member of this private channel, so your answers here would never reach me. "
                "Type `/invite @coachbot` in this channel, then run the command again. Nothing was changed.")
REMOVED_NOTE = "paused: coachbot was removed from the channel; /invite it, then /prep daily resume"


@dataclass(frozen=True)
class ScheduleView:
    team_id: str
    channel_id: str
    mode: str
    local_time: time
    weekdays: frozenset[int]
    tz: str
    created_by: str
    enabled: bool
    paused_until: date | None
    status_note: str | None
    next_local: datetime | None  # next posting, in the schedule's timezone

    @property
    def description(self) -> str:
        return slots.describe(slots.DailyRequest(self.mode, self.local_time, self.weekdays, self.tz))


@dataclass(frozen=True)
class ScheduleSet:
    schedule: ScheduleView
    replaced: bool


@dataclass(frozen=True)
class ScheduleShown:
    schedule: ScheduleView | None


@dataclass(frozen=True)
class ScheduleStopped:
    had_schedule: bool


@dataclass(frozen=True)
class SchedulePaused:
    schedule: ScheduleView
    until: date | None


def describe_schedule(row: Schedule) -> str:
    """E.g. "Leadership prompts at 09:30 on weekdays (Europe/Berlin)"."""
    return slots.describe(slots.DailyRequest(row.mode, _local_time(row.local_time), _weekdays(row.weekdays), row.tz))


def _weekdays(text: str) -> frozenset[int]:
    return frozenset(int(d) for d in text.split(",") if d)


def _local_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class PromptService:
    def __init__(
        self,
        db: Database,
        bank: QuestionBank,
        people: PeopleService,
        clock: Clock,
        *,
        grace: timedelta = DEFAULT_GRACE,
        admins: frozenset[str] = frozenset(),
        lease: timedelta = CLAIM_LEASE,
        channels: ChannelAccess | None = None,
    ) -> None:
        self.db = db
        self.channels = channels  # None: no Slack behind it (unit tests); every channel counts as joined
        self.bank = bank
        self.people = people
        self.clock = clock
        self.grace = grace
        self.admins = admins
        self.lease = lease

    # --- /prep daily --------------------------------------------------------

    def may_manage(self, team_id: str, user_id: str) -> bool:
        """Anyone in the channel by default; COACHBOT_ADMINS restricts it to those users and workspace admins."""
        if not self.admins:
            return True
        return user_id in self.admins or self.people.info(team_id, user_id).is_admin

    def configure(self, team_id: str, channel_id: str, user_id: str, words: str):
        if not channel_id or channel_id[0] not in "CG":
            raise InvalidInputError("Daily prompts go to a channel: run `/prep daily ...` in the channel you want them in.")
        default_tz = self.people.info(team_id, user_id).tz
        request = slots.parse_daily(words, default_tz=zone(default_tz).key)
        if isinstance(request, slots.DailyQuery):
            return ScheduleShown(self.show(team_id, channel_id))
        if not self.may_manage(team_id, user_id):
            raise InvalidInputError(
                "Only the people listed in COACHBOT_ADMINS and workspace admins can change this channel's schedule."
            )
        if isinstance(request, slots.DailyOff):
            return ScheduleStopped(self._stop(team_id, channel_id))
        # Everything else leaves the schedule on, so it needs the bot in the channel.
        self.ensure_member(team_id, channel_id)
        if isinstance(request, slots.DailyPause):
            return self._pause(team_id, channel_id, request.until)
        return self._set(team_id, channel_id, user_id, request)

    def ensure_member(self, team_id: str, channel_id: str) -> None:
        """Join the channel, or refuse with how to invite the bot (raises InvalidInputError)."""
        if self.channels is None:
            return
        try:
            self.channels.ensure_member(team_id, channel_id)
        except NotInChannelError:
            raise InvalidInputError(INVITE_FIRST) from None

    def bot_removed(self, team_id: str, channel_id: str) -> str | None:
        """The bot left or was removed from a channel: pause its schedule.

        Returns who set it up, to be told, the first time only (Slack may send several events
        for one removal); None when there was nothing running.
        """
        with self.db.session() as session:
            return repo.pause_schedule_if_enabled(session, team_id, channel_id, REMOVED_NOTE, self.clock.now())

    def _set(self, team_id: str, channel_id: str, user_id: str, request: slots.DailyRequest) -> ScheduleSet:
        now = self.clock.now()
        with self.db.session() as session:
            row = self._row(session, team_id, channel_id)
            replaced = row is not None
            if row is None:
                row = Schedule(team_id=team_id, channel_id=channel_id, posted_count=0, created_at=now)
                session.add(row)
            row.mode = request.mode
            row.local_time = request.local_time.strftime("%H:%M")
            row.weekdays = ",".join(str(d) for d in sorted(request.weekdays))
            row.tz = request.tz
            row.created_by = user_id
            row.enabled = True
            row.paused_until = None
            row.status_note = None
            # Only slots after now count: turning it on at 10:00 does not post the 09:30 one late.
            row.checked_through = now
            row.updated_at = now
            session.flush()
            view = self._view(row, now)
        return ScheduleSet(view, replaced)

    def _stop(self, team_id: str, channel_id: str) -> bool:
        with self.db.session() as session:
            row = self._row(session, team_id, channel_id)
            if row is None or not row.enabled:
                return False
            row.enabled = False
            row.status_note = None
            row.updated_at = self.clock.now()
            return True

    def _pause(self, team_id: str, channel_id: str, until: date | None) -> SchedulePaused:
        now = self.clock.now()
        with self.db.session() as session:
            row = self._row(session, team_id, channel_id)
            if row is None:
                raise InvalidInputError("This channel has no daily prompt to pause. Set one up with "
                                        "`/prep daily leadership 09:30 weekdays`.")
            today = now.astimezone(zone(row.tz)).date()
            if until is not None and until < today:
                raise InvalidInputError(f"{until.isoformat()} is in the past. Pick a date from today on.")
            row.paused_until = until
            row.enabled = True
            row.status_note = None
            row.updated_at = now
            return SchedulePaused(self._view(row, now), until)

    def show(self, team_id: str, channel_id: str) -> ScheduleView | None:
        with self.db.session() as session:
            row = self._row(session, team_id, channel_id)
            return None if row is None else self._view(row, self.clock.now())

    @staticmethod
    def _row(session, team_id: str, channel_id: str) -> Schedule | None:
        return repo.schedule_of(session, team_id, channel_id)

    def _view(self, row: Schedule, now: datetime) -> ScheduleView:
        local_time, weekdays = _local_time(row.local_time), _weekdays(row.weekdays)
        next_local = None
        if row.enabled:
            try:
                upcoming = slots.next_slot(max(now, row.checked_through), local_time, weekdays, row.tz,
                                           paused_until=row.paused_until)
                next_local = upcoming.at.astimezone(zone(row.tz))
            except ValueError:
                next_local = None
        return ScheduleView(row.team_id, row.channel_id, row.mode, local_time, weekdays, row.tz, row.created_by,
                            row.enabled, row.paused_until, row.status_note, next_local)

    # --- posting ------------------------------------------------------------

    def send_due(self, poster: PromptPoster, now: datetime | None = None, *, workers: int = 8) -> SendReport:
        """Post every prompt due at ``now`` that was not posted yet. Safe to run
        twice, or in two processes at once: each slot is posted once."""
        return SlotPoster(self.db, self.clock, _PromptSlots(self), lease=self.lease).send_due(
            poster, now, workers=workers)

    def _pick(self, session, row: Schedule, slot: slots.Slot) -> Question:
        track, category = self._kind(row)
        pool = self.bank.select(track=track, category=category)
        scope = f"channel:{row.channel_id}"
        categories = tuple(sorted({q.category for q in pool}))
        seen = repo.seen_ids(session, row.team_id, scope, categories)
        # Seeded by the slot, so the same slot picks the same question on every retry.
        rng = random.Random(f"{row.team_id}:{row.channel_id}:{slot.key}")
        choice = rotation.choose(pool, seen, rng, last=repo.last_seen(session, row.team_id, scope))
        if choice.restart:
            repo.restart_rotation(session, row.team_id, scope, choice.restart)
        return choice.question

    @staticmethod
    def _kind(row: Schedule) -> tuple[str | None, str | None]:
        if row.mode in ("technical", "leadership"):
            return row.mode, None
        if row.mode == "alternate":
            return ("technical", "leadership")[row.posted_count % 2], None
        category = tracks.CATEGORIES[row.posted_count % len(tracks.CATEGORIES)]
        return category.track, category.slug

    @staticmethod
    def _snapshot(prompt: Prompt) -> Question:
        """The question as it was when the slot was claimed, if the bank has since dropped it."""
        return Question(prompt.question_id, prompt.track, prompt.category, "mid", prompt.question_text, ("",) * 3,
                        ("",) * 2, "")

    def _disable(self, team_id: str, schedule_id: int, exc: Exception) -> None:
        note = {"NotInChannelError": "paused: coachbot is not in this private channel; /invite it to resume",
                "ChannelGoneError": "stopped: the channel is archived or gone"}[type(exc).__name__]
        with self.db.session() as session:
            row = repo.get_schedule(session, team_id, schedule_id)
            if row is not None:
                row.enabled = False
                row.status_note = note
                row.updated_at = self.clock.now()

    # --- thread replies -----------------------------------------------------

    def prompt_at(self, team_id: str, channel_id: str, message_ts: str) -> Prompt | None:
        with self.db.session() as session:
            return repo.posted_prompt_at(session, team_id, channel_id, message_ts)


class _PromptSlots:
    """The daily prompt as a SlotKind: the ``prompts`` ledger, a question from the rotation,
    and a schedule stopped when its channel is gone."""

    kind, what, label, model = "prompt", "schedule", "", Prompt

    def __init__(self, service: PromptService) -> None:
        self.service = service

    def is_on(self, row: Schedule) -> bool:
        return row.enabled

    def due(self, row: Schedule, now: datetime) -> slots.DueResult:
        return slots.due_slots(now, _local_time(row.local_time), _weekdays(row.weekdays), row.tz,
                               since=row.checked_through, grace=self.service.grace, paused_until=row.paused_until)

    def handled(self, row: Schedule, now: datetime) -> None:
        row.checked_through = max(row.checked_through, now)

    def create(self, session, job: Job, slot: slots.Slot, token: str, at: datetime) -> Prompt:
        question = self.service._pick(session, repo.get_schedule(session, job.team_id, job.schedule_id), slot)
        return Prompt(team_id=job.team_id, channel_id=job.channel_id, schedule_id=job.schedule_id,
                      slot_key=slot.key, slot_at=slot.at, status="claimed", claim_token=token, claimed_at=at,
                      attempts=1, question_id=question.id, question_text=question.text, track=question.track,
                      category=question.category)

    def read(self, session, prompt: Prompt) -> Question:
        return self.service.bank.get(prompt.question_id) or self.service._snapshot(prompt)

    def find(self, poster: PromptPoster, job: Job, slot: slots.Slot) -> str | None:
        return poster.find_prompt(job.team_id, job.channel_id, slot.key, job.schedule_id,
                                  slot.at - timedelta(hours=1))

    def prepare(self, job: Job, slot: slots.Slot, question: Question) -> Question:
        return question

    def post(self, poster: PromptPoster, job: Job, slot: slots.Slot, question: Question) -> str:
        return poster.post_prompt(job.team_id, job.channel_id, question, slot.key, job.schedule_id)

    def posted(self, session, row: Schedule, question: Question, now: datetime) -> None:
        row.posted_count += 1
        repo.mark_seen(session, row.team_id, f"channel:{row.channel_id}", question.id, question.category, now)

    def gone(self, poster: PromptPoster, job: Job, exc: Exception) -> None:
        self.service._disable(job.team_id, job.schedule_id, exc)
        if isinstance(exc, NotInChannelError):
            poster.tell_owner(job.team_id, job.created_by, job.channel_id, "not_in_channel")
        log.warning("stopped the daily prompt in %s/%s: %s", job.team_id, job.channel_id, type(exc).__name__)
