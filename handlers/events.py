"""Events: replies in a daily prompt's thread become answers (edits and deletions follow)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from coachbot import blocks
from coachbot.services import Services

IGNORED_SUBTYPES = {"bot_message", "channel_join", "channel_leave", "thread_broadcast_deleted"}


def register(app: App) -> None:
    app.event("message")(message)


def _from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") in IGNORED_SUBTYPES)


def message(event: dict[str, Any], body: dict[str, Any], client: WebClient, services: Services) -> None:
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
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts,
                                  **blocks.thread_feedback_message(stored.question, stored.feedback))
