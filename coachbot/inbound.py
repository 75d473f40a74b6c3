"""What arrives at POST /slack/events, checked before Bolt sees it.

The signature is verified first, on the raw bytes (Bolt verifies it again), so an
unsigned or forged request is a 401 whatever its body holds, and nothing of it is
parsed or logged. Then the payload's shape is checked: Slack always sends objects
where Bolt and the listeners expect objects, so a body that doesn't is not from
Slack, and gets a 400 instead of an exception deep inside Bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote_plus

MAX_SKEW_SECONDS = 300  # Slack's advice: refuse requests more than five minutes old (or early)


def signature_ok(headers: Mapping[str, str], body: bytes, secret: str, now: float) -> bool:
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isdigit() and signature.startswith("v0=")):
        return False
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def shape_problem(body: str, content_type: str) -> str | None:
    """None if the payload has the shape Slack sends; else a short reason for the 400."""
    if content_type == "application/json":
        return _event_problem(_json(body))
    if "payload" not in unquote_plus(body):
        return None  # a slash command: flat text fields, read with .get(); no need to parse them twice
    form = parse_qs(body, keep_blank_values=True)
    if "payload" not in form:
        return None
    return _interaction_problem(_json(form["payload"][0]))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _INVALID


_INVALID = object()


def _event_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "the body is not a JSON object"
    if not isinstance(data.get("type"), str):
        return "type is missing"
    if data["type"] == "event_callback":
        if not isinstance(data.get("event"), dict) or not isinstance(data["event"].get("type"), str):
            return "event is not an object with a type"
        if not isinstance(data.get("event_id"), str) or not isinstance(data.get("team_id"), str):
            return "event_id or team_id is missing"
    return None


def _interaction_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "payload is not a JSON object"
    if not isinstance(data.get("type"), str):
        return "type is missing"
    for key in ("team", "user", "view", "container", "channel", "message"):
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            return f"{key} is not an object"
    if "actions" in data:
        actions = data["actions"]
        if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
            return "actions is not a list of objects"
    view = data.get("view") or {}
    if "state" in view:
        state = view["state"]
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            return "view.state is not an object"
        if not all(isinstance(v, dict) for v in state.get("values", {}).values()):
            return "view.state.values holds a non-object"
    if "private_metadata" in view and not isinstance(view["private_metadata"], str):
        return "view.private_metadata is not text"
    return None


def envelope_problem(kind: Any, payload: Any) -> str | None:
    """The same check for a Socket Mode envelope's payload (parsed JSON): None if it has the
    shape Slack sends for that envelope type, else a short reason."""
    if kind == "events_api":
        return _event_problem(payload)
    if kind == "interactive":
        return _interaction_problem(payload)
    if kind == "slash_commands":
        # A slash command's fields, as an object of text (https://api.slack.com/interactivity/slash-commands).
        if not isinstance(payload, dict) or not all(isinstance(value, str) for value in payload.values()):
            return "payload is not an object of text fields"
        return None
    return "unknown envelope type"
