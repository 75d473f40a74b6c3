"""The LLM judge's review after the ack: it takes the place of the rule feedback when it arrives.

In the answer modal it replaces the feedback view with views.update, by the view_id of the
submission's payload (docs.slack.dev/reference/methods/views.update: "Update a view by passing a
new view definition object along with the view_id returned in views.open"; the ack's
"response_action": "update" changes that view's content, not its id, which is what we rely on
here). In a prompt's thread
the rule feedback went out with chat.postEphemeral, which Slack can't update ("Ephemeral
messages created by chat.postEphemeral or otherwise cannot be updated with this method",
docs.slack.dev/reference/methods/chat.update) and which has no response_url, so the review
follows as a second ephemeral that says it takes the first one's place. When there is no
review (judge off, timeout, refusal, malformed reply, 429, 5xx), nothing more is sent.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coachbot.bank import Question
from coachbot.blocks import judge as judge_blocks
from coachbot.services import Services

log = logging.getLogger(__name__)


def review_modal_answer(client: WebClient, services: Services, view_id: str, team: str, user: str,
                        question: Question, text: str, shared_to: str | None) -> None:
    review = services.judge.review(team, user, question, text)
    if review is None or not view_id:
        return
    try:
        # No hash: the one from the submission went stale when the ack updated the view.
        client.views_update(view_id=view_id, view=judge_blocks.review_view(question, review, shared_to=shared_to))
    except (SlackApiError, OSError) as exc:  # closed meanwhile: the rule feedback was all they needed
        log.info("could not show the AI review in the modal: %s", _error_of(exc))


def tell_thread_feedback(client: WebClient, services: Services, team: str, channel: str, user: str,
                         thread_ts: str, question: Question, text: str, rule_feedback: dict[str, Any]) -> None:
    """The rule feedback at once (or the review, when this answer was judged before), then the review."""
    started = services.judge.start(team, user, question, text)
    if started.cached is not None:
        _post(client, channel, user, thread_ts, judge_blocks.review_thread_message(question, started.cached))
        return
    if not _post(client, channel, user, thread_ts, rule_feedback) or not started.active:
        return
    review = services.judge.review(team, user, question, text)
    if review is not None:
        _post(client, channel, user, thread_ts, judge_blocks.review_thread_message(question, review))


def _post(client: WebClient, channel: str, user: str, thread_ts: str, shown: dict[str, Any]) -> bool:
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **shown)
        return True
    except (SlackApiError, OSError) as exc:  # the answer is kept; only the feedback is lost
        log.warning("could not send thread feedback in %s: %s", channel, _error_of(exc))
        return False


def _error_of(exc: Exception) -> str:
    return str(exc.response.get("error")) if isinstance(exc, SlackApiError) else type(exc).__name__
