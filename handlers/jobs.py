"""The jobs listeners leave for after their ack (``coachbot.jobs``): each takes a JSON payload
of ids and makes one Slack call, in whichever process runs it."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from coachbot import blocks
from coachbot.handlers.judge import review_modal_answer, tell_thread_feedback
from coachbot.handlers.posting import post_or_explain
from coachbot.handlers.progress import publish_home
from coachbot.jobs import Payload, Runtime, job
from coachbot.slackapi import tell_owner

log = logging.getLogger(__name__)


@job("tell")
def tell(runtime: Runtime, payload: Payload) -> None:
    """A message in a thread only its person sees (feedback on a reply, or why it was refused)."""
    channel = payload["channel_id"]
    try:
        runtime.client.chat_postEphemeral(channel=channel, user=payload["user_id"], thread_ts=payload["thread_ts"],
                                          **payload["message"])
    except (SlackApiError, OSError) as exc:  # the answer is kept; only the instant feedback is lost
        log.warning("could not send thread feedback in %s: %s", channel, type(exc).__name__)


@job("thread_feedback")
def thread_feedback(runtime: Runtime, payload: Payload) -> None:
    """Feedback on a thread reply, then the LLM judge's review of it when the workspace has it on."""
    team, channel = payload["team_id"], payload["channel_id"]
    stored = runtime.services.practice.thread_answer(team, channel, payload["ts"])
    if stored is None:  # deleted since: nothing left to coach
        return
    question = runtime.services.practice.question(payload["question_id"])
    tell_thread_feedback(runtime.client, runtime.services, team, channel, payload["user_id"], payload["thread_ts"],
                         question, stored.text, payload["message"])


@job("review_modal")
def review_modal(runtime: Runtime, payload: Payload) -> None:
    """The LLM judge's review of a modal answer, in place of its rule feedback."""
    team = payload["team_id"]
    stored = runtime.services.practice.stored_answer(team, payload["answer_id"])
    if stored is None:
        return
    question = runtime.services.practice.question(payload["question_id"])
    review_modal_answer(runtime.client, runtime.services, payload["view_id"], team, payload["user_id"], question,
                        stored.text, payload.get("shared_to"))


@job("tell_owner")
def tell_schedule_owner(runtime: Runtime, payload: Payload) -> None:
    tell_owner(runtime.client, payload["user_id"], payload["channel_id"], payload["reason"])


@job("publish_home")
def publish_home_job(runtime: Runtime, payload: Payload) -> None:
    try:
        publish_home(runtime.client, runtime.services, payload["team_id"], payload["user_id"])
    except (SlackApiError, OSError) as exc:  # the next opening of App Home publishes it again
        log.warning("could not publish App Home for %s: %s", payload["user_id"], type(exc).__name__)


@job("share_answer")
def share_answer(runtime: Runtime, payload: Payload) -> None:
    """Post a saved answer where its person chose to share it, and remember where it went."""
    services, client = runtime.services, runtime.client
    team, user, channel = payload["team_id"], payload["user_id"], payload["channel_id"]
    stored = services.practice.stored_answer(team, payload["answer_id"])
    if stored is None or stored.message_ts:
        return  # deleted since (forget-me), or posted already
    question = services.practice.question(stored.question_id)
    extra: dict[str, Any] = {"thread_ts": payload["thread_ts"]} if payload.get("thread_ts") else {}
    posted = post_or_explain(client, None, channel, blocks.shared_answer(user, question, stored.text), **extra)
    if posted is not None:
        services.practice.mark_shared(team, stored.id, channel, posted["ts"])
    else:
        client.chat_postEphemeral(channel=channel, user=user, **blocks.error_message(
            "Your answer is saved, but I couldn't post it in the channel. Invite me with `/invite @coachbot`."))
