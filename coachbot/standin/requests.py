"""Request bodies exactly as Slack sends them to an app: slash commands, interactions, events.

Each builder returns ``(body, content_type)``, ready for
:class:`~coachbot.standin.sender.SlackSender` (which signs them). Slash
commands are form-encoded fields; interactions are a form body with one
``payload`` field holding JSON; Events API callbacks are JSON. The event
builders (:func:`reaction_added`, :func:`reaction_removed`,
:func:`app_home_opened`) return just the ``event`` dict, for
:func:`event_callback` to wrap. Shapes follow
https://api.slack.com/interactivity/handling and
https://api.slack.com/apis/events-api.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any
from urllib.parse import urlencode

from coachbot.standin.model import JsonDict
from coachbot.standin.triggers import make_trigger_id

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

#: The (deprecated) verification token Slack still puts in every request.
VERIFICATION_TOKEN = "standin-verification-token"
DEFAULT_APP_ID = "A0STANDIN"


def slash_command(
    *,
    text: str,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str | None = None,
    command: str = "/prep",
    user_name: str = "",
    channel_name: str = "",
    team_domain: str = "standin",
    api_app_id: str = DEFAULT_APP_ID,
) -> tuple[bytes, str]:
    """A slash command invocation (form fields in Slack's order); a fresh trigger_id by default."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name or channel_id.lower(),
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or make_trigger_id(user_id),
    }
    return urlencode(fields).encode("utf-8"), FORM


def block_actions(
    *,
    user_id: str,
    team_id: str,
    actions: list[JsonDict],
    channel_id: str | None = None,
    message: JsonDict | None = None,
    view: JsonDict | None = None,
    container: JsonDict | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
    user_name: str = "",
    team_domain: str = "standin",
    api_app_id: str = DEFAULT_APP_ID,
) -> tuple[bytes, str]:
    """A click (or select) on interactive blocks in a message or a view.

    Each action gets ``type`` ``"button"`` and an ``action_ts`` unless
    given. ``container`` is derived from ``view`` or ``message`` unless
    given.
    """
    now = f"{time.time():.6f}"
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": container or _container(channel_id, message, view),
        "trigger_id": trigger_id or make_trigger_id(user_id),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [{"type": "button", "action_ts": now, **action} for action in actions],
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
    if message is not None:
        payload["message"] = copy.deepcopy(message)
    if view is not None:
        payload["view"] = copy.deepcopy(view)
    payload["state"] = {"values": {}}
    if response_url is not None:
        payload["response_url"] = response_url
    return _payload_form(payload)


def view_submission(
    *,
    user_id: str,
    team_id: str,
    view: JsonDict,
    values: dict[str, dict[str, Any]],
    trigger_id: str | None = None,
    user_name: str = "",
    team_domain: str = "standin",
    api_app_id: str = DEFAULT_APP_ID,
) -> tuple[bytes, str]:
    """A modal's Submit: the given view with ``state.values`` set from ``values``.

    ``values`` maps block_id -> action_id -> element state, e.g.
    ``{"type": "plain_text_input", "value": "..."}``; a bare string stands
    for a plain_text_input holding it. The view keeps its id, hash,
    callback_id and private_metadata.
    """
    submitted = copy.deepcopy(view)
    submitted["state"] = {
        "values": {
            block_id: {action_id: _element_state(state) for action_id, state in actions.items()}
            for block_id, actions in values.items()
        }
    }
    submitted.setdefault("type", "modal")
    payload: JsonDict = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_domain},
        "user": _user(user_id, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or make_trigger_id(user_id),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_form(payload)


def event_callback(
    *,
    event: JsonDict,
    team_id: str,
    event_id: str,
    event_time: int,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = "U0BOT",
) -> tuple[bytes, str]:
    """An Events API delivery wrapping ``event``, with its ``authorizations``."""
    envelope: JsonDict = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": copy.deepcopy(event),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-standin-{event_id}",
    }
    return _json(envelope)


def reaction_added(
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str | None = None,
    event_ts: str | None = None,
) -> JsonDict:
    """The ``event`` of a reaction_added delivery (wrap it with :func:`event_callback`).

    ``user`` reacted with ``reaction`` (an emoji name, no colons) to the
    message ``ts`` in ``channel``, written by ``item_user`` (left out when
    ``None``). ``event_ts`` defaults to now.
    """
    return _reaction_event("reaction_added", user, reaction, channel, ts, item_user, event_ts)


def reaction_removed(
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str | None = None,
    event_ts: str | None = None,
) -> JsonDict:
    """The ``event`` of a reaction_removed delivery; same shape as :func:`reaction_added`."""
    return _reaction_event("reaction_removed", user, reaction, channel, ts, item_user, event_ts)


def app_home_opened(
    user: str,
    channel: str,
    tab: str = "home",
    view: JsonDict | None = None,
    event_ts: str | None = None,
) -> JsonDict:
    """The ``event`` of an app_home_opened delivery: ``user`` opened the app's ``tab``.

    ``channel`` is the user's DM with the app. ``view`` is the App Home
    view currently published for the user; Slack leaves it out when there
    is none (or for the messages tab).
    """
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": event_ts or _now_ts(),
    }
    if view is not None:
        event["view"] = copy.deepcopy(view)
    return event


def url_verification(challenge: str) -> tuple[bytes, str]:
    """The handshake Slack sends when the events Request URL is configured."""
    return _json({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})


def _reaction_event(
    kind: str, user: str, reaction: str, channel: str, ts: str, item_user: str | None, event_ts: str | None
) -> JsonDict:
    event: JsonDict = {"type": kind, "user": user, "reaction": reaction.strip(":")}
    if item_user is not None:
        event["item_user"] = item_user
    event["item"] = {"type": "message", "channel": channel, "ts": ts}
    event["event_ts"] = event_ts or _now_ts()
    return event


def _now_ts() -> str:
    return f"{time.time():.6f}"


def _user(user_id: str, team_id: str, user_name: str) -> JsonDict:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _container(channel_id: str | None, message: JsonDict | None, view: JsonDict | None) -> JsonDict:
    if view is not None:
        return {"type": "view", "view_id": view.get("id", "")}
    if message is not None:
        return {
            "type": "message",
            "message_ts": message.get("ts", ""),
            "channel_id": channel_id or "",
            "is_ephemeral": False,
        }
    return {"type": "message", "channel_id": channel_id or "", "is_ephemeral": False}


def _element_state(state: Any) -> Any:
    return {"type": "plain_text_input", "value": state} if isinstance(state, str) else state


def _payload_form(payload: JsonDict) -> tuple[bytes, str]:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode("utf-8"), FORM


def _json(envelope: JsonDict) -> tuple[bytes, str]:
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8"), JSON
