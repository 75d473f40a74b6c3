"""Channel messages and threads: what conversations.history and .replies read."""

from __future__ import annotations

from coachbot.standin.model import Message
from coachbot.standin.shapes import ThreadInfo


class MessageStore:
    """Every channel's messages by ``ts``, in posting order, with a thread index.

    Not thread-safe on its own: the owning
    :class:`~coachbot.standin.server.StandInSlack` serialises access.
    """

    def __init__(self) -> None:
        self._channels: dict[str, dict[str, Message]] = {}
        self._threads: dict[tuple[str, str], list[str]] = {}

    def add(self, message: Message) -> Message:
        """Store a new message (its ``ts`` must be newer than the channel's last)."""
        self._channels.setdefault(message.channel, {})[message.ts] = message
        if message.is_reply:
            assert message.thread_ts is not None
            self._threads.setdefault((message.channel, message.thread_ts), []).append(message.ts)
        return message

    def put(self, message: Message) -> Message:
        """Replace a stored message with a changed copy (same channel and ts)."""
        self._channels[message.channel][message.ts] = message
        return message

    def get(self, channel: str, ts: str) -> Message | None:
        """The message with this ts in this channel, if it exists."""
        return self._channels.get(channel, {}).get(ts)

    def delete(self, channel: str, ts: str) -> Message | None:
        """Remove a message (a parent's replies stay in its thread); returns it."""
        message = self._channels.get(channel, {}).pop(ts, None)
        if message is not None and message.is_reply:
            assert message.thread_ts is not None
            self._threads[(channel, message.thread_ts)].remove(ts)
        return message

    def top_level(self, channel: str) -> list[Message]:
        """What the channel shows: unthreaded messages, parents, and replies also sent to the channel."""
        return [m for m in self._channels.get(channel, {}).values() if not m.is_reply or m.reply_broadcast]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """A thread's replies, oldest first, without the parent."""
        stored = self._channels.get(channel, {})
        return [stored[ts] for ts in self._threads.get((channel, thread_ts), [])]

    def thread_info(self, channel: str, ts: str) -> ThreadInfo | None:
        """Reply count, repliers and latest reply of a parent, ``None`` without replies."""
        replies = self.thread(channel, ts)
        if not replies:
            return None
        users = tuple(dict.fromkeys(reply.user for reply in replies))
        return ThreadInfo(len(replies), users, replies[-1].ts)

    def drop_channel(self, channel: str) -> None:
        """Forget every message of a channel."""
        self._channels.pop(channel, None)
        for key in [key for key in self._threads if key[0] == channel]:
            del self._threads[key]

    def clear(self) -> None:
        """Forget every message."""
        self._channels.clear()
        self._threads.clear()
