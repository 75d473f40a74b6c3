"""The one exception the stand-in raises inside a Web API method."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Web API method failed; the caller answers ``{"ok": false, "error": error}``.

    ``status`` is the HTTP status to answer with (Slack answers most errors
    with 200) and ``extra`` holds further top-level response fields.
    """

    def __init__(self, error: str, *, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra
