"""Slack-like rate limits for chat.postMessage: per channel and per workspace.

Each limit is a token bucket: it holds up to ``capacity`` tokens, refills at
``rate`` tokens a second, and a call spends one. A bucket for "1 per second"
holds one token, so a second post in the same second is refused; a bucket
for "60 per minute" holds 60, so bursts are allowed as long as the minute's
budget lasts. Accounting is O(1) per call and exact for the injected clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9


class TokenBucket:
    """One limit. Not thread-safe on its own; :class:`PostRateLimiter` locks."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def wait_needed(self, now: float) -> float:
        """Seconds until a token is available (0.0 when one is available now)."""
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0 - _EPSILON:
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def spend(self) -> None:
        """Take one token (call after :meth:`wait_needed` returned 0.0)."""
        self.tokens = max(0.0, self.tokens - 1.0)


def _bucket_shape(per_unit: float, unit_seconds: float) -> tuple[float, float]:
    if per_unit <= 0:
        raise ValueError("a rate limit must be positive")
    return per_unit / unit_seconds, max(1.0, per_unit)


class PostRateLimiter:
    """Decides whether a chat.postMessage into a channel may go through now. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._per_channel: float | None = None
        self._per_workspace_minute: float | None = None
        self._channels: dict[str, TokenBucket] = {}
        self._workspace: TokenBucket | None = None
        self.limited_count = 0

    def configure(self, *, per_channel_per_second: float | None, workspace_per_minute: float | None) -> None:
        """Set (or with ``None``, lift) each limit; starts every bucket full."""
        for value in (per_channel_per_second, workspace_per_minute):
            if value is not None:
                _bucket_shape(value, 1.0)
        with self._lock:
            self._per_channel = per_channel_per_second
            self._per_workspace_minute = workspace_per_minute
            self._channels.clear()
            self._workspace = None

    def admit(self, channel: str) -> int | None:
        """Spend a slot and return ``None``, or return the whole seconds to wait (at least 1)."""
        with self._lock:
            if self._per_channel is None and self._per_workspace_minute is None:
                return None
            now = self._clock()
            buckets: list[TokenBucket] = []
            if self._per_channel is not None:
                bucket = self._channels.get(channel)
                if bucket is None:
                    bucket = self._channels[channel] = TokenBucket(*_bucket_shape(self._per_channel, 1.0), now)
                buckets.append(bucket)
            if self._per_workspace_minute is not None:
                if self._workspace is None:
                    self._workspace = TokenBucket(*_bucket_shape(self._per_workspace_minute, 60.0), now)
                buckets.append(self._workspace)
            wait = max(bucket.wait_needed(now) for bucket in buckets)
            if wait > 0.0:
                self.limited_count += 1
                return max(1, math.ceil(wait - _EPSILON))
            for bucket in buckets:
                bucket.spend()
            return None

    def reset(self) -> None:
        """Refill every bucket and zero the count; keeps the configured limits."""
        with self._lock:
            self._channels.clear()
            self._workspace = None
            self.limited_count = 0
