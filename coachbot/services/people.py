"""What we know about people: their timezone (for streaks and schedules), cached.

The directory (Slack's users.info in production) is injected as a callable,
so this service knows nothing of Slack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coachbot.clock import Clock
from coachbot.storage import repo
from coachbot.storage.db import Database

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class PersonInfo:
    tz: str
    is_admin: bool = False


Directory = Callable[[str, str], PersonInfo]  # (team_id, user_id) -> info; may raise


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class PeopleService:
    def __init__(self, db: Database, directory: Directory, clock: Clock) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock

    def info(self, team_id: str, user_id: str) -> PersonInfo:
        now = self.clock.now()
        with self.db.session() as session:
            member = repo.get_member(session, team_id, user_id)
            if member is not None and now - member.refreshed_at < REFRESH_AFTER:
                return PersonInfo(member.tz, member.is_admin)
        try:
            fresh = self.directory(team_id, user_id)
        except Exception:  # the directory is Slack: a fault there must not stop practice
            log.warning("could not look up user %s in team %s; using the cached or default timezone", user_id, team_id)
            if member is not None:
                return PersonInfo(member.tz, member.is_admin)
            return PersonInfo("UTC")
        with self.db.session() as session:
            repo.save_member(session, team_id, user_id, fresh.tz, fresh.is_admin, now)
        return fresh

    def timezone(self, team_id: str, user_id: str) -> ZoneInfo:
        return zone(self.info(team_id, user_id).tz)
