"""The HTTP front: a small WSGI app for gunicorn.

``POST /slack/events`` takes slash commands, interactivity and events (Bolt
verifies the signature); ``GET /healthz`` reports the database's status.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import Executor
from http import HTTPStatus
from typing import Any, Callable, Iterable

from slack_bolt import App

from coachbot import inbound
from coachbot.jobs import JobRunner
from coachbot.storage.db import Database

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # Slack's payloads are far smaller; anything larger is not from Slack

StartResponse = Callable[..., Any]


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


class WebApp:
    def __init__(self, bolt: App, db: Database, executors: Iterable[Executor] = (), *,
                 signing_secret: str, events: App | None = None, jobs: JobRunner | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.bolt = bolt  # slash commands and interactivity (form-encoded)
        self.events = events or bolt  # the Events API (JSON): stored before it is acknowledged
        self.db = db
        self.executors = tuple(executors)
        self.jobs = jobs
        self.signing_secret = signing_secret  # checked here first, and again by Bolt
        self.wall_clock = wall_clock

    def close(self) -> None:
        """Let listeners that are still working after their ack finish, then release the database."""
        for pool in self.executors:  # listeners first: they may still hand work to the next pool
            pool.shutdown(wait=True)
        if self.jobs is not None:  # last: everything before may have submitted a job
            self.jobs.close()
        self.db.dispose()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path == "/slack/events" and method == "POST":
            return self._slack(environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            database = "ok" if self.db.ping() else "unavailable"
            return self._reply(start_response, 200, {"status": "ok", "database": database})
        if path in ("/slack/events", "/healthz"):
            return self._reply(start_response, 405, {"error": "method not allowed"})
        return self._reply(start_response, 404, {"error": "not found"})

    def _slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._reply(start_response, 400, {"error": "bad content length"})
        if length > MAX_BODY:
            return self._reply(start_response, 413, {"error": "body too large"})
        raw = environ["wsgi.input"].read(length) if length else b""
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").lower()] = value
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if not inbound.signature_ok(headers, raw, self.signing_secret, self.wall_clock()):
            return self._reply(start_response, 401, {"error": "invalid signature"})
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return self._reply(start_response, 400, {"error": "body is not UTF-8"})
        # Slack sends Events API deliveries as JSON and everything else form-encoded.
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        is_event = content_type == "application/json"
        problem = inbound.shape_problem(body, content_type)
        request = None
        if problem is None:
            request, problem = inbound.bolt_request(body, environ.get("QUERY_STRING", ""), headers)
        if problem is not None or request is None:
            log.warning("refused a signed request with a malformed payload: %s", problem)
            if is_event:
                # Acknowledged and dropped: Slack retries any other answer three times, and a payload
                # of the wrong shape will never become readable (see docs/slack-conformance.md).
                return self._reply(start_response, 200, {"ignored": problem})
            return self._reply(start_response, 400, {"error": problem})
        app = self.events if is_event else self.bolt
        response = app.dispatch(request)
        out_headers = [(name, value) for name, values in response.headers.items() for value in values]
        start_response(_status(response.status), out_headers)
        return [response.body.encode("utf-8") if isinstance(response.body, str) else response.body]

    @staticmethod
    def _reply(start_response: StartResponse, code: int, payload: dict[str, Any]) -> Iterable[bytes]:
        data = json.dumps(payload).encode()
        start_response(_status(code), [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]
