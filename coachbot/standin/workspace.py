"""The stand-in workspace's state and the message operations every entry point shares.

Web API methods, response_url posts and test set-up (``post_as_user``) all
change messages through :class:`Workspace`, so the rules (threads, who may
edit what, fresh timestamps) live in one place.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import replace

from coachbot.standin.directory import Directory
from coachbot.standin.ephemerals import EphemeralStore
from coachbot.standin.errors import ApiError
from coachbot.standin.history import MessageStore
from coachbot.standin.modals import ViewStore
from coachbot.standin.model import Channel, Ephemeral, JsonDict, Message
from coachbot.standin.shapes import message_json
from coachbot.standin.timestamps import TsClock
from coachbot.standin.triggers import TriggerBook


class Workspace:
    """Channels, users, messages, ephemerals and views of one stand-in team.

    Not thread-safe on its own: :class:`~coachbot.standin.server.StandInSlack`
    holds its lock around every use.
    """

    def __init__(
        self,
        *,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        auto_channels: bool,
        auto_users: bool,
        wall_clock: Callable[[], float] = time.time,
        bot_in_new_channels: bool = False,
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.ts = TsClock(wall_clock)
        self.directory = Directory(auto_channels=auto_channels, auto_users=auto_users, wall_clock=wall_clock,
                                   bot_in_new_channels=bot_in_new_channels)
        self.directory.add_user(bot_user_id, "coachbot", real_name="Coachbot", is_bot=True)
        self.messages = MessageStore()
        self.ephemerals = EphemeralStore()
        self.views = ViewStore(team_id=team_id, app_id=app_id, bot_id=bot_id, wall_clock=wall_clock)
        self.triggers = TriggerBook()

    def post(
        self,
        channel: Channel,
        *,
        user: str,
        text: str,
        blocks: list[JsonDict] | None = None,
        thread_ts: str | None = None,
        metadata: JsonDict | None = None,
        reply_broadcast: bool = False,
    ) -> Message:
        """Add a message to a channel; a ``thread_ts`` naming a reply joins that reply's thread."""
        if thread_ts:
            parent = self.messages.get(channel.id, thread_ts)
            if parent is not None and parent.is_reply:
                thread_ts = parent.thread_ts
        message = Message(
            channel=channel.id,
            ts=self.ts.next(),
            thread_ts=thread_ts or None,
            user=user,
            text=text,
            blocks=copy.deepcopy(blocks or []),
            metadata=copy.deepcopy(metadata),
            reply_broadcast=bool(reply_broadcast and thread_ts),
            bot_id=self.bot_id if user == self.bot_user_id else None,
        )
        return self.messages.add(message)

    def find(self, channel_id: str, ts: str) -> Message:
        """The message with this ts; raises :class:`ApiError` ``message_not_found``."""
        message = self.messages.get(channel_id, ts)
        if message is None:
            raise ApiError("message_not_found")
        return message

    def edit(
        self,
        channel_id: str,
        ts: str,
        *,
        text: str | None = None,
        blocks: list[JsonDict] | None = None,
        metadata: JsonDict | None = None,
        as_bot: bool = True,
    ) -> Message:
        """Change a message like chat.update: omitted text, blocks and metadata are kept.

        The bot may only edit its own messages (``cant_update_message``).
        """
        message = self.find(channel_id, ts)
        if as_bot and message.user != self.bot_user_id:
            raise ApiError("cant_update_message")
        changed = replace(
            message,
            text=message.text if text is None else text,
            blocks=message.blocks if blocks is None else copy.deepcopy(blocks),
            metadata=message.metadata if metadata is None else copy.deepcopy(metadata),
            edited_ts=self.ts.next(),
        )
        return self.messages.put(changed)

    def delete(self, channel_id: str, ts: str, *, as_bot: bool = True) -> Message:
        """Delete a message like chat.delete; the bot may only delete its own (``cant_delete_message``)."""
        message = self.find(channel_id, ts)
        if as_bot and message.user != self.bot_user_id:
            raise ApiError("cant_delete_message")
        self.messages.delete(channel_id, ts)
        return message

    def add_reaction(self, channel_id: str, ts: str, user: str, emoji: str) -> Message:
        """Record ``user`` reacting to a message with ``emoji`` (a name, colons optional).

        Raises :class:`ApiError` ``message_not_found``, ``invalid_name`` or
        ``already_reacted``, as reactions.add does.
        """
        message = self.find(channel_id, ts)
        name = _emoji_name(emoji)
        users = message.reactions.get(name, [])
        if user in users:
            raise ApiError("already_reacted")
        reactions = {key: list(value) for key, value in message.reactions.items()}
        reactions[name] = [*users, user]
        return self.messages.put(replace(message, reactions=reactions))

    def remove_reaction(self, channel_id: str, ts: str, user: str, emoji: str) -> Message:
        """Take back ``user``'s ``emoji`` reaction; ``message_not_found``, ``invalid_name`` or ``no_reaction``."""
        message = self.find(channel_id, ts)
        name = _emoji_name(emoji)
        if user not in message.reactions.get(name, []):
            raise ApiError("no_reaction")
        reactions = {key: list(value) for key, value in message.reactions.items()}
        reactions[name] = [someone for someone in reactions[name] if someone != user]
        if not reactions[name]:
            del reactions[name]
        return self.messages.put(replace(message, reactions=reactions))

    def post_ephemeral(
        self,
        *,
        user: str,
        channel: str | None,
        text: str,
        blocks: list[JsonDict] | None = None,
        thread_ts: str | None = None,
        response_url: str | None = None,
    ) -> Ephemeral:
        """Show a message to one user only."""
        ephemeral = Ephemeral(
            user=user,
            channel=channel,
            ts=self.ts.next(),
            text=text,
            blocks=copy.deepcopy(blocks or []),
            thread_ts=thread_ts or None,
            response_url=response_url,
        )
        return self.ephemerals.add(ephemeral)

    def message_json(self, message: Message, *, include_metadata: bool) -> JsonDict:
        """The message as Slack's API returns it, with thread details filled in."""
        parent_user = None
        if message.is_reply and message.thread_ts is not None:
            parent = self.messages.get(message.channel, message.thread_ts)
            parent_user = parent.user if parent is not None else None
        return message_json(
            message,
            team_id=self.team_id,
            app_id=self.app_id,
            include_metadata=include_metadata,
            thread=None if message.is_reply else self.messages.thread_info(message.channel, message.ts),
            parent_user=parent_user,
        )

    def clear(self) -> None:
        """Forget messages, ephemerals, views and used trigger ids; keep channels and users."""
        self.messages.clear()
        self.ephemerals.clear()
        self.views.clear()
        self.triggers.clear()


def emoji_name(emoji: str) -> str:
    """An emoji name as Slack stores it: ``":thumbsup:"`` -> ``"thumbsup"``."""
    return emoji.strip().strip(":")


def _emoji_name(emoji: str) -> str:
    name = emoji_name(emoji)
    if not name or any(character.isspace() for character in name):
        raise ApiError("invalid_name")
    return name
