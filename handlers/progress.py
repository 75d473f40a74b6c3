"""Buttons on progress messages: share the leaderboard, forget-me, and App Home's Practise."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coachbot import blocks, tracks
from coachbot.blocks import home as home_blocks
from coachbot.blocks import progress as progress_blocks
from coachbot.handlers import payloads
from coachbot.handlers.errors import replying
from coachbot.handlers.replies import Replies
from coachbot.services import Services
from coachbot.services.practice import MODAL_MAX_CHARS
from coachbot.services.progress import parse_period

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.action(progress_blocks.ACTION_SHARE_LEADERBOARD)(share_leaderboard)
    app.action(progress_blocks.ACTION_FORGET_CONFIRM)(forget_me)
    app.action(progress_blocks.ACTION_FORGET_CANCEL)(forget_cancelled)
    app.action(home_blocks.ACTION_HOME_PRACTISE_MATCH)(practise_from_home)


def share_leaderboard(ack: Ack, body: dict[str, Any], respond: Respond, services: Services,
                      replies: Replies) -> None:
    replies.button(ack, body, respond, _share_leaderboard, body, respond, services)


def _share_leaderboard(body: dict[str, Any], respond: Respond, services: Services) -> None:
    team, user = payloads.require_actor(body)
    board = services.progress.leaderboard(team, parse_period(payloads.action_value(body)), user)
    # Through the response_url: it works in any conversation, even one the bot isn't in.
    respond(response_type="in_channel", replace_original=False,
            **progress_blocks.leaderboard_message(board, shared_by=user))


def forget_me(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services,
              replies: Replies) -> None:
    replies.button(ack, body, respond, _forget_me, body, client, respond, services)


def _forget_me(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    team, user = payloads.require_actor(body)
    forgotten = services.progress.forget(team, user)
    removed = 0
    for channel, ts in forgotten.bot_posts:
        try:
            client.chat_delete(channel=channel, ts=ts)
            removed += 1
        except SlackApiError as exc:  # already gone, or the channel is archived: the data is deleted either way
            log.info("could not delete a shared answer post: %s", exc.response.get("error"))
    respond(replace_original=True, response_type="ephemeral", **progress_blocks.forgotten_message(forgotten, removed))


def forget_cancelled(ack: Ack, body: dict[str, Any], respond: Respond, replies: Replies) -> None:
    replies.button(ack, body, respond, _cancelled, respond)


def _cancelled(respond: Respond) -> None:
    respond(replace_original=True, response_type="ephemeral", **progress_blocks.forget_cancelled_message())


def practise_from_home(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """App Home has no response_url: the question opens straight in the answer modal (now, not
    later: the trigger_id expires 3 s after the click)."""
    ack()
    with replying(body, None):
        _practise_from_home(body, client, services)


def _practise_from_home(body: dict[str, Any], client: WebClient, services: Services) -> None:
    team, user = payloads.require_actor(body)
    track = payloads.action_value(body)
    question = services.practice.next_question(team, user, track if track in tracks.TRACK_SLUGS else None, None)
    context = payloads.AnswerContext(team_id=team, question_id=question.id, channel_id=None, thread_ts=None,
                                     from_home=True)
    client.views_open(trigger_id=payloads.trigger_id(body), view=blocks.answer_modal(
        question, private_metadata=context.dump(), can_share=False, max_chars=MODAL_MAX_CHARS,
        ai_review=services.judge.announced(team)))


def publish_home(client: WebClient, services: Services, team_id: str, user_id: str) -> None:
    view = home_blocks.home_view(services.progress.dashboard(team_id, user_id))
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:  # the dashboard is shown again the next time they open App Home
        log.warning("could not publish App Home: %s", exc.response.get("error", "error"))
