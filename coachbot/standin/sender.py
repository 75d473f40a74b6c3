"""``SlackSender``: playing Slack's side of a request to the app, signed like Slack signs it.

The target is either the app's HTTP URL on loopback (sent with urllib) or a
WSGI callable, called in-process with the environ a WSGI server would build,
so the app's signature check, body parsing and routing all run for real.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import ProxyHandler, Request, build_opener

from coachbot.standin.signing import sign as sign_headers

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

#: The User-Agent Slack sends with its requests to apps.
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class SentResponse:
    """What the app answered: status, headers (as sent) and raw body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: False when Slack would never have sent the request (status 0, ``body`` says why)
    delivered: bool = True

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """A response header, looked up case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


class SlackSender:
    """Sends bodies to the app as Slack would: POST, signed, with Slack's headers.

    ``target``: ``"http://127.0.0.1:PORT/slack/events"`` or a WSGI app
    (called with ``PATH_INFO`` = ``path``). ``clock`` gives the signing
    timestamp (Unix seconds).
    """

    def __init__(
        self,
        target: str | WsgiApp,
        signing_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        path: str = "/slack/events",
        timeout: float = 10.0,
    ) -> None:
        if isinstance(target, str):
            host = urlsplit(target).hostname
            if host not in _LOOPBACK_HOSTS:
                raise ValueError(f"SlackSender only sends to loopback, not {host!r}")
        self._target = target
        self._signing_secret = signing_secret
        self._clock = clock
        self._path = path
        self._timeout = timeout

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
        sign: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentResponse:
        """POST ``body`` and return the app's answer.

        ``sign=False`` sends no signature headers; ``secret`` signs with
        another secret; ``timestamp`` overrides the clock (e.g. a stale
        one); ``retry_num``/``retry_reason`` add Slack's retry headers.
        ``headers`` are added last and win.
        """
        sent: dict[str, str] = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        if sign:
            when = int(self._clock()) if timestamp is None else timestamp
            sent.update(sign_headers(body, self._signing_secret if secret is None else secret, when))
        if retry_num is not None:
            sent["X-Slack-Retry-Num"] = str(retry_num)
            sent["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        elif retry_reason is not None:
            sent["X-Slack-Retry-Reason"] = retry_reason
        sent.update(headers or {})
        if isinstance(self._target, str):
            return self._send_http(self._target, body, sent)
        return self._send_wsgi(self._target, body, sent)

    def _send_http(self, url: str, body: bytes, headers: dict[str, str]) -> SentResponse:
        opener = build_opener(ProxyHandler({}))
        request = Request(url, data=body, headers=headers, method="POST")
        try:
            with opener.open(request, timeout=self._timeout) as response:
                return SentResponse(response.status, dict(response.headers.items()), response.read())
        except HTTPError as error:
            with error:
                return SentResponse(error.code, dict(error.headers.items()), error.read())

    def _send_wsgi(self, app: WsgiApp, body: bytes, headers: dict[str, str]) -> SentResponse:
        environ = _environ(self._path, body, headers)
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = dict(response_headers)
            return written.append

        result = app(environ, start_response)
        try:
            chunks = [bytes(chunk) for chunk in result]
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()
        if "status" not in captured:
            raise RuntimeError("the WSGI app never called start_response")
        return SentResponse(captured["status"], captured["headers"], b"".join(written + chunks))


def _environ(path: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ
