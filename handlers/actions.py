"""Buttons: Answer, Another, Share with channel."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from coachbot import blocks, tracks
from coachbot.handlers import payloads
from coachbot.handlers.errors import replying
from coachbot.handlers.replies import Replies
from coachbot.handlers.posting import post_or_explain
from coachbot.services.practice import MODAL_MAX_CHARS
from coachbot.services import Services


def register(app: App) -> None:
    app.action(blocks.ACTION_ANSWER)(open_answer)
    app.action(blocks.ACTION_ANOTHER)(another_question)
    app.action(blocks.ACTION_SHARE)(share_question)


def open_answer(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ack()
    # Not later: the trigger_id expires 3 s after the click, so the modal opens now.
    with replying(body, respond):
        _open_answer(body, client, services)


def _open_answer(body: dict[str, Any], client: WebClient, services: Services) -> None:
    team, _ = payloads.require_actor(body)
    question = services.practice.question(payloads.action_value(body))
    channel = payloads.channel_id(body)
    message = body.get("message") or {}
    # An Answer button on a public message (a shared question, a daily prompt) answers in its thread.
    public = not (body.get("container") or {}).get("is_ephemeral", False) and isinstance(message.get("ts"), str)
    from_prompt = str((body.get("actions") or [{}])[0].get("block_id") or "").startswith("prompt:")
    context = payloads.AnswerContext(
        team_id=team,
        question_id=question.id,
        channel_id=channel if payloads.can_share_in(channel) else None,
        thread_ts=(message.get("thread_ts") or message.get("ts")) if public else None,
        always_share=from_prompt and public,
    )
    view = blocks.answer_modal(
        question,
        private_metadata=context.dump(),
        can_share=context.channel_id is not None and not context.always_share,
        max_chars=MODAL_MAX_CHARS,
        ai_review=services.judge.announced(team),
    )
    client.views_open(trigger_id=payloads.trigger_id(body), view=view)


def another_question(ack: Ack, body: dict[str, Any], respond: Respond, services: Services,
                     replies: Replies) -> None:
    replies.button(ack, body, respond, _another_question, body, respond, services)


def _another_question(body: dict[str, Any], respond: Respond, services: Services) -> None:
    team, user = payloads.require_actor(body)
    try:
        wanted = json.loads(payloads.action_value(body))
        track, category = wanted.get("t"), wanted.get("c")
    except (ValueError, AttributeError):
        track, category = None, None
    # The button's value is ours, but anything could be sent back: keep only known names.
    track = track if track in tracks.TRACK_SLUGS else None
    category = category if category in tracks.CATEGORY_SLUGS else None
    question = services.practice.next_question(team, user, track, category)
    respond(replace_original=True, response_type="ephemeral",
            **blocks.question_card(question, ask_track=track, ask_category=category))


def share_question(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services,
                   replies: Replies) -> None:
    replies.button(ack, body, respond, _share_question, body, client, respond, services)


def _share_question(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    _, user = payloads.require_actor(body)
    question = services.practice.question(payloads.action_value(body))
    channel = payloads.channel_id(body)
    if not payloads.can_share_in(channel):
        respond(response_type="ephemeral", replace_original=False,
                **blocks.notice_message("Sharing works in channels. Run /prep in a channel to share a question there."))
        return
    posted = post_or_explain(client, respond, channel, blocks.shared_question(question, user))
    if posted is not None:
        respond(response_type="ephemeral", replace_original=False,
                **blocks.notice_message("Shared. Your teammates can answer in the thread."))
