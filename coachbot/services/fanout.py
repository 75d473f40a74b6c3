"""Posting scheduled slots exactly once: the one state machine for daily prompts and weekly digests.

A tick takes only the schedules whose next due instant has come (``coachbot.storage.due``: one
indexed statement that also claims them for a short lease), a batch at a time, and handles each
on its own worker thread, so one channel's slow or failing Slack call never holds up the others;
a database fault while handling one is reported for the next tick rather than raised.

Handling one schedule, whatever it posts:

1. the slot maths says which slot is due (at most one; older ones within the window are missed);
2. the slot ledger gives this process the slot (a claim with a lease), or says it is posted or
   held elsewhere;
3. a claim taken over from a process that may have posted first asks Slack (the message
   carries the slot in its metadata) before posting again;
4. wait for the workspace's posting pace, restart the lease, post;
5. record the outcome and write the schedule's next due instant again.

What differs between prompts and digests is data and a few callbacks: a ``SlotKind``.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from coachbot import schedule as slots
from coachbot.clock import Clock
from coachbot.errors import (
    ChannelGoneError,
    NotInChannelError,
    SlackRejectedError,
    SlackUnavailableError,
    StorageUnavailableError,
)
from coachbot.storage import due, ledger, repo
from coachbot.storage.db import Database
from coachbot.storage.models import Schedule

log = logging.getLogger(__name__)

# Schedules taken per statement, per posting thread: small enough that a batch is posted well
# inside the claim lease at Slack's pace, so a second scheduler shares the rest of the slot.
BATCH_PER_WORKER = 4
# How long a tick's take hides a schedule from other ticks: shorter than a tick (30 s), so the
# schedules a process had taken but not yet started when it died come due again by the next tick
# (the slot ledger's own two-minute lease covers the ones it had claimed). A live process still
# working through its batch by then is only raced to the ledger, which gives each slot to one.
TAKE_LEASE = timedelta(seconds=15)
# A slot left to retry (Slack down, held elsewhere) comes due again just after this tick's instant:
# the next tick looks at it, not this one in a loop.
NEXT_TICK = timedelta(microseconds=1)


@dataclass
class SendReport:
    posted: list[str] = field(default_factory=list)  # "team/channel/slot"
    recovered: list[str] = field(default_factory=list)  # found already posted on Slack
    missed: list[str] = field(default_factory=list)
    retry_later: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Tick:
    """One run: the instant it acts at, and the clock for claim times.

    Which slots are due is decided at ``now`` (which ``--now`` may move); a claim is
    stamped when it is taken, ``now`` plus the time the run has taken so far, so a
    claim made late in a long run is not already stale for another process."""

    now: datetime
    started: datetime
    clock: Clock

    def at(self) -> datetime:
        return self.now + (self.clock.now() - self.started)


@dataclass(frozen=True)
class Job:
    """What handling one schedule's slot needs from its row, read once."""

    team_id: str
    schedule_id: int
    channel_id: str
    created_by: str
    mode: str
    tz: str


class SlotKind(Protocol):
    """The data of one kind of scheduled post (a daily prompt, a weekly digest)."""

    kind: str  # "prompt" | "digest": which next-due instant of the schedule (coachbot.storage.due)
    what: str  # in log lines: "schedule" | "digest"
    label: str  # before the slot key in reports: "" | "digest-"
    model: Any  # the slot ledger's table (Prompt | Digest)

    def is_on(self, row: Schedule) -> bool: ...

    def due(self, row: Schedule, now: datetime) -> slots.DueResult: ...

    def handled(self, row: Schedule, now: datetime) -> None:
        """Mark every slot up to ``now`` handled (this kind's checked_through)."""

    def create(self, session: Session, job: Job, slot: slots.Slot, token: str, at: datetime) -> Any:
        """The ledger row for a new slot (status "claimed")."""

    def read(self, session: Session, row: Any) -> Any:
        """What posting needs from the ledger row (the question; the slot's instant)."""

    def find(self, poster: Any, job: Job, slot: slots.Slot) -> str | None:
        """The ts of this slot's message if Slack has it already."""

    def prepare(self, job: Job, slot: slots.Slot, data: Any) -> Any:
        """The content to post (built just before posting)."""

    def post(self, poster: Any, job: Job, slot: slots.Slot, content: Any) -> str: ...

    def posted(self, session: Session, row: Schedule, data: Any, now: datetime) -> None:
        """Book-keeping once posted, in the transaction that records it."""

    def gone(self, poster: Any, job: Job, exc: ChannelGoneError | NotInChannelError) -> None:
        """The channel is gone or the bot is not in it."""


