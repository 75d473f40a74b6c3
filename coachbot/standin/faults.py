"""Fault injection: make the next calls of a Web API method fail or stall."""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: The ``error`` string sent with an injected HTTP error status when none is given.
DEFAULT_ERRORS: dict[int, str] = {
    429: "ratelimited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}


@dataclass(frozen=True)
class Fault:
    """How to answer one faulted call.

    ``status`` 200 with an ``error`` gives ``{"ok": false, "error": error}``;
    another status gives that HTTP status (429 with a ``Retry-After``
    header). A fault with status 200 and no error only adds ``delay``, after
    which the call goes through normally (like a slow Slack: the client may
    time out although the message is posted). ``delay_after`` holds the
    answer back after the call has been handled and recorded: the post has
    landed, but the client does not know yet (a process killed in that
    window never learns its post went out).
    """

    method: str
    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    delay: float = 0.0
    channel: str | None = None
    delay_after: float = 0.0

    @property
    def fails(self) -> bool:
        """True when the call is answered with an error instead of going through."""
        return self.status != 200 or self.error is not None

    @property
    def error_code(self) -> str:
        """The ``error`` string of the response body."""
        return self.error or DEFAULT_ERRORS.get(self.status, f"http_{self.status}")


@dataclass
class _Pending:
    fault: Fault
    left: int


class FaultBook:
    """The pending faults, matched in the order they were added. Thread-safe."""

    def __init__(self) -> None:
        self._entries: list[_Pending] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault, times: int) -> None:
        """Apply ``fault`` to the next ``times`` matching calls (``-1``: until cleared)."""
        if times == 0 or times < -1:
            raise ValueError("times must be a positive count or -1 (forever)")
        with self._lock:
            self._entries.append(_Pending(fault, times))

    def take(self, method: str, channel: str | None) -> Fault | None:
        """Consume and return the first fault matching this call, if any."""
        with self._lock:
            for index, pending in enumerate(self._entries):
                fault = pending.fault
                if fault.method != method or (fault.channel is not None and fault.channel != channel):
                    continue
                if pending.left > 0:
                    pending.left -= 1
                    if pending.left == 0:
                        del self._entries[index]
                return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._entries.clear()
