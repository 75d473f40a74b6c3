"""What the stand-in Slack records, as small immutable dataclasses.

Every record handed out by :class:`~coachbot.standin.server.StandInSlack` is
a frozen snapshot: an update to a message stores a new ``Message`` instead of
changing the old one, so a test holding a record never sees it change under
its feet. Treat the dict and list fields as read-only too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One Web API call as the stand-in received it.

    ``params`` merges query string and body, with JSON-string form values
    (``blocks``, ``view``, ``metadata``...) decoded. ``status`` and ``error``
    say how the stand-in answered (``error`` is ``None`` for ``ok: true``).
    """

    method: str
    params: JsonDict
    at: float
    status: int = 200
    error: str | None = None


@dataclass(frozen=True)
class Message:
    """A message in a channel, as everyone in the channel sees it.

    ``thread_ts`` is ``None`` for a top-level message (also when it has
    replies) and the parent's ``ts`` for a reply. ``user`` is the bot user id
    for the bot's own posts. ``bot_id`` is set for the bot's posts only.
    ``reactions`` maps each emoji name (no colons) to the users who reacted
    with it, in the order they did.
    """

    channel: str
    ts: str
    thread_ts: str | None
    user: str
    text: str
    blocks: list[JsonDict] = field(default_factory=list)
    metadata: JsonDict | None = None
    reply_broadcast: bool = False
    bot_id: str | None = None
    edited_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_reply(self) -> bool:
        """True for a message posted into a thread."""
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass(frozen=True)
class Ephemeral:
    """A message only ``user`` sees: from chat.postEphemeral or a response_url.

    ``response_url`` names the response_url it came through, ``None`` for
    chat.postEphemeral.
    """

    user: str
    channel: str | None
    ts: str
    text: str
    blocks: list[JsonDict] = field(default_factory=list)
    thread_ts: str | None = None
    response_url: str | None = None


@dataclass(frozen=True)
class View:
    """The current state of a modal or App Home view shown to ``user_id``.

    ``view`` is the full view object as Slack returns it from views.open
    (id, hash, type, title, blocks, state, callback_id, private_metadata...).
    """

    id: str
    user_id: str
    hash: str
    view: JsonDict

    @property
    def type(self) -> str:
        """``"modal"`` or ``"home"``."""
        return str(self.view.get("type", ""))

    @property
    def callback_id(self) -> str:
        """The view's callback_id, ``""`` when unset."""
        return str(self.view.get("callback_id") or "")

    @property
    def external_id(self) -> str:
        """The view's external_id, ``""`` when unset."""
        return str(self.view.get("external_id") or "")

    @property
    def private_metadata(self) -> str:
        """The view's private_metadata, ``""`` when unset."""
        return str(self.view.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JsonDict]:
        """The view's blocks."""
        return list(self.view.get("blocks") or [])


@dataclass(frozen=True)
class Channel:
    """A conversation: public or private channel, or a DM with the bot (``is_im``).

    ``is_member`` says whether the bot is in the channel; ``members`` holds
    the people in it (never the bot). A DM's ``members`` is its ``user``.
    """

    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True
    is_im: bool = False
    user: str | None = None
    created: int = 0
    members: frozenset[str] = frozenset()


@dataclass(frozen=True)
class User:
    """A member of the stand-in workspace."""

    id: str
    name: str
    real_name: str
    tz: str = "UTC"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a response_url: who it belonged to and the JSON body sent."""

    url: str
    user_id: str | None
    channel_id: str | None
    body: JsonDict
    at: float
