"""The clock process: APScheduler ticks, the database decides what is due.

Every tick calls ``PromptService.send_due`` and ``DigestService.send_due``, which take only the schedules
whose next due instant has come (one indexed statement each, so an idle tick costs the same at any number
of schedules); posting is exactly-once whatever runs it (this process, a second one, or an operator's
``prompts send-due``), at one pace per workspace shared by all of them. Then it forgets event ids past
Slack's retry window (``HousekeepingService``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Protocol

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from coachbot.errors import StorageUnavailableError
from coachbot.services import Services
from coachbot.services.digest import DigestPoster
from coachbot.services.fanout import SendReport
from coachbot.services.prompts import PromptPoster

log = logging.getLogger(__name__)

TICK_SECONDS = 30


class Poster(PromptPoster, DigestPoster, Protocol):
    """Posts both daily prompts and weekly digests (coachbot.slackapi.SlackPromptPoster)."""


def tick(services: Services, poster: Poster, now: datetime | None = None) -> SendReport:
    """Post what is due: daily prompts first, then weekly digests (the poster does both)."""
    now = now or services.clock.now()
    report = services.prompts.send_due(poster, now)
    digests = services.digests.send_due(poster, now)
    for name in ("posted", "recovered", "missed", "retry_later", "stopped"):
        getattr(report, name).extend(getattr(digests, name))
    try:
        forgotten = services.housekeeping.forget_old_event_ids()
    except StorageUnavailableError:
        forgotten = 0  # the posting above has said so already; the next tick tries again
    if forgotten:
        log.info("forgot %d event ids past Slack's retry window", forgotten)
    try:
        # Also when no judge is configured any more: what was stored still expires.
        expired = services.judge.forget_old_reviews()
    except StorageUnavailableError:
        expired = 0
    if expired:
        log.info("forgot %d AI reviews past their keeping time", expired)
    if report.posted or report.recovered or report.retry_later or report.stopped:
        log.info("prompts: %d posted, %d recovered, %d to retry, %d stopped, %d missed",
                 len(report.posted), len(report.recovered), len(report.retry_later), len(report.stopped),
                 len(report.missed))
    return report


def run_forever(services: Services, poster: Poster, *, seconds: int = TICK_SECONDS) -> None:
    scheduler = BlockingScheduler(timezone=timezone.utc)
    scheduler.add_job(
        tick, IntervalTrigger(seconds=seconds, timezone=timezone.utc), args=(services, poster),
        id="send_due", max_instances=1, coalesce=True, misfire_grace_time=seconds,
        next_run_time=datetime.now(timezone.utc),
    )
    log.info("scheduler started: checking for due prompts every %d s", seconds)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
