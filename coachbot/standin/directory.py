"""Who and where: the stand-in workspace's channels, DMs and users."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coachbot.standin.errors import ApiError
from coachbot.standin.model import Channel, User


class Directory:
    """Channels and users, with Slack's rules for finding a conversation.

    A channel argument may be a channel id, ``#name``, or a user id (Slack
    then posts into the bot's DM with that user). With ``auto_channels``,
    unknown ``C...`` ids become public channels the bot is not in (yet) and unknown
    ``D...`` ids become DMs; with ``auto_users``, unknown users look like
    ordinary people in UTC. Not thread-safe on its own: the owning
    :class:`~coachbot.standin.server.StandInSlack` serialises access.
    """

    def __init__(self, *, auto_channels: bool, auto_users: bool, wall_clock: Callable[[], float] = time.time,
                 bot_in_new_channels: bool = False) -> None:
        self.auto_channels = auto_channels
        self.bot_in_new_channels = bot_in_new_channels
        self.auto_users = auto_users
        self._wall_clock = wall_clock
        self._channels: dict[str, Channel] = {}
        self._users: dict[str, User] = {}
        self._dms: dict[str, str] = {}

    # Channels

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        is_private: bool = False,
        is_archived: bool = False,
        is_member: bool = True,
        members: Iterable[str] = (),
    ) -> Channel:
        """Create (or replace) a channel and return it; ``members`` are the people in it."""
        if not channel_id:
            raise ValueError("a channel needs an id")
        if isinstance(members, str):
            raise TypeError("members must be an iterable of user ids, not one string")
        channel = Channel(
            id=channel_id,
            name=name or channel_id.lower(),
            is_private=is_private,
            is_archived=is_archived,
            is_member=is_member,
            created=int(self._wall_clock()),
            members=frozenset(members),
        )
        self._channels[channel_id] = channel
        return channel

    def add_dm(self, user_id: str | None, channel_id: str | None = None) -> Channel:
        """Create the bot's DM with ``user_id`` (id ``D`` + the user id's tail unless given)."""
        if channel_id is None:
            if user_id is None:
                raise ValueError("a DM needs a user or an id")
            channel_id = "D" + user_id[1:]
        channel = Channel(
            id=channel_id,
            name=channel_id.lower(),
            is_im=True,
            user=user_id,
            created=int(self._wall_clock()),
            members=frozenset({user_id}) if user_id is not None else frozenset(),
        )
        self._channels[channel_id] = channel
        if user_id is not None:
            self._dms[user_id] = channel_id
        return channel

    def remove_channel(self, channel_id: str) -> bool:
        """Forget a channel; returns whether it existed."""
        channel = self._channels.pop(channel_id, None)
        if channel is not None and channel.user is not None:
            self._dms.pop(channel.user, None)
        return channel is not None

    def update(self, channel: Channel) -> Channel:
        """Store a changed copy of an existing channel."""
        self._channels[channel.id] = channel
        return channel

    def archive(self, channel_id: str) -> Channel:
        """Mark a channel archived; raises ``KeyError`` for an unknown channel."""
        return self.update(replace(self._channels[channel_id], is_archived=True))

    def join(self, channel_id: str, user_id: str) -> Channel:
        """Add a person to a channel's members; raises ``KeyError`` for an unknown channel.

        A DM's members are fixed (``ValueError``).
        """
        channel = self._channels[channel_id]
        if user_id in channel.members:
            return channel
        if channel.is_im:
            raise ValueError(f"{channel_id} is a DM: its members are fixed")
        return self.update(replace(channel, members=channel.members | {user_id}))

    def leave(self, channel_id: str, user_id: str) -> Channel:
        """Remove a person from a channel's members (no-op if absent); ``KeyError``/``ValueError`` as :meth:`join`."""
        channel = self._channels[channel_id]
        if user_id not in channel.members:
            return channel
        if channel.is_im:
            raise ValueError(f"{channel_id} is a DM: its members are fixed")
        return self.update(replace(channel, members=channel.members - {user_id}))

    def conversations_of(self, user_id: str, *, bot_user_id: str) -> list[Channel]:
        """The conversations ``user_id`` is in, as the bot can see them, oldest first.

        For the bot: channels with ``is_member`` and every DM. For a person:
        channels listing them in ``members`` (private ones only when the bot
        is in them too, as a bot token sees no others) and their DM with
        the bot.
        """
        if user_id == bot_user_id:
            return [c for c in self._channels.values() if c.is_im or c.is_member]
        return [
            c
            for c in self._channels.values()
            if (c.user == user_id if c.is_im else user_id in c.members and (c.is_member or not c.is_private))
        ]

    def get(self, channel_id: str) -> Channel | None:
        """The channel with this id, without creating it."""
        return self._channels.get(channel_id)

    def dm_for(self, user_id: str) -> str | None:
        """The id of the bot's DM with ``user_id``, if it was opened."""
        return self._dms.get(user_id)

    def resolve(self, ref: str) -> Channel:
        """Find the conversation an API argument names, creating it when allowed.

        Raises :class:`ApiError` ``channel_not_found``.
        """
        if ref in self._channels:
            return self._channels[ref]
        if ref.startswith("#"):
            for channel in self._channels.values():
                if channel.name == ref[1:] and not channel.is_im:
                    return channel
        elif ref[:1] in {"U", "W"} and (ref in self._users or self.auto_users):
            dm_id = self._dms.get(ref)
            return self._channels[dm_id] if dm_id else self.add_dm(ref)
        elif self.auto_channels and ref.startswith("C") and len(ref) > 1:
            # As in Slack, the bot is in no channel until it joins or is invited.
            return self.add_channel(ref, is_member=self.bot_in_new_channels)
        elif self.auto_channels and ref.startswith("D") and len(ref) > 1:
            return self.add_dm(None, ref)
        raise ApiError("channel_not_found")

    def require_readable(self, ref: str) -> Channel:
        """Resolve a channel the bot wants to read; raises ``channel_not_found`` or ``not_in_channel``."""
        channel = self.resolve(ref)
        if not channel.is_member and not channel.is_im:
            raise ApiError("not_in_channel")
        return channel

    def require_postable(self, ref: str) -> Channel:
        """Resolve a channel the bot wants to write to.

        Raises ``channel_not_found``, ``is_archived`` or ``not_in_channel``.
        """
        channel = self.resolve(ref)
        if channel.is_archived:
            raise ApiError("is_archived")
        return self.require_readable(channel.id)

    # Users

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
    ) -> User:
        """Create (or replace) a user; ``tz`` must be an IANA zone name."""
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {tz!r}") from error
        user = User(user_id, name, real_name or name, tz, is_admin, is_owner, is_bot)
        self._users[user_id] = user
        return user

    def user(self, user_id: str) -> User:
        """The user with this id; raises :class:`ApiError` ``user_not_found``."""
        user = self._users.get(user_id)
        if user is not None:
            return user
        if self.auto_users and user_id[:1] in {"U", "W"}:
            return User(user_id, user_id.lower(), user_id)
        raise ApiError("user_not_found")

    def channel_names(self) -> dict[str, str]:
        """``{name: channel id}`` of every channel that is not a DM."""
        return {c.name: c.id for c in self._channels.values() if not c.is_im and c.name}

    def display_names(self) -> dict[str, str]:
        """``{user id: name}`` of every known user, for rendering mentions."""
        return {user.id: user.name for user in self._users.values()}
