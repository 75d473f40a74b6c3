"""coachbot's Socket Mode connection to Slack: one live WebSocket at a time, moved without a gap.

Why not slack_sdk's clients: measured against the stand-in (``python -m bench.socket_mode``,
figures in docs/benchmarks.md), its built-in client is deaf for up to 10 s after a close
frame (2.6-8.8 s measured) and about a minute after a TCP drop, spending CPU on the dead
socket meanwhile, and its websocket-client adapter is deaf 2 s after a close frame and never
notices a connection gone silent (it pings, but nothing checks for the pong). This client follows Slack's guide to Socket Mode without an SDK
(https://api.slack.com/apis/connections/socket-implement) on the ``websockets`` library's
threaded client:

- ``apps.connections.open`` with the app-level token gives a one-time URL; the connection
  is live once Slack's ``hello`` arrives.
- Each envelope goes to ``handle`` on a worker pool, and its acknowledgement (whatever
  ``handle`` returns) goes back on the connection it came from, or on the live one if that
  has closed meanwhile. ``handle`` returning None sends none, so Slack delivers it again.
- ``disconnect`` with ``warning`` or ``refresh_requested``: a new connection is opened
  first and the old one closed only once its envelopes are acknowledged, so there is no
  gap. A close frame, a TCP drop or a connection that stops answering pings
  (``PING_INTERVAL_S`` + ``PING_TIMEOUT_S``) is replaced at once.
- Failures to reconnect back off (``BACKOFF``, with jitter) while the process waits;
  ``too_many_websockets`` starts at the long end. A refused token (``invalid_auth`` and
  the like) or ``link_disabled`` is fatal: ``SocketModeRefused`` names what to check.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

log = logging.getLogger("coachbot.socketmode")
# websockets logs a lost connection as an ERROR with a traceback, and slack_sdk each failed request as
# an ERROR; this module says what happened in one line, so theirs go to a logger that keeps quiet.
quiet_log = logging.getLogger("coachbot.socketmode.wire")
quiet_log.setLevel(logging.CRITICAL)

PING_INTERVAL_S = 2.0  # our pings: a connection that stops answering is found within 4 s
PING_TIMEOUT_S = 2.0
CLOSE_TIMEOUT_S = 1.0  # for Slack's half of a close handshake
OPEN_TIMEOUT_S = 10.0  # TCP, TLS, WebSocket handshake and Slack's hello, each
RETIRE_WAIT_S = 5.0  # how long a connection being replaced may take to acknowledge what it holds
BACKOFF = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # seconds before each further attempt; the last repeats
TOO_MANY_START = 4  # too_many_websockets: start at BACKOFF[4]
MAX_ENVELOPE = 4 * 1024 * 1024  # Slack's payloads are far smaller

#: apps.connections.open errors that waiting will not fix (slack-ruby/slack-api-ref
#: methods/apps/apps.connections.open.json): the token is wrong, revoked or of the wrong kind.
REFUSED = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "token_expired",
                     "account_inactive", "missing_scope", "missing_args", "access_denied", "forbidden_team",
                     "invalid_token"})

Handle = Callable[[dict[str, Any]], "dict[str, Any] | None"]


class SocketModeRefused(Exception):
    """Slack refused the app's token or turned Socket Mode off: waiting will not help."""


