"""Queries. Every function takes ``team_id`` first and filters by it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from coachbot.storage import upsert
from coachbot.storage.models import Answer, Member, ProcessedEvent, Prompt, Schedule, SeenQuestion


# --- rotation -------------------------------------------------------------
# Every /prep question runs these three, so the statements are built once, with bound
# parameters, rather than composed again on each call (the composing was most of their CPU).

_SEEN_IDS = select(SeenQuestion.question_id).where(
    SeenQuestion.team_id == bindparam("team_id"), SeenQuestion.scope == bindparam("scope"),
    SeenQuestion.category.in_(bindparam("categories", expanding=True)))
_LAST_SEEN = (select(SeenQuestion.question_id)
              .where(SeenQuestion.team_id == bindparam("team_id"), SeenQuestion.scope == bindparam("scope"))
              .order_by(SeenQuestion.seen_at.desc()).limit(1))


def _mark_seen_statement(dialect: str) -> Any:
    statement = upsert.insert_for(dialect, SeenQuestion).values(
        team_id=bindparam("team_id"), scope=bindparam("scope"), question_id=bindparam("question_id"),
        category=bindparam("category"), seen_at=bindparam("seen_at", type_=SeenQuestion.__table__.c.seen_at.type))
    return statement.on_conflict_do_update(index_elements=["team_id", "scope", "question_id"],
                                           set_={"seen_at": statement.excluded.seen_at})


_MARK_SEEN = {dialect: _mark_seen_statement(dialect) for dialect in ("postgresql", "sqlite")}


def seen_ids(session: Session, team_id: str, scope: str, categories: tuple[str, ...]) -> set[str]:
    return set(session.scalars(_SEEN_IDS, {"team_id": team_id, "scope": scope, "categories": list(categories)}))


def last_seen(session: Session, team_id: str, scope: str) -> str | None:
    return session.scalar(_LAST_SEEN, {"team_id": team_id, "scope": scope})


def restart_rotation(session: Session, team_id: str, scope: str, categories: tuple[str, ...]) -> None:
    session.execute(
        delete(SeenQuestion).where(
            SeenQuestion.team_id == team_id, SeenQuestion.scope == scope, SeenQuestion.category.in_(categories)
        )
    )


def mark_seen(session: Session, team_id: str, scope: str, question_id: str, category: str, at: datetime) -> None:
    session.execute(_MARK_SEEN[upsert.dialect_of(session)], {"team_id": team_id, "scope": scope,
                                                             "question_id": question_id, "category": category,
                                                             "seen_at": at})


# --- answers --------------------------------------------------------------

def add_answer(session: Session, answer: Answer) -> Answer:
    session.add(answer)
    session.flush()
    return answer


def get_answer(session: Session, team_id: str, answer_id: int) -> Answer | None:
    return session.scalar(select(Answer).where(Answer.team_id == team_id, Answer.id == answer_id))


def answer_counts(session: Session, team_id: str, user_id: str) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Answer.track, Answer.category, func.count())
        .where(Answer.team_id == team_id, Answer.user_id == user_id)
        .group_by(Answer.track, Answer.category)
    )
    return {(track, category): count for track, category, count in rows}


def practice_days(session: Session, team_id: str, user_id: str) -> list[date]:
    return list(
        session.scalars(
            select(Answer.local_day).where(Answer.team_id == team_id, Answer.user_id == user_id).distinct()
        )
    )


# --- members --------------------------------------------------------------

def get_member(session: Session, team_id: str, user_id: str) -> Member | None:
    return session.get(Member, (team_id, user_id))


def save_member(session: Session, team_id: str, user_id: str, tz: str, is_admin: bool, at: datetime) -> None:
    statement = upsert.insert(session, Member).values(team_id=team_id, user_id=user_id, tz=tz, is_admin=is_admin,
                                                      refreshed_at=at)
    session.execute(statement.on_conflict_do_update(
        index_elements=["team_id", "user_id"],
        set_={"tz": statement.excluded.tz, "is_admin": statement.excluded.is_admin,
              "refreshed_at": statement.excluded.refreshed_at}))


def thread_answer(session: Session, team_id: str, channel_id: str, message_ts: str) -> Answer | None:
    return session.scalar(select(Answer).where(
        Answer.team_id == team_id, Answer.channel_id == channel_id, Answer.message_ts == message_ts,
        Answer.source == "thread"))


def remember_event(session: Session, team_id: str, event_id: str, at: datetime) -> None:
    """Adds the event's id; flushing raises IntegrityError if it was handled before."""
    session.add(ProcessedEvent(team_id=team_id, event_id=event_id, received_at=at))
    session.flush()


def pause_schedule_if_enabled(session: Session, team_id: str, channel_id: str, note: str,
                              at: datetime) -> str | None:
    """Turn a channel's running schedule off with a note; who set it up, or None if none was running.

    One conditional UPDATE, so of two processes handling two events for one removal only
    one sees the schedule running."""
    return session.scalar(
        update(Schedule)
        .where(Schedule.team_id == team_id, Schedule.channel_id == channel_id, Schedule.enabled.is_(True))
        # A Core UPDATE skips the mapper event that keeps the due instants: off means NULL.
        .values(enabled=False, status_note=note, updated_at=at, next_due=None, digest_next_due=None)
        .returning(Schedule.created_by)
    )


def get_schedule(session: Session, team_id: str, schedule_id: int) -> Schedule | None:
    return session.scalar(select(Schedule).where(Schedule.team_id == team_id, Schedule.id == schedule_id))


def forget_processed_events(session: Session, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` remembered event ids received before ``before``; how many went.

    Housekeeping across every workspace (it reads nothing and acts for no one), so unlike the
    queries above it is not filtered by team."""
    oldest = (select(ProcessedEvent.team_id, ProcessedEvent.event_id)
              .where(ProcessedEvent.received_at < before).order_by(ProcessedEvent.received_at).limit(limit))
    result = session.execute(delete(ProcessedEvent).where(
        tuple_(ProcessedEvent.team_id, ProcessedEvent.event_id).in_(oldest)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def schedule_of(session: Session, team_id: str, channel_id: str) -> Schedule | None:
    """A channel's schedule (one per channel)."""
    return session.scalar(select(Schedule).where(Schedule.team_id == team_id, Schedule.channel_id == channel_id))


def posted_prompt_at(session: Session, team_id: str, channel_id: str, message_ts: str) -> Prompt | None:
    """The posted daily prompt that is this message, if any (thread replies to it are answers)."""
    return session.scalar(select(Prompt).where(
        Prompt.team_id == team_id, Prompt.channel_id == channel_id, Prompt.message_ts == message_ts,
        Prompt.status == "posted"))
