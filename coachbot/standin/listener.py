"""The loopback HTTP listener under the stand-in Slack.

A ``ThreadingHTTPServer`` bound to 127.0.0.1 on an ephemeral port, serving
``/api/<method>`` and ``/respond/<token>`` from a background thread and
handing each request to a :class:`Routes` object. HTTP/1.0, one request per
connection, so stopping never waits on an idle keep-alive connection.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, payload: Mapping[str, Any], headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        """A JSON answer."""
        return cls(status, json.dumps(payload).encode("utf-8"), headers=headers)

    @classmethod
    def text(cls, status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        """A plain-text answer (what Slack's response_urls send)."""
        return cls(status, text.encode("utf-8"), "text/html; charset=utf-8", headers)


class Routes(Protocol):
    """What the listener hands requests to. Header names arrive lower-cased."""

    def handle_api(self, method: str, headers: Mapping[str, str], body: bytes, query: str) -> Reply:
        """Answer ``/api/<method>``."""
        ...

    def handle_response_url(self, token: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer a POST to ``/respond/<token>``."""
        ...


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True
    # Many clients connect at once in benchmarks; the default backlog of 5
    # makes the sixth wait for a SYN retry (a full second).
    request_queue_size = 128

    def __init__(self, routes: Routes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes

    def handle_error(self, request: Any, client_address: Any) -> None:
        _log.debug("stand-in Slack: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    # A client that stalls mid-request must not keep stop() waiting forever.
    timeout = 30

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch()

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        return

    def _dispatch(self) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        routes = self.server.routes
        try:
            if target.path.startswith("/api/"):
                reply = routes.handle_api(target.path[len("/api/") :], headers, body, target.query)
            elif target.path.startswith("/respond/") and self.command == "POST":
                reply = routes.handle_response_url(target.path[len("/respond/") :], headers, body)
            else:
                reply = Reply.json(404, {"ok": False, "error": "not_found"})
        except Exception:
            _log.exception("stand-in Slack failed on %s %s", self.command, self.path)
            reply = Reply.json(500, {"ok": False, "error": "standin_internal_error"})
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            _log.debug("stand-in Slack: client left before the answer to %s", self.path)


class LoopbackListener:
    """Serves :class:`Routes` on ``127.0.0.1:<ephemeral port>`` until stopped."""

    def __init__(self, routes: Routes) -> None:
        self._routes = routes
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port; raises ``RuntimeError`` when not listening."""
        if self._server is None:
            raise RuntimeError("the stand-in Slack is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    def start(self) -> None:
        """Bind and start serving in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        server = _HttpServer(self._routes)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="standin-slack", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop serving, wait for in-flight requests, and close the socket. Idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()
