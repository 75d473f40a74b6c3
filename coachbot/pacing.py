"""Client-side pacing for posts to Slack: a token bucket shared by the posting threads.

Slack limits chat.postMessage per workspace (a budget per minute, with bursts) and
answers 429 with Retry-After beyond it. Posting at the budget's pace instead of
bursting into 429s keeps a fan-out to many channels close to the fastest the limit
allows: every 429 would cost a whole second or more of Retry-After. A 429 that does
happen (someone else used the budget) pauses every thread, not just the one that
got it. Time is injected, so the maths is testable without waiting.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class Pacer:
    """A token bucket in its virtual-time form (GCRA): ``_next`` is when the bucket
    would next be empty-and-refilled; a call may go ``tolerance`` before that."""

    def __init__(self, per_minute: float, *, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.interval = 60.0 / per_minute  # seconds per post at the budget's pace
        capacity = burst if burst is not None else per_minute
        self.tolerance = max(0.0, capacity - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()

    def reserve(self) -> float:
        """Take a token; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._next = max(self._next, now)
            wait = max(0.0, self._next - self.tolerance - now)
            self._next += self.interval
            return wait

    def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Slack said 429 with Retry-After: nobody posts until it has passed, and the
        budget restarts from empty (someone else spent it)."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds + self.tolerance)
