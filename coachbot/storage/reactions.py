"""Reaction events, stored in as few statements as possible: one lookup of the answer, the
event id and the reaction each inserted with ON CONFLICT DO NOTHING, and one update of the
answer's count. Events come at hundreds a second; the ORM's unit of work costs more than
the database does here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coachbot.storage import upsert
from coachbot.storage.models import Answer, ProcessedEvent, Reaction


def answer_key(session: Session, team_id: str, channel_id: str, message_ts: str) -> tuple[int, str] | None:
    """(answer id, author) of the answer shown by this message, if it is one."""
    row = session.execute(select(Answer.id, Answer.user_id).where(
        Answer.team_id == team_id, Answer.channel_id == channel_id, Answer.message_ts == message_ts).limit(1)).first()
    return None if row is None else (row[0], row[1])


def first_delivery(session: Session, team_id: str, event_id: str, at: datetime) -> bool:
    """Record the event id; False if it was recorded before (a retry)."""
    statement = upsert.insert(session, ProcessedEvent).values(team_id=team_id, event_id=event_id, received_at=at)
    # RETURNING, not rowcount: drivers differ on rowcount for INSERT ... ON CONFLICT.
    return session.execute(statement.on_conflict_do_nothing(index_elements=["team_id", "event_id"])
                           .returning(ProcessedEvent.event_id)).first() is not None


def add(session: Session, team_id: str, answer: tuple[int, str], user_id: str, emoji: str, at: datetime) -> bool:
    answer_id, author_id = answer
    is_self = user_id == author_id
    statement = upsert.insert(session, Reaction).values(team_id=team_id, answer_id=answer_id, author_id=author_id,
                                                        user_id=user_id, emoji=emoji, is_self=is_self, created_at=at)
    inserted = session.execute(statement.on_conflict_do_nothing(
        index_elements=["team_id", "answer_id", "user_id", "emoji"]).returning(Reaction.id)).first() is not None
    if inserted and not is_self:
        _bump(session, team_id, answer_id, 1)
    return inserted


def remove(session: Session, team_id: str, answer: tuple[int, str], user_id: str, emoji: str) -> bool:
    answer_id, _ = answer
    gone = session.execute(delete(Reaction).where(
        Reaction.team_id == team_id, Reaction.answer_id == answer_id, Reaction.user_id == user_id,
        Reaction.emoji == emoji).returning(Reaction.is_self)).scalars().all()
    counted = sum(1 for is_self in gone if not is_self)
    if counted:
        _bump(session, team_id, answer_id, -counted)
    return bool(gone)


def _bump(session: Session, team_id: str, answer_id: int, by: int) -> None:
    session.execute(update(Answer).where(Answer.team_id == team_id, Answer.id == answer_id)
                    .values(reaction_count=Answer.reaction_count + by))
