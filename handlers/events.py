"""Events: replies in a daily prompt's thread become answers (edits and deletions follow),
reactions on answers are counted, and opening App Home publishes the dashboard."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coachbot import blocks
from coachbot.handlers.progress import publish_home
from coachbot.services import Services

log = logging.getLogger(__name__)

IGNORED_SUBTYPES = {"bot_message", "channel_join", "channel_leave", "thread_broadcast_deleted"}


def register(app: App) -> None:
    app.event("message")(message)
    app.event("reaction_added")(reaction_added)
    app.event("reaction_removed")(reaction_removed)
    app.event("app_home_opened")(home_opened)


def _reaction(event: dict[str, Any], body: dict[str, Any]) -> dict[str, str] | None:
    item = event.get("item") or {}
    if not isinstance(item, dict) or item.get("type") != "message":
        return None  # reactions on files and file comments are not answers
    return {
        "team_id": str(body.get("team_id") or ""),
        "event_id": str(body.get("event_id") or ""),
        "channel_id": str(item.get("channel") or ""),
        "ts": str(item.get("ts") or ""),
        "user_id": str(event.get("user") or ""),
        "emoji": str(event.get("reaction") or ""),
    }


def reaction_added(event: dict[str, Any], body: dict[str, Any], services: Services) -> None:
    found = _reaction(event, body)
    if found is not None:
        services.reactions.added(**found)


def reaction_removed(event: dict[str, Any], body: dict[str, Any], services: Services) -> None:
    found = _reaction(event, body)
    if found is not None:
        services.reactions.removed(**found)


def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient, services: Services) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    publish_home(client, services, str(body.get("team_id") or ""), str(event["user"]))


def _from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") in IGNORED_SUBTYPES)


def message(event: dict[str, Any], body: dict[str, Any], client: WebClient, services: Services,
            background: Executor) -> None:
    team = body.get("team_id") or event.get("team") or ""
    channel = event.get("channel") or ""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        edited = event.get("message") or {}
        if not _from_a_bot(edited) and edited.get("ts"):
            services.threads.edited(team_id=team, channel_id=channel, ts=edited["ts"], text=edited.get("text") or "")
        return
    if subtype == "message_deleted":
        if event.get("deleted_ts"):
            services.threads.deleted(team_id=team, channel_id=channel, ts=event["deleted_ts"])
        return
    if subtype not in (None, "file_share", "thread_broadcast") or _from_a_bot(event):
        return
    thread_ts, ts, user = event.get("thread_ts"), event.get("ts"), event.get("user")
    if not thread_ts or thread_ts == ts or not user:
        return  # only replies in a thread can answer a prompt
    stored = services.threads.reply(team_id=team, event_id=body.get("event_id") or f"{channel}:{ts}",
                                    channel_id=channel, thread_ts=thread_ts, ts=ts, user_id=user,
                                    text=event.get("text") or "")
    if stored is not None:
        # The answer is stored; the feedback goes out after the ack so Slack's call can't delay it.
        background.submit(_tell, client, channel, user, thread_ts,
                          blocks.thread_feedback_message(stored.question, stored.feedback))


def _tell(client: WebClient, channel: str, user: str, thread_ts: str, shown: dict[str, Any]) -> None:
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **shown)
    except (SlackApiError, OSError) as exc:  # the answer is kept; only the instant feedback is lost
        log.warning("could not send thread feedback in %s: %s", channel, type(exc).__name__)
