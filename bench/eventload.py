"""The Events API load generator: signed ``reaction_added`` / ``reaction_removed`` deliveries.

Like :mod:`bench.loadgen` (which sends slash commands) it runs in its own
process (:class:`EventLoadGenerator`, a one-worker spawn pool kept for the
whole benchmark), so its CPU time and GIL are not the server's. Each of
``clients`` threads holds one keep-alive ``http.client`` connection and sends
its share of the deliveries; a delivery's latency is from just before it is
written to the socket to the end of reading its response (open loop: from
when it was due). Bodies are built before the clock starts and signed just
before each is sent, with the current time, as Slack does.
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from coachbot.standin.requests import event_callback, reaction_added, reaction_removed
from coachbot.standin.sender import USER_AGENT
from coachbot.standin.signing import sign

LOOPBACK = "127.0.0.1"

#: One delivery: (kind, reacting user, emoji, channel, message ts, event id); kind is "added" or "removed".
Delivery = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class EventLoadSpec:
    port: int
    signing_secret: str
    team_id: str
    deliveries: tuple[Delivery, ...]
    clients: int = 16
    time_limit: float = 120.0  # seconds; clients stop starting deliveries after it
    request_timeout: float = 10.0
    rate: float | None = None  # None: closed loop; else deliveries/s offered by all clients together
    path: str = "/slack/events"


@dataclass
class EventLoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, deliveries answered 2xx
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0  # no answer even after one reconnect
    reconnects: int = 0
    elapsed: float = 0.0
    timed_out: bool = False
    acked: list[int] = field(default_factory=list)  # indexes into deliveries answered 2xx
    not_sent: int = 0  # deliveries never started (time limit)
    first_error: str = ""
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.failures


def _body(delivery: Delivery, team_id: str, event_time: int) -> bytes:
    kind, user, emoji, channel, ts, event_id = delivery
    build = reaction_added if kind == "added" else reaction_removed
    event = build(user, emoji, channel, ts, event_ts=f"{event_time}.000100")
    return event_callback(event=event, team_id=team_id, event_id=event_id, event_time=event_time)[0]


def run_events(spec: EventLoadSpec) -> EventLoadResult:
    """Send every delivery in ``spec`` and time each; runs inside the load-generator process."""
    now = int(time.time())
    bodies = [_body(d, spec.team_id, now) for d in spec.deliveries]
    clients = max(1, min(spec.clients, len(bodies)))
    results = [EventLoadResult() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = [0.0]
    zero: list[float] = [0.0]

    def client(index: int) -> None:
        mine = results[index]
        connection = http.client.HTTPConnection(LOOPBACK, spec.port, timeout=spec.request_timeout)
        try:
            start.wait(timeout=30)
            for n in range(index, len(bodies), clients):
                if time.monotonic() > stop_at[0]:
                    mine.timed_out = True
                    mine.not_sent += len(range(n, len(bodies), clients))
                    break
                body = bodies[n]
                due = zero[0] + n / spec.rate if spec.rate else None
                if due is not None:
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                           **sign(body, spec.signing_secret, int(time.time()))}
                for attempt in (1, 2):
                    began = time.perf_counter()
                    try:
                        connection.request("POST", spec.path, body, headers)
                        response = connection.getresponse()
                        response.read()
                        took = time.perf_counter() - (began if due is None else due)
                    except (OSError, http.client.HTTPException) as error:
                        connection.close()
                        connection = http.client.HTTPConnection(LOOPBACK, spec.port, timeout=spec.request_timeout)
                        mine.reconnects += 1
                        if attempt == 2:
                            mine.failures += 1
                            mine.first_error = mine.first_error or f"{type(error).__name__}: {error}"
                        continue
                    mine.statuses[response.status] = mine.statuses.get(response.status, 0) + 1
                    if 200 <= response.status < 300:
                        mine.latencies.append(took)
                        mine.acked.append(n)
                    elif not mine.first_error:
                        mine.first_error = f"HTTP {response.status}"
                    if response.will_close:
                        connection.close()
                        connection = http.client.HTTPConnection(LOOPBACK, spec.port, timeout=spec.request_timeout)
                        mine.reconnects += 1
                    break
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}", daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + spec.time_limit
    zero[0] = time.perf_counter()
    start.wait(timeout=30)
    began = time.monotonic()
    cpu_began = time.process_time()
    for thread in threads:
        thread.join(timeout=max(0.0, stop_at[0] - time.monotonic()) + 2 * spec.request_timeout + 5)
    total = EventLoadResult(elapsed=time.monotonic() - began, cpu_seconds=time.process_time() - cpu_began)
    for part in results:
        total.latencies.extend(part.latencies)
        for status, count in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
        total.failures += part.failures
        total.reconnects += part.reconnects
        total.timed_out = total.timed_out or part.timed_out
        total.acked.extend(part.acked)
        total.not_sent += part.not_sent
        total.first_error = total.first_error or part.first_error
    if any(thread.is_alive() for thread in threads):
        total.timed_out = True
    return total


class EventLoadGenerator:
    """A separate process that runs :func:`run_events`, one run at a time."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))

    def run(self, spec: EventLoadSpec) -> EventLoadResult:
        future = self._pool.submit(run_events, spec)
        return future.result(timeout=spec.time_limit + 2 * spec.request_timeout + 60)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        self._pool.submit(time.sleep, 0).result(timeout=60)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
