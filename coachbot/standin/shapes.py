"""The JSON shapes Slack's Web API answers with, built from the stand-in's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from coachbot.standin.model import Channel, Ephemeral, JsonDict, Message, User

_TZ_LABELS = {
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "JST": "Japan Standard Time",
}


@dataclass(frozen=True)
class ThreadInfo:
    """What Slack adds to a thread's parent: reply count, repliers, latest reply."""

    reply_count: int
    reply_users: tuple[str, ...]
    latest_reply: str


def tz_details(tz: str, at: datetime | None = None) -> tuple[str, int]:
    """``(tz_label, tz_offset seconds)`` for an IANA zone at ``at`` (default: now)."""
    moment = (at or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(tz))
    offset = moment.utcoffset()
    abbreviation = moment.tzname() or tz
    return _TZ_LABELS.get(abbreviation, abbreviation), int(offset.total_seconds()) if offset else 0


def user_json(user: User, team_id: str, *, include_locale: bool = False) -> JsonDict:
    """A user object as users.info returns it."""
    tz_label, tz_offset = tz_details(user.tz)
    shape: JsonDict = {
        "id": user.id,
        "team_id": team_id,
        "name": user.name,
        "deleted": False,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "team": team_id,
        },
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 0,
    }
    if include_locale:
        shape["locale"] = "en-US"
    return shape


def channel_json(channel: Channel, team_id: str) -> JsonDict:
    """A conversation object as conversations.info returns it."""
    if channel.is_im:
        return {
            "id": channel.id,
            "created": channel.created,
            "is_im": True,
            "is_org_shared": False,
            "user": channel.user,
            "is_user_deleted": False,
            "is_archived": channel.is_archived,
            "is_open": True,
            "context_team_id": team_id,
        }
    empty_text: dict[str, Any] = {"value": "", "creator": "", "last_set": 0}
    return {
        "id": channel.id,
        "name": channel.name,
        "name_normalized": channel.name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "is_archived": channel.is_archived,
        "is_general": False,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_member": channel.is_member,
        "created": channel.created,
        "creator": "",
        "unlinked": 0,
        "topic": dict(empty_text),
        "purpose": dict(empty_text),
        "context_team_id": team_id,
    }


def message_json(
    message: Message,
    *,
    team_id: str,
    app_id: str,
    include_metadata: bool = False,
    thread: ThreadInfo | None = None,
    parent_user: str | None = None,
) -> JsonDict:
    """A message object as chat.postMessage and conversations.history return it.

    ``thread`` is given for a thread's parent; ``parent_user`` for a reply.
    """
    shape: JsonDict = {"type": "message"}
    if message.reply_broadcast:
        shape["subtype"] = "thread_broadcast"
    shape.update({"user": message.user, "text": message.text, "ts": message.ts, "team": team_id})
    if message.bot_id is not None:
        shape["bot_id"] = message.bot_id
        shape["app_id"] = app_id
    if message.blocks:
        shape["blocks"] = message.blocks
    if message.edited_ts is not None:
        shape["edited"] = {"user": message.user, "ts": message.edited_ts}
    if message.is_reply:
        shape["thread_ts"] = message.thread_ts
        shape["parent_user_id"] = parent_user or ""
    elif thread is not None:
        shape["thread_ts"] = message.ts
        shape["reply_count"] = thread.reply_count
        shape["reply_users_count"] = len(thread.reply_users)
        shape["reply_users"] = list(thread.reply_users)
        shape["latest_reply"] = thread.latest_reply
    if message.reactions:
        shape["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)} for name, users in message.reactions.items()
        ]
    if include_metadata and message.metadata is not None:
        shape["metadata"] = message.metadata
    return shape


def ephemeral_json(ephemeral: Ephemeral) -> JsonDict:
    """The message part of an ephemeral, as an interaction payload would carry it."""
    shape: JsonDict = {"type": "message", "text": ephemeral.text, "ts": ephemeral.ts}
    if ephemeral.blocks:
        shape["blocks"] = ephemeral.blocks
    if ephemeral.thread_ts is not None:
        shape["thread_ts"] = ephemeral.thread_ts
    return shape
