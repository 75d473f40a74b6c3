"""Socket Mode envelope ids, kept in ``processed_events`` beside event ids.

Two rows per envelope, under prefixes so they can never be taken for an event id (the
Events API handlers record ``event_id`` there in the same transaction as what the event
changes): ``claimed:<id>`` when a process starts handling it (its ``received_at`` is the
claim's time) and ``handled:<id>`` once it has. The scheduler's housekeeping forgets both
after a day, like event ids.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coachbot.storage.models import ProcessedEvent
from coachbot.storage.reactions import first_delivery

CLAIMED, HANDLED = "claimed:", "handled:"
_MAX_KEY = 64  # processed_events.event_id is String(64)


def key(prefix: str, envelope_id: str) -> str:
    found = prefix + envelope_id
    if len(found) > _MAX_KEY:  # Slack's envelope ids are UUIDs (36 characters); anything longer is hashed
        found = prefix + hashlib.sha256(envelope_id.encode()).hexdigest()[: _MAX_KEY - len(prefix)]
    return found


def claim(session: Session, team_id: str, envelope_id: str, at: datetime) -> bool:
    """Record the claim; False if there is one already."""
    return first_delivery(session, team_id, key(CLAIMED, envelope_id), at)


def handled(session: Session, team_id: str, envelope_id: str) -> bool:
    return session.scalar(select(ProcessedEvent.event_id).where(
        ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == key(HANDLED, envelope_id))) is not None


def take_over(session: Session, team_id: str, envelope_id: str, older_than: datetime, at: datetime) -> bool:
    """Move a claim made before ``older_than`` to ``at``; False if it is younger (or another process
    took it over first: the update is a compare-and-set on the claim's time)."""
    result = session.execute(update(ProcessedEvent).where(
        ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == key(CLAIMED, envelope_id),
        ProcessedEvent.received_at < older_than).values(received_at=at))
    return result.rowcount == 1


def mark_handled(session: Session, team_id: str, envelope_id: str, at: datetime) -> None:
    first_delivery(session, team_id, key(HANDLED, envelope_id), at)


def release(session: Session, team_id: str, envelope_id: str) -> None:
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.team_id == team_id,
                                                 ProcessedEvent.event_id == key(CLAIMED, envelope_id)))
