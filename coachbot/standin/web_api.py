"""The Web API methods the stand-in answers, with Slack's arguments, errors and shapes.

Each method takes the decoded params and returns the response body without
``ok``; failures raise :class:`~coachbot.standin.errors.ApiError`. See
https://api.slack.com/methods for the real thing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from coachbot.standin import blockkit
from coachbot.standin.errors import ApiError
from coachbot.standin.limits import cap, check_arguments, int_arg
from coachbot.standin.manifest import AppManifest
from coachbot.standin.model import Channel, JsonDict, Message
from coachbot.standin.params import truthy
from coachbot.standin.shapes import channel_json, user_json
from coachbot.standin.timestamps import permalink_id
from coachbot.standin.workspace import Workspace

#: The conversation types users.conversations (and conversations.list) know.
CONVERSATION_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})

#: Host of the permalinks the stand-in hands out (``.invalid`` never resolves).
PERMALINK_HOST = "https://standin.slack.invalid"

Method = Callable[[JsonDict], JsonDict]


def _text_arg(params: JsonDict, name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value)


def _required(params: JsonDict, name: str, error: str = "invalid_arguments") -> str:
    value = _text_arg(params, name)
    if not value:
        raise ApiError(error)
    return value


def _blocks_arg(params: JsonDict) -> list[JsonDict] | None:
    """The ``blocks`` argument, checked against Block Kit's documented limits (see ``blockkit``).

    Not an array: ``invalid_blocks_format``; an array breaking a rule:
    ``invalid_blocks`` with Slack's ``errors`` and ``response_metadata.messages``
    (slack-ruby/slack-api-ref methods/chat/chat.postMessage.json, errors).
    """
    blocks = params.get("blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise ApiError("invalid_blocks_format")
    problems = blockkit.check_blocks(blocks)
    if problems:
        raise ApiError(
            "invalid_blocks",
            errors=[problem.detail for problem in problems],
            response_metadata={"messages": blockkit.messages(problems)},
        )
    return blocks


def _metadata_arg(params: JsonDict) -> JsonDict | None:
    metadata = params.get("metadata")
    if metadata is None or metadata == "":
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}


def _types_arg(params: JsonDict) -> frozenset[str]:
    raw = params.get("types")
    names = raw if isinstance(raw, list) else str(raw or "").split(",")
    types = frozenset(str(name).strip() for name in names if str(name).strip())
    if not types:
        return frozenset({"public_channel"})
    if not types <= CONVERSATION_TYPES:
        raise ApiError("invalid_types")
    return types


def _conversation_type(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    try:
        return int(seconds or 0), int((micros + "000000")[:6])
    except ValueError as error:
        raise ApiError("invalid_ts_latest") from error


def _page(items: list[Any], params: JsonDict, default_limit: int, max_limit: int = 999) -> tuple[list[Any], str]:
    """One page of ``items`` per ``limit``/``cursor``, and the next cursor ('' at the end).

    A ``limit`` over ``max_limit`` is capped; methods whose maximum Slack
    enforces with an error are refused before this (``limits.check_arguments``).
    """
    limit = min(int_arg(params, "limit", default_limit), max_limit)
    start = 0
    cursor = _text_arg(params, "cursor")
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
        except ValueError as error:
            raise ApiError("invalid_cursor") from error
    page = items[start : start + limit]
    more = start + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return page, next_cursor


class WebApi:
    """Dispatches Web API method names to implementations over one :class:`Workspace`."""

    def __init__(self, workspace: Workspace, manifest: AppManifest | None = None) -> None:
        self._ws = workspace
        self._manifest = manifest or AppManifest.everything()
        self._methods: dict[str, Method] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.info": self.conversations_info,
            "conversations.join": self.conversations_join,
            "conversations.open": self.conversations_open,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "users.info": self.users_info,
            "users.conversations": self.users_conversations,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
        }

    @property
    def method_names(self) -> frozenset[str]:
        """The method names this stand-in implements."""
        return frozenset(self._methods)

    def call(self, method: str, params: JsonDict) -> JsonDict:
        """Run one method and return the full response body (with ``ok``)."""
        implementation = self._methods.get(method)
        if implementation is None:
            raise ApiError("unknown_method")
        self._check_scope(method, params)
        check_arguments(method, params)
        return {"ok": True, **implementation(params)}

    def _check_scope(self, method: str, params: JsonDict) -> None:
        """``missing_scope`` when the manifest grants none of the scopes the call needs.

        Slack answers with the scope(s) ``needed`` and those ``provided``
        (https://docs.slack.dev/reference/methods, "missing_scope" in every method's errors).
        """
        kinds: frozenset[str] = frozenset()
        if method == "users.conversations":
            kinds = _types_arg(params)
        elif method.startswith("conversations.") and params.get("channel"):
            channel = self._ws.directory.get(_text_arg(params, "channel"))
            kinds = frozenset({_conversation_type(channel)}) if channel is not None else frozenset()
        needed = self._manifest.missing_scope(method, kinds)
        if needed:
            raise ApiError("missing_scope", needed=needed, provided=",".join(sorted(self._manifest.bot_scopes)))

    # auth

    def auth_test(self, params: JsonDict) -> JsonDict:
        """auth.test: who the token belongs to."""
        return {
            "url": f"{PERMALINK_HOST}/",
            "team": "Stand-in",
            "user": "coachbot",
            "team_id": self._ws.team_id,
            "user_id": self._ws.bot_user_id,
            "bot_id": self._ws.bot_id,
            "is_enterprise_install": False,
        }

    # chat

    def chat_post_message(self, params: JsonDict) -> JsonDict:
        """chat.postMessage: post as the bot, optionally into a thread.

        Into a public channel the bot is not in only with ``chat:write.public``
        (docs.slack.dev/reference/scopes/chat.write.public), else ``not_in_channel``; into a
        person's DM with the app only while the Messages tab is on, else
        ``messages_tab_disabled`` (the method page's errors).
        """
        ref = _required(params, "channel", "channel_not_found")
        target = self._ws.directory.resolve(ref)
        if target.is_im and not self._manifest.messages_tab_enabled:
            raise ApiError("messages_tab_disabled")
        public_ok = "chat:write.public" in self._manifest.bot_scopes and not target.is_private
        if public_ok and not target.is_member and not target.is_im:
            if target.is_archived:
                raise ApiError("is_archived")
            channel = target
        else:
            channel = self._ws.directory.require_postable(ref)
        text, blocks = _text_arg(params, "text"), _blocks_arg(params)
        if not text and not blocks and not params.get("attachments"):
            raise ApiError("no_text")
        message = self._ws.post(
            channel,
            user=self._ws.bot_user_id,
            text=text,
            blocks=blocks,
            thread_ts=_text_arg(params, "thread_ts") or None,
            metadata=_metadata_arg(params),
            reply_broadcast=truthy(params.get("reply_broadcast", False)),
        )
        return {
            "channel": channel.id,
            "ts": message.ts,
            "message": self._ws.message_json(message, include_metadata=True),
        }

    def chat_post_ephemeral(self, params: JsonDict) -> JsonDict:
        """chat.postEphemeral: show a message to one user in a channel."""
        channel = self._ws.directory.require_postable(_required(params, "channel", "channel_not_found"))
        user = self._ws.directory.user(_required(params, "user", "user_not_in_channel"))
        text, blocks = _text_arg(params, "text"), _blocks_arg(params)
        if not text and not blocks and not params.get("attachments"):
            raise ApiError("no_text")
        ephemeral = self._ws.post_ephemeral(
            user=user.id, channel=channel.id, text=text, blocks=blocks, thread_ts=_text_arg(params, "thread_ts")
        )
        return {"message_ts": ephemeral.ts}

    def chat_update(self, params: JsonDict) -> JsonDict:
        """chat.update: change the bot's message; omitted blocks are kept, ``[]`` removes them."""
        channel = self._ws.directory.require_postable(_required(params, "channel", "channel_not_found"))
        ts = _required(params, "ts", "message_not_found")
        text = params.get("text")
        message = self._ws.edit(
            channel.id,
            ts,
            text=None if text is None else str(text),
            blocks=_blocks_arg(params),
            metadata=_metadata_arg(params),
        )
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self._ws.message_json(message, include_metadata=True),
        }

    def chat_delete(self, params: JsonDict) -> JsonDict:
        """chat.delete: delete the bot's message."""
        channel = self._ws.directory.require_postable(_required(params, "channel", "channel_not_found"))
        message = self._ws.delete(channel.id, _required(params, "ts", "message_not_found"))
        return {"channel": channel.id, "ts": message.ts}

    def chat_get_permalink(self, params: JsonDict) -> JsonDict:
        """chat.getPermalink: a link to a message (with ``thread_ts`` for a reply)."""
        channel = self._ws.directory.resolve(_required(params, "channel", "channel_not_found"))
        message = self._ws.find(channel.id, _required(params, "message_ts", "message_not_found"))
        link = f"{PERMALINK_HOST}/archives/{channel.id}/{permalink_id(message.ts)}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    # conversations

    def conversations_info(self, params: JsonDict) -> JsonDict:
        """conversations.info: a conversation's details.

        A private channel is invisible to a bot that is not in it: Slack answers
        ``channel_not_found`` (the method page's errors), as it does for conversations.history.
        """
        channel = self._ws.directory.resolve(_required(params, "channel", "channel_not_found"))
        if channel.is_private and not channel.is_member:
            raise ApiError("channel_not_found")
        return {"channel": channel_json(channel, self._ws.team_id)}

    def conversations_join(self, params: JsonDict) -> JsonDict:
        """conversations.join: the bot joins a public channel."""
        directory = self._ws.directory
        channel = directory.resolve(_required(params, "channel", "channel_not_found"))
        if channel.is_im or channel.is_private:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise ApiError("is_archived")
        if channel.is_member:
            return {
                "channel": channel_json(channel, self._ws.team_id),
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        channel = directory.update(replace(channel, is_member=True))
        return {"channel": channel_json(channel, self._ws.team_id)}

    def conversations_open(self, params: JsonDict) -> JsonDict:
        """conversations.open: the bot's DM with one user."""
        users = [u for u in _required(params, "users", "users_list_not_supplied").split(",") if u]
        if len(users) != 1:
            raise ApiError("method_not_supported_for_channel_type")
        user = self._ws.directory.user(users[0])
        existing = self._ws.directory.dm_for(user.id)
        channel = self._ws.directory.resolve(existing or user.id)
        if truthy(params.get("return_im", False)):
            return {"channel": channel_json(channel, self._ws.team_id)}
        return {"channel": {"id": channel.id}}

    def conversations_history(self, params: JsonDict) -> JsonDict:
        """conversations.history: top-level messages, newest first, paginated."""
        channel = self._ws.directory.require_readable(_required(params, "channel", "channel_not_found"))
        in_window = self._window(params)
        messages = [m for m in reversed(self._ws.messages.top_level(channel.id)) if in_window(m)]
        return self._messages_page(messages, params, default_limit=100, method="conversations.history")

    def conversations_replies(self, params: JsonDict) -> JsonDict:
        """conversations.replies: a thread's parent then its replies, oldest first."""
        channel = self._ws.directory.require_readable(_required(params, "channel", "channel_not_found"))
        ts = _required(params, "ts", "thread_not_found")
        anchor = self._ws.messages.get(channel.id, ts)
        root = anchor.thread_ts if anchor is not None and anchor.is_reply else ts
        assert root is not None
        parent = self._ws.messages.get(channel.id, root)
        thread = ([parent] if parent is not None else []) + self._ws.messages.thread(channel.id, root)
        if not thread:
            raise ApiError("thread_not_found")
        in_window = self._window(params)
        return self._messages_page([m for m in thread if in_window(m)], params, default_limit=1000, method="conversations.replies")

    def _window(self, params: JsonDict) -> Callable[[Message], bool]:
        oldest = _ts_key(_text_arg(params, "oldest") or "0")
        latest_arg = _text_arg(params, "latest")
        latest = _ts_key(latest_arg) if latest_arg else None
        inclusive = truthy(params.get("inclusive", False))

        def in_window(message: Message) -> bool:
            key = _ts_key(message.ts)
            after = key >= oldest if inclusive else key > oldest
            before = latest is None or (key <= latest if inclusive else key < latest)
            return after and before

        return in_window

    def _messages_page(
        self, messages: list[Message], params: JsonDict, *, default_limit: int, method: str
    ) -> JsonDict:
        page, next_cursor = _page(messages, params, default_limit, cap(method, "limit", 999))
        include_metadata = truthy(params.get("include_all_metadata", False))
        return {
            "messages": [self._ws.message_json(m, include_metadata=include_metadata) for m in page],
            "has_more": bool(next_cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    # users

    def users_info(self, params: JsonDict) -> JsonDict:
        """users.info: a user's profile and time zone."""
        user = self._ws.directory.user(_required(params, "user", "user_not_found"))
        return {"user": user_json(user, self._ws.team_id, include_locale=truthy(params.get("include_locale", False)))}

    def users_conversations(self, params: JsonDict) -> JsonDict:
        """users.conversations: the conversations a user (default: the token's, the bot) is in, paginated.

        ``types`` is a comma list of public_channel, private_channel, mpim
        and im (default public_channel); the stand-in has no mpims.
        """
        directory = self._ws.directory
        user = directory.user(_text_arg(params, "user") or self._ws.bot_user_id)
        types = _types_arg(params)
        exclude_archived = truthy(params.get("exclude_archived", False))
        channels = [
            channel
            for channel in directory.conversations_of(user.id, bot_user_id=self._ws.bot_user_id)
            if _conversation_type(channel) in types and not (exclude_archived and channel.is_archived)
        ]
        page, next_cursor = _page(channels, params, default_limit=100)
        return {
            "channels": [channel_json(channel, self._ws.team_id) for channel in page],
            "response_metadata": {"next_cursor": next_cursor},
        }

    # views

    def views_open(self, params: JsonDict) -> JsonDict:
        """views.open: show a modal to the user the trigger_id belongs to."""
        view = self._view_arg(params)
        user_id = self._ws.triggers.redeem(_required(params, "trigger_id"))
        return {"view": self._ws.views.open(user_id, view).view}

    def views_push(self, params: JsonDict) -> JsonDict:
        """views.push: stack a modal on the user's open one."""
        view = self._view_arg(params)
        user_id = self._ws.triggers.redeem(_required(params, "trigger_id"))
        return {"view": self._ws.views.push(user_id, view).view}

    def views_update(self, params: JsonDict) -> JsonDict:
        """views.update: replace a shown view by ``view_id`` or ``external_id``."""
        updated = self._ws.views.update(
            self._view_arg(params),
            view_id=_text_arg(params, "view_id") or None,
            external_id=_text_arg(params, "external_id") or None,
            hash=_text_arg(params, "hash") or None,
        )
        return {"view": updated.view}

    def views_publish(self, params: JsonDict) -> JsonDict:
        """views.publish: set a user's App Home."""
        user = self._ws.directory.user(_required(params, "user_id", "user_not_found"))
        published = self._ws.views.publish(user.id, self._view_arg(params), hash=_text_arg(params, "hash") or None)
        return {"view": published.view}

    @staticmethod
    def _view_arg(params: JsonDict) -> JsonDict:
        """The ``view`` argument, checked against the view and Block Kit limits (see ``blockkit``).

        Slack answers a view that breaks one with ``invalid_arguments`` and a
        ``[ERROR] ... [json-pointer:/view/...]`` line per problem in
        ``response_metadata.messages``.
        """
        view = params.get("view")
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments")
        problems = blockkit.check_view(view)
        if problems:
            raise ApiError("invalid_arguments", response_metadata={"messages": blockkit.messages(problems)})
        return view
