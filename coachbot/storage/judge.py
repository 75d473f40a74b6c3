"""Queries for the LLM judge: a workspace's switch and the cache of checked reviews.
Every query is scoped by ``team_id``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from coachbot.storage.models import JudgeReview, JudgeSetting
from coachbot.storage.upsert import insert


def is_enabled(session: Session, team_id: str) -> bool:
    return bool(session.scalar(select(JudgeSetting.enabled).where(JudgeSetting.team_id == team_id)))


def set_enabled(session: Session, team_id: str, enabled: bool, user_id: str, now: datetime) -> None:
    values = {"team_id": team_id, "enabled": enabled, "changed_by": user_id, "changed_at": now}
    statement = insert(session, JudgeSetting).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[JudgeSetting.team_id],
        set_={"enabled": enabled, "changed_by": user_id, "changed_at": now}))


def cached_review(session: Session, team_id: str, user_id: str, question_id: str, answer_hash: str,
                  model: str) -> str | None:
    return session.scalar(select(JudgeReview.review).where(
        JudgeReview.team_id == team_id, JudgeReview.user_id == user_id, JudgeReview.question_id == question_id,
        JudgeReview.answer_hash == answer_hash, JudgeReview.model == model))


def save_review(session: Session, team_id: str, user_id: str, question_id: str, answer_hash: str, model: str,
                review: str, now: datetime) -> None:
    """Keep the first review of an answer: two identical answers judged at once store one row."""
    statement = insert(session, JudgeReview).values(
        team_id=team_id, user_id=user_id, question_id=question_id, answer_hash=answer_hash, model=model,
        review=review, created_at=now)
    session.execute(statement.on_conflict_do_nothing(
        index_elements=[JudgeReview.team_id, JudgeReview.user_id, JudgeReview.question_id,
                        JudgeReview.answer_hash, JudgeReview.model]))


def forget_reviews(session: Session, team_id: str, user_id: str | None = None) -> int:
    """Delete a workspace's cached reviews, or one person's."""
    statement = delete(JudgeReview).where(JudgeReview.team_id == team_id)
    if user_id is not None:
        statement = statement.where(JudgeReview.user_id == user_id)
    return session.execute(statement).rowcount


def forget_reviews_before(session: Session, before: datetime) -> int:
    """Delete reviews made before ``before``, in every workspace (the cache's expiry)."""
    return session.execute(delete(JudgeReview).where(JudgeReview.created_at < before)).rowcount
