"""Events: replies in a daily prompt's thread become answers (edits and deletions follow),
reactions on answers are counted, opening App Home publishes the dashboard, and the bot
leaving a channel pauses that channel's schedule."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from coachbot import blocks
from coachbot.handlers.payloads import plain_text
from coachbot.jobs import JobRunner
from coachbot.services import Services
from coachbot.services.threads import ThreadRefused

log = logging.getLogger(__name__)

IGNORED_SUBTYPES = {"bot_message", "channel_join", "channel_leave", "thread_broadcast_deleted"}


def register(app: App) -> None:
    app.event("message")(message)
    app.event("reaction_added")(reaction_added)
    app.event("reaction_removed")(reaction_removed)
    app.event("app_home_opened")(home_opened)
    # Slack says the bot was removed from a channel in several ways (all subscribed in
    # manifest.yml); each pauses the schedule, and only the first tells its owner.
    app.event("member_left_channel")(bot_left)
    app.event("channel_left")(bot_left)
    app.event("group_left")(bot_left)


def _reaction(event: dict[str, Any], body: dict[str, Any]) -> dict[str, str] | None:
    item = event.get("item") or {}
    if not isinstance(item, dict) or item.get("type") != "message":
        return None  # reactions on files and file comments are not answers
    return {
        "team_id": _text(body.get("team_id")),
        "event_id": _text(body.get("event_id")),
        "channel_id": _text(item.get("channel")),
        "ts": _text(item.get("ts")),
        "user_id": _text(event.get("user")),
        "emoji": _text(event.get("reaction")),
    }


def reaction_added(event: dict[str, Any], body: dict[str, Any], services: Services) -> None:
    found = _reaction(event, body)
    if found is not None:
        services.reactions.added(**found)


def reaction_removed(event: dict[str, Any], body: dict[str, Any], services: Services) -> None:
    found = _reaction(event, body)
    if found is not None:
        services.reactions.removed(**found)


def home_opened(event: dict[str, Any], body: dict[str, Any], jobs: JobRunner) -> None:
    if event.get("tab", "home") != "home" or not _text(event.get("user")) or not _text(body.get("team_id")):
        return
    # Nothing to store: the dashboard (channels, permalinks from Slack) and views.publish all
    # follow the ack, so Slack's calls never delay it or run inside a database session.
    jobs.submit("publish_home", {"team_id": body["team_id"], "user_id": event["user"],
                                 "key": _text(body.get("event_id")) or f"home:{event['user']}:{event.get('event_ts')}"})


def bot_left(event: dict[str, Any], body: dict[str, Any], context: BoltContext, services: Services,
             jobs: JobRunner) -> None:
    team, channel = _text(body.get("team_id")), _text(event.get("channel"))
    if event.get("type") == "member_left_channel" and _text(event.get("user")) != context.bot_user_id:
        return  # a person left: nothing to do (their answers stay)
    if not team or not channel:
        return
    owner = services.prompts.bot_removed(team, channel)
    if owner:
        jobs.submit("tell_owner", {"team_id": team, "user_id": owner, "channel_id": channel, "reason": "removed",
                                   "key": f"removed:{channel}:{_text(body.get('event_id'))}"})


def _from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") in IGNORED_SUBTYPES)


def message(event: dict[str, Any], body: dict[str, Any], services: Services, jobs: JobRunner) -> None:
    team = _text(body.get("team_id")) or _text(event.get("team"))
    channel = _text(event.get("channel"))
    subtype = event.get("subtype")
    if subtype == "message_changed":
        edited = event.get("message") if isinstance(event.get("message"), dict) else {}
        ts, text = _text(edited.get("ts")), edited.get("text")
        if not _from_a_bot(edited) and ts and isinstance(text, str):
            outcome = services.threads.edited(team_id=team, channel_id=channel, ts=ts, text=plain_text(text))
            if isinstance(outcome, ThreadRefused) and _text(edited.get("user")):
                _tell(jobs, team, f"edit:{channel}:{ts}:{_text(body.get('event_id'))}", channel,
                      _text(edited.get("user")), _text(edited.get("thread_ts")) or ts,
                      blocks.error_message(outcome.reason))
        return
    if subtype == "message_deleted":
        if _text(event.get("deleted_ts")):
            services.threads.deleted(team_id=team, channel_id=channel, ts=event["deleted_ts"])
        return
    if subtype not in (None, "file_share", "thread_broadcast") or _from_a_bot(event):
        return
    thread_ts, ts, user, text = _text(event.get("thread_ts")), _text(event.get("ts")), _text(event.get("user")), \
        event.get("text")
    if not thread_ts or thread_ts == ts or not user or not isinstance(text or "", str):
        return  # only replies in a thread can answer a prompt
    event_id = _text(body.get("event_id")) or f"{channel}:{ts}"
    stored = services.threads.reply(team_id=team, event_id=event_id,
                                    channel_id=channel, thread_ts=thread_ts, ts=ts, user_id=user,
                                    text=plain_text(text or ""))
    if isinstance(stored, ThreadRefused):
        _tell(jobs, team, f"reply:{event_id}", channel, user, thread_ts, blocks.error_message(stored.reason))
    elif stored is not None:
        # The answer is stored; the feedback goes out after the ack so Slack's call can't delay it.
        # The answer is stored; the feedback goes out after the ack so Slack's call can't delay it, and the
        # LLM judge's review follows it when the workspace has the judge on (handlers.judge).
        jobs.submit("thread_feedback", {"team_id": team, "key": f"reply:{event_id}", "channel_id": channel,
                                        "user_id": user, "thread_ts": thread_ts, "ts": ts,
                                        "question_id": stored.question.id,
                                        "message": blocks.thread_feedback_message(stored.question, stored.feedback)})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _tell(jobs: JobRunner, team: str, key: str, channel: str, user: str, thread_ts: str,
          shown: dict[str, Any]) -> None:
    jobs.submit("tell", {"team_id": team, "key": key, "channel_id": channel, "user_id": user,
                         "thread_ts": thread_ts, "message": shown})
