"""A stand-in OpenAI-compatible chat completions server on loopback, with scripted replies.

It answers ``POST /v1/chat/completions`` the way OpenAI's API does (and Ollama, llama.cpp's
server and vLLM, which copy it): a ``chat.completion`` object whose ``choices[0].message``
holds the reply (OpenAI API reference, "The chat completion object",
platform.openai.com/docs/api-reference/chat/object), or for an error the status code with an
``{"error": {...}}`` body (platform.openai.com/docs/guides/error-codes: 429 for rate limits,
500 and 503 for server errors). Each test scripts what the next requests get; every request
is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass(frozen=True)
class Reply:
    content: str | None = None  # the assistant message's text
    status: int = 200
    delay: float = 0.0  # seconds before answering at all
    refusal: str | None = None  # OpenAI's refusal field (structured outputs)
    finish_reason: str = "stop"
    raw: bytes | None = None  # a body sent as is, instead of the chat.completion object
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(data: Any, **extra: Any) -> Reply:
    return Reply(content=json.dumps(data), **extra)


ERRORS = {
    429: {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"},
    500: {"message": "The server had an error while processing your request.", "type": "server_error"},
    503: {"message": "The engine is currently overloaded.", "type": "server_error"},
}


class StandInLLM:
    """``with StandInLLM() as llm:``; ``llm.url`` is the base URL (``.../v1``) for the client."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._script: deque[Reply | Callable[[dict[str, Any]], Reply]] = deque()
        self._default: Reply | Callable[[dict[str, Any]], Reply] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="standin-llm", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "StandInLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # wakes any reply still sleeping out its delay
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        """What the next requests get, in order (a callable gets the request's JSON)."""
        with self._lock:
            self._script.extend(replies)

    def always(self, reply: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        """What every request gets once the script has run out."""
        with self._lock:
            self._default = reply

    def wait_requests(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError(f"the stand-in LLM got {len(self.requests)} request(s), not {count}")

    def _next(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            step = self._script.popleft() if self._script else self._default
        if step is None:
            return Reply(status=500)
        return step(request) if callable(step) else step

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "Unknown request URL", "type": "invalid_request_error"}})
                    return
                request = json.loads(body or b"{}")
                request["_authorization"] = self.headers.get("Authorization")
                reply = owner._next(request)
                if reply.delay and owner._stopping.wait(reply.delay):
                    return
                if reply.raw is not None:
                    self._send_raw(reply.status, reply.raw, reply.headers)
                elif reply.status != 200:
                    self._send(reply.status, {"error": {**ERRORS.get(reply.status, {"message": "error"}),
                                                        "param": None}}, reply.headers)
                else:
                    self._send(200, _completion(request, reply), reply.headers)

            def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(data).encode(), headers or {})

            def _send_raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

        return Handler


def _completion(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": 1764806400,
        "model": request.get("model", ""),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply.content, "refusal": reply.refusal},
            "logprobs": None,
            "finish_reason": reply.finish_reason,
        }],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }
