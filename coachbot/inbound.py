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

from slack_bolt.request import BoltRequest

from coachbot import shapes

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
        return _command_problem(_fields(body))
    form = parse_qs(body, keep_blank_values=True)
    if "payload" not in form:
        return _command_problem(_fields(body))
    return _interaction_problem(_json(form["payload"][0]))


#: What every slash command carries (https://docs.slack.dev/interactivity/implementing-slash-commands,
#: "the payload"); coachbot answers through response_url, so a command without one can't be answered.
COMMAND_FIELDS = ("command", "team_id", "user_id", "channel_id", "response_url")


#: Keys that name objects in Slack's payloads; in a flat form (a command, an ssl_check) they can only be
#: text, which Bolt's readers would take for the object.
OBJECT_KEYS = ("team", "user", "channel", "view", "event", "message", "enterprise", "authorizations", "item",
               "container", "actions", "previous_message", "assistant_thread", "function_data", "response_urls")


def _fields(body: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


def _command_problem(form: Mapping[str, str]) -> str | None:
    clash = [key for key in OBJECT_KEYS if key in form]
    if clash:
        return f"a form field named {clash[0]}"
    if "ssl_check" in form or "command" not in form:
        return None  # Slack's ssl_check, or not a command at all (Bolt answers what it doesn't know)
    missing = [name for name in COMMAND_FIELDS if not (form.get(name) or "").strip()]
    if missing:
        return f"the command has no {', '.join(missing)}"
    odd = [name for name in ("team_id", "user_id", "channel_id", "enterprise_id")
           if form.get(name) and not shapes.SLACK_ID.fullmatch(form[name])]
    if odd:
        return f"{odd[0]} is not in Slack's form"
    return None if _is_url(form["response_url"]) else "response_url is not a URL"


def _is_url(value: Any) -> bool:
    """Slack's response_urls are https URLs (the stand-in's are http on loopback)."""
    return isinstance(value, str) and value.startswith(("https://", "http://")) and " " not in value


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
    return shapes.problem(data, shapes.ANY_BODY + shapes.JSON_TYPES.get(data["type"], ()))


def _interaction_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "payload is not a JSON object"
    found = shapes.problem(data, shapes.ANY_BODY + shapes.INTERACTION
                           + shapes.INTERACTION_TYPES.get(str(data.get("type")), ()))
    if found:
        return found
    if "actions" in data and not data["actions"]:
        return "actions is empty"  # Bolt's matchers read actions[0]
    if data.get("type") == "block_actions" and (data.get("container") or {}).get("type") == "message" \
            and "response_url" not in data:
        # A click on a message always comes with one (interaction payloads reference); the listeners answer there.
        return "response_url is missing"
    urls = [data.get("response_url", "https://")] + [u["response_url"] for u in data.get("response_urls", [])]
    return None if all(_is_url(url) for url in urls) else "a response_url is not a URL"


#: What Bolt reads into a request's context, and must be text (or absent) for the listeners,
#: the authorisation and the logging that use it.
CONTEXT_TEXT = ("team_id", "user_id", "channel_id", "enterprise_id", "thread_ts", "actor_team_id",
                "actor_user_id", "actor_enterprise_id", "response_url")


def bolt_request(body: str, query: str, headers: Mapping[str, str]) -> tuple[BoltRequest | None, str | None]:
    """Bolt's own parsing of a signed body, or why it can't read it.

    Bolt builds the request context (team, user, channel, ...) while constructing the
    request, before any listener or error handler runs, and assumes Slack's shapes as it
    goes: a number where it expects an object raises there, which would be a 500. Its
    reading is the schema: whatever it can't read, or reads as something other than text,
    is a payload of the wrong shape.
    """
    try:
        request = BoltRequest(body=body, query=query, headers=dict(headers))
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        return None, f"Bolt can't read this payload ({type(exc).__name__})"
    for name in CONTEXT_TEXT:
        value = request.context.get(name)
        if value is not None and not isinstance(value, str):
            return None, f"{name} is not text"
    return request, None


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
        return _command_problem(payload)
    return "unknown envelope type"
