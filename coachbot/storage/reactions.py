"""Reaction events, stored in as few round trips as possible: they come at hundreds a second,
and each is a lookup of the answer, the event id and the reaction inserted with ON CONFLICT
DO NOTHING, and an update of the answer's count.

On PostgreSQL all of that is one statement (data-modifying CTEs), run outside an explicit
transaction: one round trip instead of seven (BEGIN, four statements, COMMIT, and the
pool's ping). On SQLite, which has no network, the same steps run as plain statements.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, DateTime, String, bindparam, delete, select, text, update
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


# Typed, so the driver sends each value with its type (one parameter is used twice, as a
# value and in a comparison, and PostgreSQL would otherwise deduce two types for it).
TYPED = [bindparam(name, type_=String()) for name in ("team", "event", "channel", "ts", "user", "emoji")] + [
    bindparam("at", type_=DateTime())]

# One statement: find the answer, remember the event id, add the reaction, bump the count.
# The reaction is only inserted when the event id is new (``FROM a, e``), so a retried
# delivery changes nothing; the count only moves for someone else's reaction.
ADD_SQL = text("""
WITH a AS (
    SELECT id, user_id FROM answers
    WHERE team_id = :team AND channel_id = :channel AND message_ts = :ts LIMIT 1
), e AS (
    INSERT INTO processed_events (team_id, event_id, received_at)
    SELECT :team, :event, :at FROM a
    ON CONFLICT DO NOTHING RETURNING 1
), r AS (
    INSERT INTO reactions (team_id, answer_id, author_id, user_id, emoji, is_self, created_at)
    SELECT :team, a.id, a.user_id, :user, :emoji, a.user_id = :user, :at FROM a, e
    ON CONFLICT DO NOTHING RETURNING answer_id, is_self
), u AS (
    UPDATE answers SET reaction_count = answers.reaction_count + 1
    FROM r WHERE answers.team_id = :team AND answers.id = r.answer_id AND NOT r.is_self
    RETURNING 1
)
SELECT count(*) FROM r
""").bindparams(*TYPED)

REMOVE_SQL = text("""
WITH a AS (
    SELECT id FROM answers
    WHERE team_id = :team AND channel_id = :channel AND message_ts = :ts LIMIT 1
), e AS (
    INSERT INTO processed_events (team_id, event_id, received_at)
    SELECT :team, :event, :at FROM a
    ON CONFLICT DO NOTHING RETURNING 1
), d AS (
    DELETE FROM reactions USING a, e
    WHERE reactions.team_id = :team AND reactions.answer_id = a.id
      AND reactions.user_id = :user AND reactions.emoji = :emoji
    RETURNING reactions.answer_id, reactions.is_self
), u AS (
    UPDATE answers SET reaction_count = answers.reaction_count - (SELECT count(*) FROM d WHERE NOT d.is_self)
    FROM a WHERE answers.team_id = :team AND answers.id = a.id AND EXISTS (SELECT 1 FROM d WHERE NOT d.is_self)
    RETURNING 1
)
SELECT count(*) FROM d
""").bindparams(*TYPED)


def change_in_one_statement(connection: Connection, *, removed: bool, team_id: str, event_id: str, channel_id: str,
                            ts: str, user_id: str, emoji: str, at: datetime) -> bool:
    """PostgreSQL only. True if a reaction was added (or removed)."""
    statement = REMOVE_SQL if removed else ADD_SQL
    # Timestamps are stored as naive UTC (see models.UTCDateTime); text SQL bypasses the column type.
    naive_utc = at.astimezone(timezone.utc).replace(tzinfo=None)
    return bool(connection.execute(statement, {"team": team_id, "event": event_id, "channel": channel_id, "ts": ts,
                                               "user": user_id, "emoji": emoji, "at": naive_utc}).scalar())
