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
from typing import Callable, Protocol


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


class WorkspacePacer(Protocol):
    """Pacing per workspace: Slack's posting budget is per workspace, not per process."""

    def acquire(self, team_id: str) -> float:
        """Wait for the workspace's next token; returns the seconds waited."""
        ...

    def pause(self, team_id: str, seconds: float) -> None:
        """The workspace said 429: nobody posts to it for ``seconds``."""
        ...


class LocalPacers:
    """One in-process ``Pacer`` per workspace (a single process posting)."""

    def __init__(self, per_minute: float, *, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._make = lambda: Pacer(per_minute, burst=burst, clock=clock, sleep=sleep)
        self._pacers: dict[str, Pacer] = {}
        self._lock = threading.Lock()

    def _of(self, team_id: str) -> Pacer:
        with self._lock:
            if team_id not in self._pacers:
                self._pacers[team_id] = self._make()
            return self._pacers[team_id]

    def acquire(self, team_id: str) -> float:
        return self._of(team_id).acquire()

    def pause(self, team_id: str, seconds: float) -> None:
        self._of(team_id).pause(seconds)


class SharedPacer:
    """The same bucket per workspace, kept by a store every posting process shares
    (``coachbot.storage.pace``): two schedulers spend one budget between them.

    ``take(team, now, interval)`` atomically takes a token and returns the bucket's
    ``max(next_at, now)`` before it; ``hold(team, until)`` keeps everyone out until then.
    ``clock`` is wall time in epoch seconds, which every process reads alike (the claim
    leases already rely on clocks in step)."""

    def __init__(self, per_minute: float, *, take: Callable[[str, float, float], float],
                 hold: Callable[[str, float], None], burst: float | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.interval = 60.0 / per_minute
        capacity = burst if burst is not None else per_minute
        self.tolerance = max(0.0, capacity - 1) * self.interval
        self._take, self._hold, self._clock, self._sleep = take, hold, clock, sleep

    def acquire(self, team_id: str) -> float:
        now = self._clock()
        wait = max(0.0, self._take(team_id, now, self.interval) - self.tolerance - now)
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, team_id: str, seconds: float) -> None:
        self._hold(team_id, self._clock() + seconds + self.tolerance)