class SlotPoster:
    """Runs the state machine for one ``SlotKind`` over whatever is due."""

    def __init__(self, db: Database, clock: Clock, kind: SlotKind, *, lease: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.kind = kind
        self.lease = lease

    def send_due(self, poster: Any, now: datetime | None = None, *, workers: int = 8) -> SendReport:
        """Post every slot due at ``now`` that was not posted yet. Safe to run twice, or in two
        processes at once: each slot is posted once."""
        started = self.clock.now()
        tick = Tick(now or started, started, self.clock)
        report = SendReport()
        batch = BATCH_PER_WORKER * max(1, workers)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            while True:
                try:
                    taken = due.take_due(self.db, self.kind.kind, tick.now, tick.at() + TAKE_LEASE, batch)
                except StorageUnavailableError:
                    log.warning("database unavailable: no %s sent this tick; the next tick retries", self.kind.what)
                    report.retry_later.append("database unavailable")
                    break
                for future in [pool.submit(self._one, poster, team, schedule_id, tick, report)
                               for team, schedule_id in interleaved(taken)]:
                    future.result()
                if len(taken) < batch:
                    break
        return report

    def _one(self, poster: Any, team_id: str, schedule_id: int, tick: Tick, report: SendReport) -> None:
        try:
            self._handle(poster, team_id, schedule_id, tick, report)
        except StorageUnavailableError:
            # The schedule keeps its claim's lease: it comes due again when that runs out.
            log.warning("database unavailable while sending the %s of schedule %s; it will be retried",
                        self.kind.what, schedule_id)
            report.retry_later.append(f"{team_id}/{self.kind.what}-{schedule_id}")
        except SlackUnavailableError as exc:  # reading the channel to reconcile failed
            log_unavailable(f"{team_id}/{self.kind.what}-{schedule_id}", exc)
            report.retry_later.append(f"{team_id}/{self.kind.what}-{schedule_id}")

    def _handle(self, poster: Any, team_id: str, schedule_id: int, tick: Tick, report: SendReport) -> None:
        kind, now = self.kind, tick.now
        with self.db.session() as session:
            row = repo.get_schedule(session, team_id, schedule_id)
            if row is None:
                return
            if not kind.is_on(row):
                due.settle(session, row, kind.kind)
                return
            result = kind.due(row, now)
            for missed in result.missed:
                log.info("skipped the %s for %s/%s on %s: outside the grace window", kind.kind, team_id,
                         row.channel_id, missed.key)
                report.missed.append(f"{team_id}/{row.channel_id}/{kind.label}{missed.key}")
            if result.due is None:
                kind.handled(row, now)
                due.settle(session, row, kind.kind)
                return
            slot = result.due
            job = Job(team_id, schedule_id, row.channel_id, row.created_by, row.mode, row.tz)
        label = f"{team_id}/{job.channel_id}/{kind.label}{slot.key}"
        claimed_at = tick.at()
        taken = ledger.claim(self.db, kind.model, team_id=team_id, channel_id=job.channel_id, slot_key=slot.key,
                             now=claimed_at, lease=self.lease,
                             create=lambda session, token: kind.create(session, job, slot, token, claimed_at),
                             read=kind.read)
        if taken is None:  # posted, given up on, or held by a live claim elsewhere
            self._refused(job, slot, tick)
            return
        if taken.recovering:
            ts = kind.find(poster, job, slot)
            if ts is not None:
                self._posted(job, taken.row_id, ts, taken.data, now)
                report.recovered.append(label)
                return
        content = kind.prepare(job, slot, taken.data)
        poster.ready(team_id)
        if not ledger.renew(self.db, kind.model, team_id, taken.row_id, taken.token, tick.at()):
            log.warning("lost the claim on %s while waiting to post; another process has it", label)
            self._later(job, tick)
            return
        try:
            ts = kind.post(poster, job, slot, content)
        except SlackUnavailableError as exc:
            ledger.release(self.db, kind.model, team_id, taken.row_id, taken.token, uncertain=exc.maybe_posted)
            log_unavailable(label, exc)
            report.retry_later.append(label)
            self._later(job, tick)
            return
        except (ChannelGoneError, NotInChannelError) as exc:
            ledger.release(self.db, kind.model, team_id, taken.row_id, taken.token, failed=True)
            kind.gone(poster, job, exc)
            report.stopped.append(label)
            self._handled(job, now)
            return
        self._posted(job, taken.row_id, ts, taken.data, now)
        report.posted.append(label)

    def _posted(self, job: Job, ledger_id: int, ts: str, data: Any, now: datetime) -> None:
        with self.db.session() as session:
            ledger.mark_posted(session, self.kind.model, job.team_id, ledger_id, ts, now)
            row = repo.get_schedule(session, job.team_id, job.schedule_id)
            if row is not None:
                self.kind.posted(session, row, data, now)
                self.kind.handled(row, now)
                due.settle(session, row, self.kind.kind)

    def _handled(self, job: Job, now: datetime) -> None:
        with self.db.session() as session:
            row = repo.get_schedule(session, job.team_id, job.schedule_id)
            if row is not None:
                self.kind.handled(row, now)
                due.settle(session, row, self.kind.kind)

    def _refused(self, job: Job, slot: slots.Slot, tick: Tick) -> None:
        """The ledger would not give us the slot: done with it if it is posted or failed for good,
        else (a live claim elsewhere) look again on the next tick."""
        with self.db.session() as session:
            row = repo.get_schedule(session, job.team_id, job.schedule_id)
            if row is None:
                return
            if ledger.is_settled(session, self.kind.model, job.team_id, job.channel_id, slot.key):
                self.kind.handled(row, tick.now)
                due.settle(session, row, self.kind.kind)
            else:
                due.settle(session, row, self.kind.kind, not_before=tick.now + NEXT_TICK)

    def _later(self, job: Job, tick: Tick) -> None:
        with self.db.session() as session:
            row = repo.get_schedule(session, job.team_id, job.schedule_id)
            if row is not None:
                due.settle(session, row, self.kind.kind, not_before=tick.now + NEXT_TICK)


def interleaved(taken: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The batch in turns by workspace (A1, B1, C1, A2, ...): each workspace has its own posting
    pace, so threads spread over workspaces post in parallel instead of queueing behind one."""
    lanes: dict[str, list[tuple[str, int]]] = {}
    for item in taken:
        lanes.setdefault(item[0], []).append(item)
    out: list[tuple[str, int]] = []
    for turn in range(max((len(lane) for lane in lanes.values()), default=0)):
        out.extend(lane[turn] for lane in lanes.values() if turn < len(lane))
    return out


def log_unavailable(label: str, exc: Exception) -> None:
    if isinstance(exc, SlackRejectedError):
        # Not Slack being down: the app's token or scopes are wrong. Every tick retries, and says so.
        log.error("Slack refused to post %s (%s): check SLACK_BOT_TOKEN and the app's scopes", label, exc)
    else:
        log.warning("Slack unavailable for %s (%s): retrying on the next tick", label, exc)
