"""The answer modal's submission: store, coach, and share if asked."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coachbot import blocks
from coachbot.errors import InvalidInputError, NotFoundError, StorageUnavailableError
from coachbot.blocks import judge as judge_blocks
from coachbot.handlers import payloads
from coachbot.handlers.errors import friendly_text, log_failure
from coachbot.handlers.replies import Replies
from coachbot.services import Services
from coachbot.jobs import JobRunner
from coachbot.services.practice import MODAL_MAX_CHARS

log = logging.getLogger(__name__)

SAVE_FAILED = (
    "I couldn't save your answer just now (a problem on our side). Your text is still here: "
    "press Get feedback again in a minute."
)


def register(app: App) -> None:
    app.view(blocks.VIEW_ANSWER)(submit_answer)


def _typed(view: dict[str, Any]) -> tuple[str, bool]:
    values = _object(_object(view.get("state")).get("values"))
    text = _object(_object(values.get(blocks.BLOCK_ANSWER)).get(blocks.INPUT_ANSWER)).get("value")
    picked = _object(_object(values.get(blocks.BLOCK_SHARE)).get(blocks.INPUT_SHARE)).get("selected_options")
    share = isinstance(picked, list) and any(isinstance(o, dict) and o.get("value") == "share" for o in picked)
    return (text if isinstance(text, str) else ""), share


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def submit_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services,
                  replies: Replies, jobs: JobRunner) -> None:
    team, user = payloads.team_id(body), payloads.user_id(body)
    text, share = _typed(view)

    def work() -> dict[str, Any]:
        try:
            payloads.require_actor(body)
            origin = payloads.AnswerContext.load(view.get("private_metadata") or "", expected_team=team)
            share_to = origin.channel_id if (share or origin.always_share) else None
            stored, feedback = services.practice.record_answer(
                team_id=team,
                user_id=user,
                question_id=origin.question_id,
                text=text,
                source="modal",
                limit=MODAL_MAX_CHARS,
            )
        except (InvalidInputError, NotFoundError) as exc:
            message = str(exc) if isinstance(exc, InvalidInputError) else "That question no longer exists. Close this and ask for another."
            return {"response_action": "errors", "errors": {blocks.BLOCK_ANSWER: message}}
        except StorageUnavailableError:
            log.warning("answer from %s in %s not saved: database unavailable", user, team)
            return {"response_action": "errors", "errors": {blocks.BLOCK_ANSWER: SAVE_FAILED}}
        question = services.practice.question(stored.question_id)
        _after_answer(jobs, team, user, origin, share_to, stored.id)
        judged = services.judge.start(team, user, question, stored.text)
        if judged.cached is not None:  # judged before: its review at once, and no second call
            return {"response_action": "update",
                    "view": judge_blocks.review_view(question, judged.cached, shared_to=share_to)}
        if judged.active:  # the review replaces this feedback when it arrives (handlers.judge)
            jobs.submit("review_modal", {"team_id": team, "user_id": user, "view_id": str(view.get("id") or ""),
                                         "question_id": question.id, "answer_id": stored.id, "shared_to": share_to,
                                         "key": f"review:{stored.id}"})
        return {"response_action": "update", "view": blocks.feedback_view(question, feedback, shared_to=share_to)}

    def late(result: dict[str, Any] | Exception) -> None:
        """Past the budget the modal shows blocks.saving_view(); now it shows the outcome."""
        if isinstance(result, Exception):
            log_failure(result, body)
            shown = blocks.not_saved_view(friendly_text(result), text)
        elif result["response_action"] == "errors":
            shown = blocks.not_saved_view(result["errors"][blocks.BLOCK_ANSWER], text)
        else:
            shown = result["view"]
        try:
            client.views_update(view_id=view.get("id"), view=shown)
        except (SlackApiError, OSError) as exc:  # the person closed the modal, or Slack is down
            log.warning("could not show the outcome of a slow answer submission: %s", type(exc).__name__)

    replies.view(ack, body, work, late, waiting=blocks.saving_view())


def _after_answer(jobs: JobRunner, team: str, user: str, origin: payloads.AnswerContext, share_to: str | None,
                  answer_id: int) -> None:
    """What follows a saved answer, after the ack: refresh App Home, post the answer where it was shared."""
    if origin.from_home:
        jobs.submit("publish_home", {"team_id": team, "user_id": user, "key": f"answer:{answer_id}"})
    if share_to:
        jobs.submit("share_answer", {"team_id": team, "user_id": user, "channel_id": share_to,
                                     "thread_ts": origin.thread_ts, "answer_id": answer_id, "key": str(answer_id)})
