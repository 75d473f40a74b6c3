"""Ephemeral messages: what only one person sees, per person."""

from __future__ import annotations

from coachbot.standin.model import Ephemeral


class EphemeralStore:
    """Each user's visible ephemeral messages, oldest first.

    Not thread-safe on its own: the owning
    :class:`~coachbot.standin.server.StandInSlack` serialises access.
    """

    def __init__(self) -> None:
        self._by_user: dict[str, list[Ephemeral]] = {}

    def add(self, ephemeral: Ephemeral) -> Ephemeral:
        """Show a new ephemeral message to its user."""
        self._by_user.setdefault(ephemeral.user, []).append(ephemeral)
        return ephemeral

    def find(self, user: str, ts: str) -> Ephemeral | None:
        """The user's visible ephemeral with this ts, if any."""
        return next((e for e in self._by_user.get(user, []) if e.ts == ts), None)

    def latest_from(self, user: str, response_url: str) -> Ephemeral | None:
        """The newest visible ephemeral the user got through ``response_url``."""
        shown = self._by_user.get(user, [])
        return next((e for e in reversed(shown) if e.response_url == response_url), None)

    def replace(self, old: Ephemeral, new: Ephemeral) -> Ephemeral:
        """Put ``new`` where ``old`` was shown (replace_original)."""
        shown = self._by_user[old.user]
        shown[shown.index(old)] = new
        return new

    def remove(self, ephemeral: Ephemeral) -> None:
        """Stop showing an ephemeral (delete_original)."""
        self._by_user[ephemeral.user].remove(ephemeral)

    def for_user(self, user: str) -> list[Ephemeral]:
        """Everything only this user sees, oldest first."""
        return list(self._by_user.get(user, []))

    def clear(self) -> None:
        """Forget every ephemeral."""
        self._by_user.clear()
