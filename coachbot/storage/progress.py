"""Queries behind reactions, progress, leaderboards, the digest and forget-me.

Every function takes ``team_id`` and filters by it. Aggregates run in the
database (GROUP BY over indexed columns), never one query per answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from coachbot.storage import judge as judge_store
from coachbot.storage.models import Answer, Member, Reaction, Schedule, SeenQuestion

PUBLIC = "channel"
_ANSWERS_AGAIN = Answer.__table__.alias("answers_again")  # made once: an ORM alias per call costs milliseconds


# --- reactions on answers ------------------------------------------------


def _bump(session: Session, team_id: str, answer_id: int, by: int) -> None:
    session.execute(update(Answer).where(Answer.team_id == team_id, Answer.id == answer_id)
                    .values(reaction_count=Answer.reaction_count + by))


def reactions_of(session: Session, team_id: str, answer_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per answer, the count of each emoji from other people."""
    if not answer_ids:
        return {}
    rows = session.execute(
        select(Reaction.answer_id, Reaction.emoji, func.count())
        .where(Reaction.team_id == team_id, Reaction.answer_id.in_(answer_ids), Reaction.is_self.is_(False))
        .group_by(Reaction.answer_id, Reaction.emoji)
    )
    found: dict[int, dict[str, int]] = {}
    for answer_id, emoji, count in rows:
        found.setdefault(answer_id, {})[emoji] = count
    return found


# --- one person -------------------------------------------------------------

def _mine(team_id: str, user_id: str, public_only: bool):
    conditions = [Answer.team_id == team_id, Answer.user_id == user_id]
    if public_only:
        conditions.append(Answer.visibility == PUBLIC)
    return and_(*conditions)


@dataclass(frozen=True)
class PersonCounts:
    per_category: dict[tuple[str, str], int]  # answers per (track, category)
    reactions_received: int  # by the person's public answers, from other people
    most_reactions: int  # the most one public answer received (0 if none has any)


def person_counts(session: Session, team_id: str, user_id: str, *, public_only: bool) -> PersonCounts:
    """Answers per category, and the reactions their public ones received, in one pass over the person's
    answers (an index-only scan of ix_answers_user_team_progress), with the highest count for ``most_reacted``."""
    public_reactions = case((Answer.visibility == PUBLIC, Answer.reaction_count), else_=0)
    rows = session.execute(select(Answer.track, Answer.category, func.count(), func.sum(public_reactions),
                                  func.max(public_reactions))
                           .where(_mine(team_id, user_id, public_only)).group_by(Answer.track, Answer.category)).all()
    return PersonCounts({(track, category): int(count) for track, category, count, _, _ in rows},
                        sum(int(received or 0) for _, _, _, received, _ in rows),
                        max((int(most or 0) for _, _, _, _, most in rows), default=0))


def days_practised(session: Session, team_id: str, user_id: str, *, public_only: bool) -> list[date]:
    return list(session.scalars(select(Answer.local_day).where(_mine(team_id, user_id, public_only)).distinct()))


def most_reacted(session: Session, team_id: str, user_id: str, *, reactions: int | None = None) -> Answer | None:
    """The public answer with the most reactions (ties: the earliest). ``reactions``: the highest count
    when the caller has it already (``person_counts``); 0 means there is none, and nothing is asked.

    Asked as "the earliest answer with the highest count" so both steps read only
    ix_answers_user_team_progress, whatever the plan, and only the answer returned is read from the
    table (ordering by the count first reads every reacted answer of the person)."""
    if reactions is not None and reactions <= 0:
        return None
    mine = _ANSWERS_AGAIN.c
    highest = (select(func.max(mine.reaction_count))
               .where(mine.team_id == team_id, mine.user_id == user_id, mine.visibility == PUBLIC).scalar_subquery())
    return session.scalar(select(Answer).where(_mine(team_id, user_id, True), Answer.reaction_count > 0,
                                               Answer.reaction_count == highest)
                          .order_by(Answer.created_at, Answer.id).limit(1))


def recent_answers(session: Session, team_id: str, user_id: str, limit: int, *, public_only: bool) -> list[Answer]:
    return list(session.scalars(select(Answer).where(_mine(team_id, user_id, public_only))
                                .order_by(Answer.created_at.desc(), Answer.id.desc()).limit(limit)))


def save_permalink(session: Session, team_id: str, answer_id: int, link: str) -> None:
    session.execute(update(Answer).where(Answer.team_id == team_id, Answer.id == answer_id).values(permalink=link))


# --- the team -------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    user_id: str
    answers: int
    reactions: int
    last_at: datetime


def tallies(session: Session, team_id: str, since: datetime | None, until: datetime | None = None,
            channel_id: str | None = None) -> list[Tally]:
    """Per person: public answers given in the window and the reactions those answers received."""
    conditions = [Answer.team_id == team_id, Answer.visibility == PUBLIC]
    if since is not None:
        conditions.append(Answer.created_at >= since)
    if until is not None:
        conditions.append(Answer.created_at < until)
    if channel_id is not None:
        conditions.append(Answer.channel_id == channel_id)
    rows = session.execute(
        select(Answer.user_id, func.count(), func.coalesce(func.sum(Answer.reaction_count), 0),
               func.max(Answer.created_at))
        .where(*conditions).group_by(Answer.user_id)
    )
    return [Tally(user, int(answers), int(reactions), _aware(last)) for user, answers, reactions, last in rows]


