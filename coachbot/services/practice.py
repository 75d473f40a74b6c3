"""Practice on demand: pick a question, store an answer, coach it, count it.

Knows nothing of Slack: callers pass ids and text, and get dataclasses back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from coachbot import rotation
from coachbot.bank import Question, QuestionBank
from coachbot.clock import Clock
from coachbot.errors import AnswerTooLongError, InvalidInputError, NotFoundError
from coachbot.coaching import Feedback, coach
from coachbot.services.people import PeopleService
from coachbot.storage import repo
from coachbot.storage.db import Database
from coachbot.storage.models import Answer

# The modal's input takes 3,000 characters (Slack's limit for plain_text_input is
# 3,000); thread replies can be up to 40,000. We store whole answers up to the
# larger limit and refuse longer ones with a message rather than truncate.
MODAL_MAX_CHARS = 3000
MAX_ANSWER_CHARS = 40000


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    team_id: str
    user_id: str
    question_id: str
    track: str
    category: str
    text: str
    created_at: datetime
    visibility: str
    channel_id: str | None
    message_ts: str | None


def _stored(answer: Answer) -> StoredAnswer:
    return StoredAnswer(
        id=answer.id,
        team_id=answer.team_id,
        user_id=answer.user_id,
        question_id=answer.question_id,
        track=answer.track,
        category=answer.category,
        text=answer.text,
        created_at=answer.created_at,
        visibility=answer.visibility,
        channel_id=answer.channel_id,
        message_ts=answer.message_ts,
    )


def validate_answer_text(text: str | None, limit: int = MAX_ANSWER_CHARS) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInputError("Write an answer before submitting: even a few lines get you feedback.")
    if len(cleaned) > limit:
        raise AnswerTooLongError(
            f"That answer is {len(cleaned):,} characters; the limit is {limit:,}. "
            "Shorten it (the best interview answers are a few minutes long) and submit again."
        )
    return cleaned


class PracticeService:
    def __init__(
        self,
        db: Database,
        bank: QuestionBank,
        people: PeopleService,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.bank = bank
        self.people = people
        self.clock = clock
        self.rng = rng or random.Random()

    def question(self, question_id: str) -> Question:
        question = self.bank.get(question_id)
        if question is None:
            raise NotFoundError(f"unknown question {question_id!r}")
        return question

    def next_question(self, team_id: str, user_id: str, track: str | None, category: str | None) -> Question:
        """A question the person has not seen in this cycle of its category; remembered as seen."""
        pool = self.bank.select(track=track, category=category)
        categories = tuple(sorted({q.category for q in pool}))
        scope = f"user:{user_id}"
        with self.db.session() as session:
            seen = repo.seen_ids(session, team_id, scope, categories)
            # The question shown last matters only when the pool is used up (a new cycle must not
            # start with it): ask for it only then, one round trip fewer on every other card.
            last = None if any(q.id not in seen for q in pool) else repo.last_seen(session, team_id, scope)
            choice = rotation.choose(pool, seen, self.rng, last=last)
            if choice.restart:
                repo.restart_rotation(session, team_id, scope, choice.restart)
            repo.mark_seen(session, team_id, scope, choice.question.id, choice.question.category, self.clock.now())
        return choice.question

    def record_answer(
        self,
        *,
        team_id: str,
        user_id: str,
        question_id: str,
        text: str,
        source: str,
        visibility: str = "private",
        channel_id: str | None = None,
        message_ts: str | None = None,
        thread_ts: str | None = None,
        question_text: str | None = None,
        limit: int = MAX_ANSWER_CHARS,
        event_id: str | None = None,
    ) -> tuple[StoredAnswer, Feedback]:
        """Store and coach an answer. With ``event_id``, the answer and the record that the
        event was handled are written together, so a retried event is stored once
        (IntegrityError tells the caller it was a duplicate)."""
        question = self.question(question_id)
        body = validate_answer_text(text, limit)
        now = self.clock.now()
        local_day = now.astimezone(self.people.timezone(team_id, user_id)).date()
        with self.db.session() as session:
            if event_id is not None:
                repo.remember_event(session, team_id, event_id, now)
            answer = repo.add_answer(
                session,
                Answer(
                    team_id=team_id,
                    user_id=user_id,
                    question_id=question.id,
                    question_text=question_text or question.text,
                    track=question.track,
                    category=question.category,
                    text=body,
                    source=source,
                    created_at=now,
                    local_day=local_day,
                    visibility=visibility,
                    channel_id=channel_id,
                    message_ts=message_ts,
                    thread_ts=thread_ts,
                ),
            )
            stored = _stored(answer)
        return stored, coach(body, question)

    def stored_answer(self, team_id: str, answer_id: int) -> StoredAnswer | None:
        with self.db.session() as session:
            answer = repo.get_answer(session, team_id, answer_id)
            return _stored(answer) if answer is not None else None

    def thread_answer(self, team_id: str, channel_id: str, message_ts: str) -> StoredAnswer | None:
        """The answer stored from a thread reply (None once it was deleted)."""
        with self.db.session() as session:
            answer = repo.thread_answer(session, team_id, channel_id, message_ts)
            return _stored(answer) if answer is not None else None

    def mark_shared(self, team_id: str, answer_id: int, channel_id: str, message_ts: str) -> None:
        with self.db.session() as session:
            answer = repo.get_answer(session, team_id, answer_id)
            if answer is None:
                raise NotFoundError(f"no answer {answer_id} in team {team_id}")
            answer.visibility, answer.channel_id, answer.message_ts = "channel", channel_id, message_ts

    def edit_thread_answer(self, team_id: str, channel_id: str, message_ts: str, text: str) -> bool:
        body = validate_answer_text(text)
        with self.db.session() as session:
            answer = repo.thread_answer(session, team_id, channel_id, message_ts)
            if answer is None:
                return False
            answer.text = body
            return True

    def delete_thread_answer(self, team_id: str, channel_id: str, message_ts: str) -> bool:
        with self.db.session() as session:
            answer = repo.thread_answer(session, team_id, channel_id, message_ts)
            if answer is None:
                return False
            session.delete(answer)
            return True
