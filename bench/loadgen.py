"""The load generator: signed ``/prep`` slash commands from concurrent keep-alive clients.

It runs in its own process (:class:`LoadGenerator`, a one-worker spawn pool
kept for the whole benchmark), so its CPU time and GIL are not the server's
nor the stand-in Slack's. Each of ``clients`` threads holds one keep-alive
``http.client`` connection and sends its share of the requests back to back;
a request's latency is from just before it is written to the socket to the
end of reading its response. Bodies are built and signed before the clock
starts for that request.
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

from coachbot.standin.requests import slash_command
from coachbot.standin.sender import USER_AGENT
from coachbot.standin.signing import sign

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class LoadSpec:
    """One run: where to send, what, and how many at once.

    ``requests`` holds ``(user_id, response_url)`` per request; the body is
    ``/prep <text>`` from that user in ``channel_id``.
    """

    port: int
    signing_secret: str
    team_id: str
    channel_id: str
    text: str
    requests: tuple[tuple[str, str], ...]
    clients: int = 16
    time_limit: float = 120.0  # seconds for the whole run; clients stop starting requests after it
    request_timeout: float = 10.0
    # None: closed loop, each client sends its next request as soon as the last is answered.
    # A rate (requests/s, all clients together): open loop, request n is due at start + n / rate,
    # and its latency counts from when it was due, so a server falling behind is charged for it.
    rate: float | None = None
    path: str = "/slack/events"
    command: str = "/prep"


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, requests answered 200
    statuses: dict[int, int] = field(default_factory=dict)  # HTTP status -> count
    failures: int = 0  # requests with no answer even after one reconnect
    reconnects: int = 0
    elapsed: float = 0.0  # seconds from the start signal to the last client finishing
    timed_out: bool = False
    sent_wall: dict[str, float] = field(default_factory=dict)  # response_url -> time.time() at send, for 200s
    # response_url -> time.time() when the request was due (open loop; the send time in a closed loop)
    due_wall: dict[str, float] = field(default_factory=dict)
    carried: set[str] = field(default_factory=set)  # response_urls whose 200 carried a message body
    latency_by_url: dict[str, float] = field(default_factory=dict)  # response_url -> latency, for 200s
    first_error: str = ""
    cpu_seconds: float = 0.0  # the load generator's own CPU time during the run (all its threads)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.failures


def run_load(spec: LoadSpec) -> LoadResult:
    """Send every request in ``spec`` and measure each; runs inside the load-generator process."""
    bodies = [
        slash_command(text=spec.text, user_id=user, team_id=spec.team_id, channel_id=spec.channel_id,
                      response_url=url, command=spec.command)[0]
        for user, url in spec.requests
    ]
    clients = max(1, min(spec.clients, len(bodies)))
    results = [LoadResult() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = [0.0]
    zero: list[float] = [0.0]  # time.perf_counter() at the start signal, for the open-loop schedule

    def client(index: int) -> None:
        mine = results[index]
        connection = http.client.HTTPConnection(LOOPBACK, spec.port, timeout=spec.request_timeout)
        try:
            start.wait(timeout=30)
            for n in range(index, len(bodies), clients):
                if time.monotonic() > stop_at[0]:
                    mine.timed_out = True
                    break
                body = bodies[n]
                due = zero[0] + n / spec.rate if spec.rate else None
                if due is not None:
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT,
                           **sign(body, spec.signing_secret, int(time.time()))}
                for attempt in (1, 2):
                    wall = time.time()
                    began = time.perf_counter()
                    try:
                        connection.request("POST", spec.path, body, headers)
                        response = connection.getresponse()
                        data = response.read()
                        took = time.perf_counter() - (began if due is None else due)
                    except (OSError, http.client.HTTPException) as error:
                        # Typically the server closed an idle keep-alive connection: reconnect once.
                        connection.close()
                        connection = http.client.HTTPConnection(LOOPBACK, spec.port, timeout=spec.request_timeout)
                        mine.reconnects += 1
                        if attempt == 2:
                            mine.failures += 1
                            mine.first_error = mine.first_error or f"{type(error).__name__}: {error}"
                        continue
                    mine.statuses[response.status] = mine.statuses.get(response.status, 0) + 1
                    if response.status == 200:
                        mine.latencies.append(took)
                        mine.sent_wall[spec.requests[n][1]] = wall
                        mine.latency_by_url[spec.requests[n][1]] = took
                        mine.due_wall[spec.requests[n][1]] = wall - (began - due if due is not None else 0.0)
                        if b'"blocks"' in data:
                            mine.carried.add(spec.requests[n][1])
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
        # Bounded: each request is bounded by request_timeout (twice with the reconnect).
        thread.join(timeout=max(0.0, stop_at[0] - time.monotonic()) + 2 * spec.request_timeout + 5)
    total = LoadResult(elapsed=time.monotonic() - began, cpu_seconds=time.process_time() - cpu_began)
    for part in results:
        total.latencies.extend(part.latencies)
        for status, count in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
        total.failures += part.failures
        total.reconnects += part.reconnects
        total.timed_out = total.timed_out or part.timed_out
        total.sent_wall.update(part.sent_wall)
        total.due_wall.update(part.due_wall)
        total.carried.update(part.carried)
        total.latency_by_url.update(part.latency_by_url)
        total.first_error = total.first_error or part.first_error
    if any(thread.is_alive() for thread in threads):
        total.timed_out = True
    return total


class LoadGenerator:
    """A separate process that runs :func:`run_load`, one run at a time."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))

    def run(self, spec: LoadSpec) -> LoadResult:
        future = self._pool.submit(run_load, spec)
        return future.result(timeout=spec.time_limit + 2 * spec.request_timeout + 60)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        # Start the process now, so spawning it is not inside the first run.
        self._pool.submit(time.sleep, 0).result(timeout=60)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def issue_requests(slack: object, count: int, *, users: int, channel_id: str, offset: int = 0
                   ) -> tuple[tuple[str, str], ...]:
    """``count`` (user, fresh response_url) pairs from the stand-in, users cycling through a pool.

    A pool of many people, not one, is closer to a real workspace and keeps
    each person's rotation and the stand-in's per-person ephemerals small.
    """
    issued = []
    for n in range(offset, offset + count):
        user = f"U{n % users:07d}"
        issued.append((user, slack.new_response_url(user_id=user, channel_id=channel_id)))  # type: ignore[attr-defined]
    return tuple(issued)