def _aware(value: datetime) -> datetime:
    # Defensive: an aggregate may come back without the column type's UTC conversion.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _in_channel(team_id: str, channel_id: str, since: datetime, until: datetime):
    return and_(Answer.team_id == team_id, Answer.channel_id == channel_id, Answer.visibility == PUBLIC,
                Answer.created_at >= since, Answer.created_at < until)


def channel_answers(session: Session, team_id: str, channel_id: str, since: datetime, until: datetime, *,
                    reacted_only: bool = False, limit: int | None = None) -> list[Answer]:
    """Public answers posted in the channel in the window, most reacted first (ties: the earliest)."""
    query = select(Answer).where(_in_channel(team_id, channel_id, since, until))
    if reacted_only:
        query = query.where(Answer.reaction_count > 0)
    query = query.order_by(Answer.reaction_count.desc(), Answer.created_at, Answer.id)
    return list(session.scalars(query if limit is None else query.limit(limit)))


@dataclass(frozen=True)
class ChannelTally:
    user_id: str
    category: str
    answers: int
    reactions: int


def channel_tallies(session: Session, team_id: str, channel_id: str, since: datetime, until: datetime
                    ) -> list[ChannelTally]:
    """Per person and category: public answers posted in the channel in the window and their reactions."""
    rows = session.execute(
        select(Answer.user_id, Answer.category, func.count(), func.coalesce(func.sum(Answer.reaction_count), 0))
        .where(_in_channel(team_id, channel_id, since, until)).group_by(Answer.user_id, Answer.category))
    return [ChannelTally(user, category, int(answers), int(reactions)) for user, category, answers, reactions in rows]


def channel_category_counts(session: Session, team_id: str, channel_id: str) -> dict[str, int]:
    rows = session.execute(select(Answer.category, func.count())
                           .where(Answer.team_id == team_id, Answer.channel_id == channel_id,
                                  Answer.visibility == PUBLIC).group_by(Answer.category))
    return dict(rows.all())  # type: ignore[arg-type]


def schedules(session: Session, team_id: str, channel_ids: set[str] | None = None) -> list[Schedule]:
    query = select(Schedule).where(Schedule.team_id == team_id, Schedule.enabled.is_(True))
    if channel_ids is not None:
        query = query.where(Schedule.channel_id.in_(channel_ids))
    return list(session.scalars(query.order_by(Schedule.channel_id)))


def schedules_taken_part(session: Session, team_id: str, user_id: str) -> list[Schedule]:
    """The active schedules of channels where the person answered or set up the schedule, in one query."""
    answered = select(Answer.channel_id).where(Answer.team_id == team_id, Answer.user_id == user_id,
                                               Answer.channel_id.is_not(None))
    return list(session.scalars(
        select(Schedule).where(Schedule.team_id == team_id, Schedule.enabled.is_(True),
                               or_(Schedule.created_by == user_id, Schedule.channel_id.in_(answered)))
        .order_by(Schedule.channel_id)))


# --- forget-me --------------------------------------------------------------

@dataclass(frozen=True)
class Erased:
    answers: int
    reactions: int
    bot_posts: list[tuple[str, str]]  # (channel, ts) of the bot's posts of this person's shared answers


def erase_person(session: Session, team_id: str, user_id: str) -> Erased:
    bot_posts = [(c, ts) for c, ts in session.execute(select(Answer.channel_id, Answer.message_ts).where(
        Answer.team_id == team_id, Answer.user_id == user_id, Answer.source == "modal",
        Answer.message_ts.is_not(None), Answer.channel_id.is_not(None)))]
    given = session.execute(select(Reaction.answer_id, Reaction.is_self).where(
        Reaction.team_id == team_id, Reaction.user_id == user_id)).all()
    for answer_id, is_self in given:
        if not is_self:
            _bump(session, team_id, answer_id, -1)
    reactions = session.execute(delete(Reaction).where(Reaction.team_id == team_id, Reaction.user_id == user_id)
                                ).rowcount
    mine = select(Answer.id).where(Answer.team_id == team_id, Answer.user_id == user_id)
    reactions += session.execute(delete(Reaction).where(Reaction.team_id == team_id,
                                                        Reaction.answer_id.in_(mine))).rowcount
    answers = session.execute(delete(Answer).where(Answer.team_id == team_id, Answer.user_id == user_id)).rowcount
    session.execute(delete(SeenQuestion).where(SeenQuestion.team_id == team_id,
                                               SeenQuestion.scope == f"user:{user_id}"))
    session.execute(delete(Member).where(Member.team_id == team_id, Member.user_id == user_id))
    judge_store.forget_reviews(session, team_id, user_id)  # the AI reviews quote the answers
    return Erased(answers=answers, reactions=reactions, bot_posts=bot_posts)