class _Unavailable(Exception):
    """Slack could not be reached or answered with a transient error; try again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Link:
    """One WebSocket connection and the thread that reads it."""

    def __init__(self, number: int, ws: ClientConnection, on_message: Callable[["Link", str], None],
                 on_closed: Callable[["Link"], None]) -> None:
        self.number = number
        self.ws = ws
        self.hello = threading.Event()
        self.closed = threading.Event()
        self.settled = threading.Event()  # hello arrived, or the connection closed first
        self.retiring = False
        self.in_flight = 0  # envelopes received here and not yet acknowledged
        self._lock = threading.Lock()
        self._on_message = on_message
        self._on_closed = on_closed
        self._reader = threading.Thread(target=self._read, name=f"socket-mode-{number}", daemon=True)

    def start(self) -> None:
        self._reader.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                self._on_message(self, message if isinstance(message, str) else message.decode("utf-8", "replace"))
        except ConnectionClosed as closed:
            if closed.sent is not None and closed.sent.code == 1011:
                log.warning("the Socket Mode connection stopped answering pings; replacing it")
        except Exception:  # a bug in a callback must not leave a connection nobody reads
            log.exception("the Socket Mode reader failed; replacing the connection")
        finally:
            self.closed.set()
            self.settled.set()
            try:
                self.ws.close()
            except Exception:
                pass
            self._on_closed(self)

    def send(self, text: str) -> bool:
        try:
            self.ws.send(text)
            return True
        except (ConnectionClosed, OSError, RuntimeError):
            return False

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass

    def took(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta


class SocketModeClient:
    """Keeps one Socket Mode connection live until :meth:`stop`, handing envelopes to ``handle``.

    ``workers`` runs ``handle``; ``rng`` and ``sleep`` (an Event-like ``wait(seconds)``) are
    injected so back-off is testable."""

    def __init__(self, app_token: str, api_url: str, handle: Handle, workers: Executor, *,
                 rng: random.Random | None = None, ping_interval: float = PING_INTERVAL_S,
                 ping_timeout: float = PING_TIMEOUT_S, open_timeout: float = OPEN_TIMEOUT_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.app_token = app_token
        self.api = WebClient(base_url=api_url, timeout=open_timeout, logger=quiet_log)
        self.handle = handle
        self.workers = workers
        self.rng = rng or random.Random()
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.open_timeout = open_timeout
        self.monotonic = monotonic
        self.active: Link | None = None
        self.connections = 0  # opened so far
        self._numbers = 0
        self._events: queue.Queue[tuple[str, Link, str]] = queue.Queue()
        self._stopping = threading.Event()
        self._accepting = True
        self._links: set[Link] = set()
        self._lock = threading.Lock()
        self._fatal: SocketModeRefused | None = None
        self._too_many = False  # Slack said too_many_websockets: wait longer before the next attempt

    # Running

    def run(self, on_connected: Callable[[], None] | None = None,
            on_tick: Callable[[], None] = lambda: None) -> None:
        """Connect and stay connected until :meth:`request_stop` or :meth:`stop`, calling ``on_tick``
        at least twice a second; raises SocketModeRefused if Slack refuses."""
        failures = 0
        while not self._stopping.is_set():
            on_tick()
            if self._fatal is not None:
                raise self._fatal
            if self.active is None or self.active.closed.is_set():
                try:
                    self._replace_active()
                except _Unavailable as problem:
                    step = max(failures, TOO_MANY_START) if self._too_many else failures
                    delay = problem.retry_after if problem.retry_after is not None else self._backoff(step)
                    failures += 1
                    log.warning("cannot connect to Slack over Socket Mode (%s); trying again in %.0f s",
                                problem, delay)
                    wait_sliced(self._stopping, delay, on_tick)
                    continue
                if failures:
                    log.info("connected to Slack again over Socket Mode")
                failures, self._too_many = 0, False
                if on_connected is not None:
                    on_connected()
                    on_connected = None
            try:
                event, link, detail = self._events.get(timeout=0.5)
            except queue.Empty:
                continue
            if event == "move" and link is self.active and not self._stopping.is_set():
                log.info("Slack asked to move this connection (%s); opening another first", detail)
                try:
                    self._replace_active()
                except _Unavailable as problem:
                    log.warning("cannot open a new Socket Mode connection yet (%s); keeping the old one", problem)
            elif event == "closed" and link is self.active:
                log.info("the Socket Mode connection closed; reconnecting")
        if self._fatal is not None:
            raise self._fatal

    def stop_accepting(self) -> None:
        """Envelopes from now on are left unacknowledged (Slack delivers them to another connection)."""
        self._accepting = False

    def request_stop(self) -> None:
        """:meth:`run` returns soon; connections stay open (to acknowledge what is in hand) until :meth:`stop`."""
        self._accepting = False
        self._stopping.set()

    def stop(self) -> None:
        """Close every connection; :meth:`run` returns."""
        self._accepting = False
        self._stopping.set()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()
        for link in links:
            link.closed.wait(self.open_timeout)

    @property
    def live(self) -> bool:
        active = self.active
        return active is not None and active.hello.is_set() and not active.closed.is_set()

    # Connecting

    def _replace_active(self) -> None:
        new = self._open()
        old, self.active = self.active, new
        if old is not None and not old.closed.is_set():
            old.retiring = True
            threading.Thread(target=self._retire, args=(old,), name="socket-mode-retire", daemon=True).start()

    def _open(self) -> Link:
        url = self._issue_url()
        try:
            ws = connect(url, legacy=True, open_timeout=self.open_timeout, ping_interval=self.ping_interval,
                         ping_timeout=self.ping_timeout, close_timeout=CLOSE_TIMEOUT_S, max_size=MAX_ENVELOPE,
                         logger=quiet_log,
                         proxy=None if _loopback(url) else True)
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise _Unavailable(f"WebSocket: {type(exc).__name__}") from None
        self._numbers += 1
        link = Link(self._numbers, ws, self._on_message, self._on_closed)
        with self._lock:
            self._links.add(link)
        link.start()
        link.settled.wait(self.open_timeout)
        if not link.hello.is_set() or link.closed.is_set():
            link.close()
            raise _Unavailable("no hello from Slack")
        self.connections += 1
        return link

    def _issue_url(self) -> str:
        try:
            response = self.api.apps_connections_open(app_token=self.app_token)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            status = exc.response.status_code
            if error in REFUSED:
                raise SocketModeRefused(
                    f"Slack refused SLACK_APP_TOKEN ({error}): check it is the app-level token (xapp-...) "
                    "from Basic Information > App-Level Tokens, with the connections:write scope, "
                    "and that it has not been revoked.") from None
            retry_after = exc.response.headers.get("Retry-After") if status == 429 else None
            raise _Unavailable(f"apps.connections.open: {error or f'HTTP {status}'}",
                               float(retry_after) if retry_after and str(retry_after).isdigit() else None) from None
        except (URLError, OSError, TimeoutError) as exc:
            raise _Unavailable(f"Slack unreachable: {type(exc).__name__}") from None
        return str(response["url"])

    def _retire(self, link: Link) -> None:
        """Close a replaced connection once what it holds is acknowledged (or RETIRE_WAIT_S has passed)."""
        deadline = self.monotonic() + RETIRE_WAIT_S
        while link.in_flight > 0 and self.monotonic() < deadline and not link.closed.is_set():
            time.sleep(0.02)
        link.close()

    def _backoff(self, step: int) -> float:
        base = BACKOFF[min(step, len(BACKOFF) - 1)]
        return base * self.rng.uniform(0.8, 1.2)

    # What arrives (on each link's reader thread)

    def _on_message(self, link: Link, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            log.warning("ignored a Socket Mode message that is not a JSON object")
            return
        kind = message.get("type")
        if kind == "hello":
            link.hello.set()
            link.settled.set()
            return
        if kind == "disconnect":
            reason = str(message.get("reason", ""))
            if reason == "link_disabled":
                self._fatal = SocketModeRefused(
                    "Slack turned Socket Mode off for this app (link_disabled): turn it on again under "
                    "Settings > Socket Mode in the app's settings, or run coachbot serve (HTTP mode).")
                self._stopping.set()
            elif reason == "too_many_websockets":
                log.warning("Slack refused another connection: the app has too many open (at most 10)")
                self._too_many = True
            else:
                self._events.put(("move", link, reason or "no reason given"))
            return
        if not self._accepting:
            return  # not acknowledged: Slack gives it to another connection
        if not isinstance(message.get("envelope_id"), str):
            log.warning("ignored a Socket Mode message of type %r with no envelope_id", str(kind)[:40])
            return
        link.took(1)
        try:
            self.workers.submit(self._run, link, message)
        except RuntimeError:  # the pool is shutting down: leave it to Slack's redelivery
            link.took(-1)

    def _run(self, link: Link, message: dict[str, Any]) -> None:
        try:
            ack = self.handle(message)
            if ack is not None:
                text = json.dumps(ack)
                if not link.send(text):
                    active = self.active
                    if active is None or active is link or not active.send(text):
                        log.warning("could not acknowledge envelope %s: no connection", message["envelope_id"])
        finally:
            link.took(-1)

    def _on_closed(self, link: Link) -> None:
        with self._lock:
            self._links.discard(link)
        self._events.put(("closed", link, ""))


def wait_sliced(stop: threading.Event, seconds: float, on_tick: Callable[[], None], slice_s: float = 0.5) -> None:
    """Wait ``seconds`` or until ``stop`` is set, calling ``on_tick`` every ``slice_s``."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        stop.wait(min(slice_s, remaining))
        on_tick()


def _loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
