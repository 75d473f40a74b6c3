"""trigger_ids: the short-lived, single-use tickets that let an app open a modal.

Slack hands a ``trigger_id`` to the app with each slash command or
interaction; views.open / views.push exchange it for a modal shown to the
person who acted. The stand-in's trigger ids carry that person's user id
(``"1700000000.U0ALICE.9f8e7d6c5b4a3210"``), so payloads built by
:mod:`coachbot.standin.requests` work with any stand-in server; other ids
can be registered with :meth:`TriggerBook.register`.
"""

from __future__ import annotations

import re
import secrets
import time

from coachbot.standin.errors import ApiError

_STANDIN_TRIGGER = re.compile(r"^\d+\.(?P<user>[A-Z][A-Z0-9]*)\.[0-9a-f]{16}$")


def make_trigger_id(user_id: str) -> str:
    """A fresh trigger id for an action taken by ``user_id``."""
    return f"{int(time.time())}.{user_id}.{secrets.token_hex(8)}"


class TriggerBook:
    """Which user each trigger id belongs to and which were already used.

    Not thread-safe on its own: the owning
    :class:`~coachbot.standin.server.StandInSlack` serialises access.
    """

    def __init__(self) -> None:
        self._registered: dict[str, str] = {}
        self._used: set[str] = set()

    def register(self, trigger_id: str, user_id: str) -> str:
        """Accept an arbitrary trigger id as belonging to ``user_id``."""
        self._registered[trigger_id] = user_id
        return trigger_id

    def redeem(self, trigger_id: str) -> str:
        """Use a trigger id up and return its user.

        Raises :class:`ApiError` ``invalid_trigger_id`` or ``exchanged_trigger_id``.
        """
        user_id = self._registered.get(trigger_id)
        if user_id is None:
            match = _STANDIN_TRIGGER.match(trigger_id)
            if match is None:
                raise ApiError("invalid_trigger_id")
            user_id = match.group("user")
        if trigger_id in self._used:
            raise ApiError("exchanged_trigger_id")
        self._used.add(trigger_id)
        return user_id

    def clear(self) -> None:
        """Forget registrations and which trigger ids were used."""
        self._registered.clear()
        self._used.clear()
