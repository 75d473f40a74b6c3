"""Slack message timestamps: unique, strictly increasing ``"1700000000.000100"`` strings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_MICROS = 1_000_000


def format_ts(micros: int) -> str:
    """Format microseconds since the epoch the way Slack writes a ``ts``."""
    return f"{micros // _MICROS}.{micros % _MICROS:06d}"


def permalink_id(ts: str) -> str:
    """The ``p...`` path segment Slack uses for a message in a permalink."""
    return "p" + ts.replace(".", "")


class TsClock:
    """Hands out message timestamps from the wall clock, never the same one twice.

    Two messages posted in the same microsecond (or a wall clock that goes
    backwards) still get strictly increasing values, so ``ts`` orders
    messages exactly like Slack does. Thread-safe.
    """

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._wall_clock = wall_clock
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        """Return a fresh ``ts`` greater than every one handed out before."""
        with self._lock:
            now = int(self._wall_clock() * _MICROS)
            self._last = max(now, self._last + 1)
            return format_ts(self._last)
