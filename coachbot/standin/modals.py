"""Modals and App Home views: what views.open/push/update/publish show to whom."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from coachbot.standin.errors import ApiError
from coachbot.standin.model import JsonDict, View

#: Slack allows a stack of at most three modals.
MAX_STACK = 3


class ViewStore:
    """Every user's modals (with their stack) and App Home view.

    Views get ids ``V0...`` and a new ``hash`` on every change; views.update
    with a stale hash fails with ``hash_conflict`` as on Slack. Not
    thread-safe on its own: the owning
    :class:`~coachbot.standin.server.StandInSlack` serialises access.
    """

    def __init__(self, *, team_id: str, app_id: str, bot_id: str, wall_clock: Callable[[], float] = time.time) -> None:
        self._team_id = team_id
        self._app_id = app_id
        self._bot_id = bot_id
        self._wall_clock = wall_clock
        self._seq = 0
        self._views: dict[str, View] = {}
        self._modals: dict[str, list[str]] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._publishes: dict[str, int] = {}

    def open(self, user_id: str, view: JsonDict) -> View:
        """Show a new modal, replacing the user's modal stack."""
        _require_type(view, "modal")
        self._require_unique_external_id(view)
        view_id = self._new_id()
        self._stacks[user_id] = [view_id]
        self._modals.setdefault(user_id, []).append(view_id)
        return self._store(user_id, view_id, view, root=view_id, previous=None)

    def push(self, user_id: str, view: JsonDict) -> View:
        """Show a modal on top of the user's open one; ``push_limit_reached`` after three."""
        _require_type(view, "modal")
        self._require_unique_external_id(view)
        stack = self._stacks.get(user_id, [])
        if len(stack) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        view_id = self._new_id()
        previous = stack[-1] if stack else None
        self._stacks[user_id] = [*stack, view_id]
        self._modals.setdefault(user_id, []).append(view_id)
        return self._store(user_id, view_id, view, root=stack[0] if stack else view_id, previous=previous)

    def update(self, view: JsonDict, *, view_id: str | None, external_id: str | None, hash: str | None) -> View:
        """Replace a shown view's content, found by ``view_id`` or ``external_id``."""
        current = self._find(view_id, external_id)
        if hash and hash != current.hash:
            raise ApiError("hash_conflict")
        _require_type(view, current.type)
        return self._store(
            current.user_id,
            current.id,
            view,
            root=current.view.get("root_view_id"),
            previous=current.view.get("previous_view_id"),
        )

    def publish(self, user_id: str, view: JsonDict, *, hash: str | None) -> View:
        """Set the user's App Home view (keeps its id across publishes)."""
        _require_type(view, "home")
        view_id = self._homes.get(user_id)
        if view_id is not None and hash and hash != self._views[view_id].hash:
            raise ApiError("hash_conflict")
        if view_id is None:
            view_id = self._homes[user_id] = self._new_id()
        published = self._store(user_id, view_id, view, root=view_id, previous=None)
        self._publishes[user_id] = self._publishes.get(user_id, 0) + 1
        return published

    def modals(self, user_id: str) -> list[View]:
        """The current state of each modal shown to the user, in opening order."""
        return [self._views[view_id] for view_id in self._modals.get(user_id, [])]

    def home(self, user_id: str) -> View | None:
        """The user's last published App Home view."""
        view_id = self._homes.get(user_id)
        return self._views[view_id] if view_id else None

    def home_publishes(self, user_id: str) -> int:
        """How many times views.publish set the user's App Home."""
        return self._publishes.get(user_id, 0)

    def clear(self) -> None:
        """Forget every view and publish count."""
        self._views.clear()
        self._modals.clear()
        self._stacks.clear()
        self._homes.clear()
        self._publishes.clear()

    def _new_id(self) -> str:
        self._seq += 1
        return f"V0{self._seq:08d}"

    def _find(self, view_id: str | None, external_id: str | None) -> View:
        if view_id:
            found = self._views.get(view_id)
        elif external_id:
            found = next((v for v in self._views.values() if v.external_id == external_id), None)
        else:
            raise ApiError("invalid_arguments")
        if found is None:
            raise ApiError("not_found")
        return found

    def _require_unique_external_id(self, view: JsonDict) -> None:
        external_id = view.get("external_id")
        if external_id and any(v.external_id == external_id for v in self._views.values()):
            raise ApiError("duplicate_external_id")

    def _store(self, user_id: str, view_id: str, view: JsonDict, *, root: object, previous: object) -> View:
        self._seq += 1
        view_hash = f"{int(self._wall_clock())}.{self._seq:08x}"
        shaped: JsonDict = copy.deepcopy(view)
        shaped.update(
            {
                "id": view_id,
                "team_id": self._team_id,
                "type": view["type"],
                "blocks": copy.deepcopy(view.get("blocks") or []),
                "private_metadata": view.get("private_metadata") or "",
                "callback_id": view.get("callback_id") or "",
                "external_id": view.get("external_id") or "",
                "state": {"values": {}},
                "hash": view_hash,
                "title": copy.deepcopy(view.get("title")),
                "close": copy.deepcopy(view.get("close")),
                "submit": copy.deepcopy(view.get("submit")),
                "clear_on_close": bool(view.get("clear_on_close", False)),
                "notify_on_close": bool(view.get("notify_on_close", False)),
                "root_view_id": root,
                "previous_view_id": previous,
                "app_id": self._app_id,
                "app_installed_team_id": self._team_id,
                "bot_id": self._bot_id,
            }
        )
        stored = View(id=view_id, user_id=user_id, hash=view_hash, view=shaped)
        self._views[view_id] = stored
        return stored


def _require_type(view: JsonDict, expected: str) -> None:
    if not isinstance(view, dict) or view.get("type") != expected:
        raise ApiError("invalid_arguments")
    if expected == "modal" and not view.get("title"):
        raise ApiError("invalid_arguments")
    if not isinstance(view.get("blocks", []), list):
        raise ApiError("invalid_arguments")
