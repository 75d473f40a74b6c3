"""Running a scheduled post for every due schedule: shared by daily prompts and digests.

Each schedule is handled on its own worker thread, so one channel's slow or failing
Slack call never holds up the others, and a database fault while handling one is
reported for the next tick rather than raised.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from coachbot.clock import Clock
from coachbot.errors import SlackRejectedError, StorageUnavailableError
from coachbot.storage.db import Database
from coachbot.storage.models import Schedule

log = logging.getLogger(__name__)


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


Send = Callable[[str, int, Tick, SendReport], None]  # (team, schedule id, tick, report)


def fan_out(db: Database, clock: Clock, now: datetime | None, send: Send, *, what: str,
            digests: bool = False, workers: int = 8) -> SendReport:
    """Call ``send`` for every enabled schedule (with its digest on, for ``digests``)."""
    started = clock.now()
    tick = Tick(now or started, started, clock)
    report = SendReport()
    query = select(Schedule.team_id, Schedule.id).where(Schedule.enabled.is_(True))
    if digests:
        query = query.where(Schedule.digest_enabled.is_(True))
    try:
        with db.session() as session:
            due = list(session.execute(query))
    except StorageUnavailableError:
        log.warning("database unavailable: no %s sent this tick; the next tick retries", what)
        report.retry_later.append("database unavailable")
        return report

    def one(team_id: str, schedule_id: int) -> None:
        try:
            send(team_id, schedule_id, tick, report)
        except StorageUnavailableError:
            log.warning("database unavailable while sending the %s of schedule %s; it will be retried", what,
                        schedule_id)
            report.retry_later.append(f"{team_id}/{what}-{schedule_id}")

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for future in [pool.submit(one, team_id, schedule_id) for team_id, schedule_id in due]:
            future.result()
    return report


def log_unavailable(label: str, exc: Exception) -> None:
    if isinstance(exc, SlackRejectedError):
        # Not Slack being down: the app's token or scopes are wrong. Every tick retries, and says so.
        log.error("Slack refused to post %s (%s): check SLACK_BOT_TOKEN and the app's scopes", label, exc)
    else:
        log.warning("Slack unavailable for %s (%s): retrying on the next tick", label, exc)
