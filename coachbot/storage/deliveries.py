"""Socket Mode envelope ids, kept in ``processed_events`` beside event ids.

An envelope id is stored under a prefix, so it can never be taken for an event id (the
Events API handlers record ``event_id`` there in the same transaction as what the event
changes), and the scheduler's housekeeping forgets both after a day.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from coachbot.storage.models import ProcessedEvent
from coachbot.storage.reactions import first_delivery

PREFIX = "envelope:"
_MAX_KEY = 64  # processed_events.event_id is String(64)


def key(envelope_id: str) -> str:
    found = PREFIX + envelope_id
    if len(found) > _MAX_KEY:  # Slack's envelope ids are UUIDs (36 characters); anything longer is hashed
        found = PREFIX + hashlib.sha256(envelope_id.encode()).hexdigest()[: _MAX_KEY - len(PREFIX)]
    return found


def claim(session: Session, team_id: str, envelope_id: str, at: datetime) -> bool:
    """Record the envelope id; False if some process recorded it before."""
    return first_delivery(session, team_id, key(envelope_id), at)


def release(session: Session, team_id: str, envelope_id: str) -> None:
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.team_id == team_id,
                                                 ProcessedEvent.event_id == key(envelope_id)))
