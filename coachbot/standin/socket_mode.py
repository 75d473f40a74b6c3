"""``StandInSocketMode``: Slack's side of Socket Mode, a WebSocket server on 127.0.0.1.

Slack's Socket Mode (https://api.slack.com/apis/socket-mode, and the protocol without an
SDK: https://api.slack.com/apis/connections/socket-implement) works like this, and so does
this stand-in:

- The app calls ``apps.connections.open`` with its app-level token (``xapp-...``) and gets a
  single-use ``wss://`` URL (https://api.slack.com/methods/apps.connections.open; errors as
  in slack-ruby/slack-api-ref ``methods/apps/apps.connections.open.json``: a bot token is
  ``not_allowed_token_type``, a wrong app token ``invalid_auth``). The stand-in answers that
  method on ``StandInSlack``'s Web API once :meth:`StandInSocketMode.start` has attached it.
- On connecting, Slack sends ``{"type": "hello", "num_connections", "debug_info",
  "connection_info": {"app_id"}}``.
- Payloads arrive in envelopes ``{"envelope_id", "type", "payload",
  "accepts_response_payload", "retry_attempt", "retry_reason"}`` where ``type`` is
  ``slash_commands`` (the payload is the slash command's fields as an object),
  ``interactive`` (the interaction payload) or ``events_api`` (the ``event_callback``).
- The app acknowledges each with ``{"envelope_id", "payload"?}`` on the socket within 3
  seconds; the payload is what an HTTP app would answer in its response body.
- Slack asks the app to move with ``{"type": "disconnect", "reason": ...}``: ``warning``
  (this connection closes in about 10 seconds), ``refresh_requested`` (reconnect now),
  ``link_disabled`` (Socket Mode was turned off for the app) and ``too_many_websockets``
  (an app may hold at most 10 connections; Slack sends this to the one over the limit and
  closes it). Slack routes each payload to one of the app's open connections.

What the stand-in models beyond the documents, as the issue this was built for describes
Slack's observed behaviour: an envelope sent on a connection that is lost (closed, dropped
or gone silent) before it was acknowledged is delivered again on another connection with the
same ``envelope_id`` and ``retry_attempt`` one higher, so nothing is lost and the app must
not handle it twice. A connection that was told ``warning`` or ``refresh_requested`` gets no
new envelopes (they wait for, or go to, the app's other connections) and is closed
``close_after`` seconds later.

Faults for tests: :meth:`close` (a close frame), :meth:`disconnect` (a ``disconnect``
message), :meth:`drop` (TCP FIN, no close frame), :meth:`silence` (stop reading and writing:
no pongs, no acks), :meth:`send_raw` (anything, e.g. a malformed envelope). ``StandInSlack``'s
own ``fail(...)`` makes ``apps.connections.open`` or any Web API method fail or slow down.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from coachbot.standin.model import JsonDict
from coachbot.standin.server import StandInSlack

#: Slack waits this long for an acknowledgement (https://api.slack.com/apis/connections/socket-implement).
ACK_TIMEOUT_S = 3.0
#: Connections an app may hold at once (https://api.slack.com/apis/socket-mode).
MAX_CONNECTIONS = 10
#: How long Slack keeps a connection it warned about open (``warning``: "in about 10 seconds").
WARNING_CLOSE_AFTER_S = 10.0

SLASH_COMMANDS, INTERACTIVE, EVENTS_API = "slash_commands", "interactive", "events_api"
DISCONNECT_REASONS = frozenset({"warning", "refresh_requested", "link_disabled", "too_many_websockets"})


@dataclass(frozen=True)
class Ack:
    """One acknowledgement the app sent: which envelope, its payload, on which connection, when."""

    envelope_id: str
    payload: JsonDict | None
    connection: str
    at: float


@dataclass(frozen=True)
class Connection:
    """A connection as it is now: ``open``, ``retiring`` (told to move), ``silent`` or ``closed``."""

    id: str
    state: str
    opened_at: float
    closed_at: float | None


@dataclass
class _Link:
    id: str
    ws: ServerConnection
    opened_at: float
    state: str = "open"
    closed_at: float | None = None

    def snapshot(self) -> Connection:
        return Connection(self.id, self.state, self.opened_at, self.closed_at)


@dataclass
class Delivery:
    """An envelope on its way: :meth:`wait` for the app's acknowledgement."""

    envelope: JsonDict
    copies: int = 1
    sent_on: list[str] = field(default_factory=list)
    ack: Ack | None = None
    _unsent: bool = True
    _done: threading.Event = field(default_factory=threading.Event)

    @property
    def envelope_id(self) -> str:
        return str(self.envelope["envelope_id"])

    def wait(self, timeout: float = ACK_TIMEOUT_S) -> Ack | None:
        """The first acknowledgement, or None if none came within ``timeout`` seconds."""
        self._done.wait(timeout)
        return self.ack


