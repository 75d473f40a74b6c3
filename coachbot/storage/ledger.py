"""Exactly-once posting slots, shared by daily prompts and weekly digests.

A slot (a channel and a local date) is one row under a unique key. Taking it
is a claim with a lease: a process that dies holding one leaves it to be
taken over once the lease runs out, and the taker is told it is
``recovering`` so it can ask Slack whether the post already went out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coachbot.storage.db import Database

T = TypeVar("T")


@dataclass(frozen=True)
class Claim(Generic[T]):
    row_id: int
    token: str
    recovering: bool  # a previous holder may have posted before it died: reconcile first
    data: T


def claim(db: Database, model: Any, *, team_id: str, channel_id: str, slot_key: str, now: datetime,
          lease: timedelta, create: Callable[[Session, str], Any], read: Callable[[Session, Any], T]) -> Claim[T] | None:
    """Take the slot, or None if it is posted, failed, or held by a live claim elsewhere.

    ``create(session, token)`` makes the row for a new slot (status "claimed");
    ``read(session, row)`` extracts what the caller needs from it."""
    token = str(uuid.uuid4())
    try:
        with db.session() as session:
            existing = session.scalar(select(model).where(
                model.team_id == team_id, model.channel_id == channel_id, model.slot_key == slot_key))
            if existing is None:
                row = create(session, token)
                session.add(row)
                session.flush()
                return Claim(row.id, token, False, read(session, row))
            if existing.status in ("posted", "failed"):
                return None
            stale = existing.status in ("pending", "unknown") or (existing.claimed_at or now) <= now - lease
            if not stale:
                return None
            held = existing.claim_token
            taken = session.execute(
                update(model)
                .where(model.team_id == team_id, model.id == existing.id,
                       model.claim_token.is_(None) if held is None else model.claim_token == held)
                .values(status="claimed", claim_token=token, claimed_at=now, attempts=existing.attempts + 1)
            ).rowcount
            if taken != 1:
                return None
            # A claim that was held (not released) may have been posted before its holder died, and
            # one released after an unknown outcome (a timeout) may have been posted too.
            return Claim(existing.id, token, existing.status in ("claimed", "unknown"), read(session, existing))
    except IntegrityError:
        return None  # another process inserted the same slot first


def renew(db: Database, model: Any, team_id: str, row_id: int, token: str, at: datetime) -> bool:
    """Restart the lease just before posting; False if the claim was lost to another process
    (its lease ran out while this one waited), which must then not post."""
    with db.session() as session:
        return session.execute(update(model).where(model.team_id == team_id, model.id == row_id,
                                                   model.claim_token == token)
                               .values(claimed_at=at)).rowcount == 1


def mark_posted(session: Session, model: Any, team_id: str, row_id: int, ts: str, now: datetime) -> None:
    session.execute(update(model).where(model.team_id == team_id, model.id == row_id)
                    .values(status="posted", posted_at=now, message_ts=ts, claim_token=None))


def release(db: Database, model: Any, team_id: str, row_id: int, token: str, *, failed: bool = False,
            uncertain: bool = False) -> None:
    """Give the slot back to be retried ("pending"; "unknown" when the post may have gone out,
    so the next taker checks Slack first), or mark it failed for good."""
    status = "failed" if failed else ("unknown" if uncertain else "pending")
    with db.session() as session:
        session.execute(update(model).where(model.team_id == team_id, model.id == row_id, model.claim_token == token)
                        .values(status=status, claim_token=None))


def is_settled(session: Session, model: Any, team_id: str, channel_id: str, slot_key: str) -> bool:
    """Whether the slot is done with: posted, or failed for good."""
    return session.scalar(select(model.id).where(
        model.team_id == team_id, model.channel_id == channel_id, model.slot_key == slot_key,
        model.status.in_(("posted", "failed")))) is not None
