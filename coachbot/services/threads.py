"""Thread replies to daily prompts become stored, coached answers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from coachbot.bank import Question
from coachbot.errors import AnswerTooLongError, InvalidInputError
from coachbot.coaching import Feedback
from coachbot.services.practice import PracticeService
from coachbot.services.prompts import PromptService


@dataclass(frozen=True)
class ThreadAnswer:
    question: Question
    feedback: Feedback
    text: str = ""  # the answer as stored (what a review of it must quote from)


@dataclass(frozen=True)
class ThreadRefused:
    """The reply stays in Slack but was not stored (or the edit not applied): tell its author why."""

    reason: str


class ThreadService:
    def __init__(self, practice: PracticeService, prompts: PromptService) -> None:
        self.practice = practice
        self.prompts = prompts

    def reply(self, *, team_id: str, event_id: str, channel_id: str, thread_ts: str, ts: str, user_id: str,
              text: str) -> ThreadAnswer | ThreadRefused | None:
        """Store a reply in a prompt's thread. None: not a prompt's thread, empty, or already stored."""
        prompt = self.prompts.prompt_at(team_id, channel_id, thread_ts)
        if prompt is None:
            return None
        try:
            stored, feedback = self.practice.record_answer(
                team_id=team_id, user_id=user_id, question_id=prompt.question_id, text=text, source="thread",
                visibility="channel", channel_id=channel_id, message_ts=ts, thread_ts=thread_ts,
                question_text=prompt.question_text, event_id=event_id,
            )
        except IntegrityError:
            return None  # Slack retried an event we already stored
        except AnswerTooLongError as exc:
            return ThreadRefused(f"{exc} Your reply stays in the thread, but it isn't saved as a practice answer.")
        except InvalidInputError:
            return None  # an empty reply (an image, say) is not an answer
        return ThreadAnswer(self.practice.question(prompt.question_id), feedback, stored.text)

    def edited(self, *, team_id: str, channel_id: str, ts: str, text: str) -> bool | ThreadRefused:
        """Apply an edit to a stored answer. Emptied: the answer goes. Too long: the stored
        answer is kept as it was, and the author is told."""
        try:
            return self.practice.edit_thread_answer(team_id, channel_id, ts, text)
        except AnswerTooLongError as exc:
            return ThreadRefused(f"{exc} Your edit wasn't saved: your practice answer is kept as it was before.")
        except InvalidInputError:
            return self.practice.delete_thread_answer(team_id, channel_id, ts)

    def deleted(self, *, team_id: str, channel_id: str, ts: str) -> bool:
        return self.practice.delete_thread_answer(team_id, channel_id, ts)