#: Marks an answer from wsgi_target whose reply the Socket Mode stand-in already showed.
SHOWN_HEADER = "X-Standin-Reply-Shown"


def envelope(kind: str, payload: JsonDict, *, envelope_id: str | None = None, retry_attempt: int = 0,
             retry_reason: str = "", accepts_response_payload: bool | None = None) -> JsonDict:
    """An envelope as Slack shapes it (https://api.slack.com/apis/connections/socket-implement)."""
    if accepts_response_payload is None:
        # Slash commands and modal submissions can be answered in the ack; events cannot.
        accepts_response_payload = kind == SLASH_COMMANDS or (
            kind == INTERACTIVE and payload.get("type") in ("view_submission", "block_suggestion"))
    found: JsonDict = {"envelope_id": envelope_id or str(uuid.uuid4()), "type": kind, "payload": payload,
                       "accepts_response_payload": accepts_response_payload}
    if kind == EVENTS_API:
        found.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
    return found


class StandInSocketMode:
    """Slack's Socket Mode server for one app, attached to a running ``StandInSlack``."""

    def __init__(self, slack: StandInSlack, *, app_token: str = "xapp-1-A0STANDIN-standin",
                 max_connections: int = MAX_CONNECTIONS, clock: Callable[[], float] = time.monotonic) -> None:
        self.slack = slack
        self.app_token = app_token
        self.max_connections = max_connections
        self.clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._links: dict[str, _Link] = {}
        self._ids = itertools.count(1)
        self._tickets: set[str] = set()
        self._pending: dict[str, Delivery] = {}
        self._acks: list[Ack] = []
        self._received: list[Any] = []  # every message from the app, parsed where it parses
        self._rotation = 0
        self._refused: list[str] = []  # why connection attempts were turned away
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # Lifecycle

    def start(self) -> StandInSocketMode:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="standin-socket-mode", daemon=True)
        self._thread.start()
        ready.wait(10)
        assert self._port, "the Socket Mode stand-in did not start"
        self.slack.attach_socket_mode(self)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        self.slack.detach_socket_mode(self)
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> StandInSocketMode:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    # apps.connections.open (called by StandInSlack's Web API)

    def new_url(self) -> str:
        """A single-use WebSocket URL, like the ``url`` apps.connections.open returns."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self.slack.app_id}"

    # What the test sees

    def connections(self, state: str | None = None) -> list[Connection]:
        with self._lock:
            return [link.snapshot() for link in self._links.values() if state is None or link.state == state]

    def wait_connections(self, count: int, timeout: float = 10.0, *, state: str = "open") -> list[Connection]:
        """Wait until at least ``count`` connections are in ``state``; return them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [link.snapshot() for link in self._links.values() if link.state == state]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(found)} {state} Socket Mode connection(s), wanted {count}")
                self._changed.wait(remaining)

    @property
    def acks(self) -> list[Ack]:
        with self._lock:
            return list(self._acks)

    def acks_for(self, envelope_id: str) -> list[Ack]:
        return [ack for ack in self.acks if ack.envelope_id == envelope_id]

    @property
    def received(self) -> list[Any]:
        """Everything the app sent, parsed as JSON where it parses."""
        with self._lock:
            return list(self._received)

    @property
    def refused(self) -> list[str]:
        """Why connection attempts were turned away (``bad_ticket``, ``too_many_websockets``)."""
        with self._lock:
            return list(self._refused)

    def pending(self) -> list[Delivery]:
        """Envelopes not acknowledged yet."""
        with self._lock:
            return [d for d in self._pending.values() if d.ack is None]

    # Delivering

    def send(self, kind: str, payload: JsonDict, *, copies: int = 1, **options: Any) -> Delivery:
        """Send one envelope (``envelope(...)``'s options); ``copies=2`` sends the same envelope
        to two connections at once, as a redelivery racing the first delivery would."""
        return self.send_envelope(envelope(kind, payload, **options), copies=copies)

    def send_envelope(self, found: JsonDict, *, copies: int = 1) -> Delivery:
        delivery = Delivery(found, copies=copies)
        with self._lock:
            self._pending[delivery.envelope_id] = delivery
        self._kick()
        return delivery

    def deliver(self, kind: str, payload: JsonDict, *, timeout: float = 10.0, **options: Any) -> Ack:
        """Send and wait for the acknowledgement; AssertionError if none comes."""
        delivery = self.send(kind, payload, **options)
        ack = delivery.wait(timeout)
        if ack is None:
            raise AssertionError(f"no acknowledgement of {kind} envelope {delivery.envelope_id} within {timeout}s")
        return ack

    # Faults

    def close(self, connection: str | None = None, *, code: int = 1000, reason: str = "") -> None:
        """Close a connection (the newest open one by default) with a close frame."""
        link = self._pick(connection)
        self._call(link.ws.close(code, reason))

    def disconnect(self, reason: str, connection: str | None = None, *, close_after: float | None = None) -> None:
        """Send ``{"type": "disconnect", "reason": ...}`` and stop routing envelopes to the connection;
        close it ``close_after`` seconds later (``warning``: 10 s; else 1 s; ``link_disabled`` at once)."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"unknown disconnect reason {reason!r}")
        link = self._pick(connection)
        if close_after is None:
            close_after = {"warning": WARNING_CLOSE_AFTER_S, "link_disabled": 0.0}.get(reason, 1.0)
        with self._changed:
            link.state = "retiring"
            self._changed.notify_all()
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}
        self._call(link.ws.send(json.dumps(message)))
        self._later(close_after, lambda: asyncio.ensure_future(link.ws.close()))

    def drop(self, connection: str | None = None) -> None:
        """End the TCP connection with no close frame (FIN), as a network drop does."""
        link = self._pick(connection)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(link.ws.transport.close)

    def silence(self, connection: str | None = None) -> None:
        """Stop reading from and writing to the connection: no pongs, no acks read, no envelopes.
        Envelopes sent on it and not acknowledged are delivered again elsewhere."""
        link = self._pick(connection)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(link.ws.transport.pause_reading)
        self._lost(link, "silent")

    def send_raw(self, text: str, connection: str | None = None) -> None:
        """Send anything on a connection (a malformed envelope, say)."""
        link = self._pick(connection)
        self._call(link.ws.send(text))

    # For SlackDriver: the HTTP bodies it builds become envelopes

    def wsgi_target(self, *, timeout: float = 10.0) -> Callable[..., Iterable[bytes]]:
        """A WSGI callable that turns what ``SlackDriver`` sends (a slash command, an interaction,
        an ``event_callback``) into the envelope Slack would send over Socket Mode, waits for the
        app's acknowledgement and answers with its payload (200), or 504 if none came."""
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("utf-8")
            retry = environ.get("HTTP_X_SLACK_RETRY_NUM")
            kind, payload = envelope_payload(body, environ.get("CONTENT_TYPE", ""))
            options: dict[str, Any] = {}
            if kind == EVENTS_API and retry:
                options = {"retry_attempt": int(retry), "retry_reason": environ.get("HTTP_X_SLACK_RETRY_REASON", "")}
            ack = self.send(kind, payload, **options).wait(timeout)
            if ack is None:
                start_response("504 Gateway Timeout", [("Content-Type", "text/plain")])
                return [b"no acknowledgement"]
            data = json.dumps(ack.payload).encode() if ack.payload else b""
            # The stand-in has shown a command's reply already (_show_reply): the driver must not again.
            start_response("200 OK", [("Content-Type", "application/json" if data else "text/plain"),
                                      ("Content-Length", str(len(data))), (SHOWN_HEADER, "1")])
            return [data]

        return app

    # The server (runs on the stand-in's own event loop thread)

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            # No server pings: Slack's side is not modelled by them; the app's own pings are answered.
            self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._check_ticket,
                                       ping_interval=None, close_timeout=2)
            self._port = self._server.sockets[0].getsockname()[1]
            ready.set()

        loop.run_until_complete(boot())
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        with self._lock:
            links = list(self._links.values())
        for link in links:
            link.ws.transport.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _check_ticket(self, connection: ServerConnection, request: Any) -> Any:
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._lock:
            if ticket in self._tickets:
                self._tickets.discard(ticket)  # single use, as apps.connections.open's URLs are
                return None
            self._refused.append("bad_ticket")
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")

    async def _handler(self, ws: ServerConnection) -> None:
        with self._changed:
            live = sum(1 for link in self._links.values() if link.state in ("open", "retiring"))
            over = live >= self.max_connections
            if over:
                self._refused.append("too_many_websockets")
            else:
                link = _Link(f"c{next(self._ids)}", ws, self.clock())
                self._links[link.id] = link
        if over:
            message = {"type": "disconnect", "reason": "too_many_websockets", "debug_info": {"host": "applink-standin"}}
            await ws.send(json.dumps(message))
            await ws.close()
            return
        hello = {"type": "hello", "num_connections": live + 1,
                 "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
                 "connection_info": {"app_id": self.slack.app_id}}
        await ws.send(json.dumps(hello))
        with self._changed:
            self._changed.notify_all()
        self._dispatch()
        try:
            async for message in ws:
                self._on_message(link, message)
        except ConnectionClosed:
            pass
        finally:
            self._lost(link, "closed")

    def _on_message(self, link: _Link, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        with self._changed:
            self._received.append(data if data is not None else message)
            if isinstance(data, dict) and isinstance(data.get("envelope_id"), str):
                payload = data.get("payload") if isinstance(data.get("payload"), dict) else None
                ack = Ack(data["envelope_id"], payload, link.id, self.clock())
                self._acks.append(ack)
                delivery = self._pending.get(ack.envelope_id)
                if delivery is not None and delivery.ack is None:
                    delivery.ack = ack
                    del self._pending[ack.envelope_id]
                    self._show_reply(delivery, ack)
                    delivery._done.set()
            self._changed.notify_all()

    def _show_reply(self, delivery: Delivery, ack: Ack) -> None:
        """A slash command's ack payload is its reply, shown as over HTTP ("Responding to slash
        commands": the acknowledgement's payload is the response, https://api.slack.com/apis/socket-mode)."""
        sent = delivery.envelope.get("payload") or {}
        if delivery.envelope.get("type") != SLASH_COMMANDS or not ack.payload or not isinstance(sent, dict):
            return
        if ack.payload.get("text") or ack.payload.get("blocks"):
            url = sent.get("response_url")
            if isinstance(url, str) and url.startswith(self.slack.base_url):
                self.slack.show_ack_reply(url, ack.payload)

    def _lost(self, link: _Link, state: str) -> None:
        """The connection is gone for deliveries: what it held unacknowledged goes out again."""
        with self._changed:
            already_lost = link.state in ("closed", "silent")
            link.state = "closed" if state == "closed" else link.state if already_lost else state
            link.closed_at = link.closed_at or self.clock()
            for delivery in self._pending.values():
                if not already_lost and delivery.ack is None and link.id in delivery.sent_on:
                    delivery._unsent = True
                    delivery.sent_on.remove(link.id)
                    if delivery.envelope.get("type") == EVENTS_API:
                        delivery.envelope = {**delivery.envelope,
                                             "retry_attempt": int(delivery.envelope.get("retry_attempt", 0)) + 1,
                                             "retry_reason": "connection_lost"}
            self._changed.notify_all()
        self._kick()

    def _dispatch(self) -> None:
        """Send every unsent envelope to open connections, round robin (on the loop's thread)."""
        with self._lock:
            open_links = [link for link in self._links.values() if link.state == "open"]
            if not open_links:
                return
            sends: list[tuple[_Link, str]] = []
            for delivery in self._pending.values():
                if not delivery._unsent:
                    continue
                delivery._unsent = False
                targets = []
                for _ in range(min(delivery.copies, len(open_links))):
                    targets.append(open_links[self._rotation % len(open_links)])
                    self._rotation += 1
                text = json.dumps(delivery.envelope)
                for link in targets:
                    delivery.sent_on.append(link.id)
                    sends.append((link, text))
        for link, text in sends:
            asyncio.ensure_future(self._send(link, text))

    async def _send(self, link: _Link, text: str) -> None:
        try:
            await link.ws.send(text)
        except ConnectionClosed:
            self._lost(link, "closed")

    def _kick(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._dispatch)

    def _call(self, coroutine: Any) -> Any:
        assert self._loop is not None, "the Socket Mode stand-in is not running"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def _later(self, seconds: float, callback: Callable[[], Any]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(lambda: self._loop.call_later(seconds, callback))  # type: ignore[union-attr]

    def _pick(self, connection: str | None) -> _Link:
        with self._lock:
            if connection is not None:
                return self._links[connection]
            live = [link for link in self._links.values() if link.state == "open"]
        if not live:
            raise AssertionError("no open Socket Mode connection")
        return live[-1]


def envelope_payload(body: str, content_type: str) -> tuple[str, JsonDict]:
    """The envelope type and payload for an HTTP body Slack would have sent an HTTP app."""
    if content_type.split(";")[0].strip() == "application/json":
        return EVENTS_API, json.loads(body)
    form = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in form:
        return INTERACTIVE, json.loads(form["payload"])
    return SLASH_COMMANDS, form
