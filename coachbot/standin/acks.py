"""What Slack accepts in the body of an app's ack, checked on the driver's side.

An app may answer a slash command with a message (``text``, ``blocks``,
``response_type``) and a view submission with a ``response_action``
(``errors``, ``update``, ``push`` or ``clear``). Slack shows such a body to
the person only when it is valid; otherwise the person sees an error instead
of the app's answer. The driver checks every ack body it receives with these
functions and raises :class:`AckRefused`, so a test fails where a person
would have seen Slack's error.

Sources: slash commands, "Responding to the command"
(https://api.slack.com/interactivity/slash-commands); modals,
"Responding to view submissions" (https://api.slack.com/surfaces/modals):
``response_action`` is one of the four, ``update``/``push`` carry a ``view``
(a modal, under the view limits in ``blockkit``), ``errors`` maps input
blocks' ``block_id`` to a message.
"""

from __future__ import annotations

import json
from typing import Any

from coachbot.standin import blockkit
from coachbot.standin.model import JsonDict

RESPONSE_ACTIONS = frozenset({"errors", "update", "push", "clear"})
RESPONSE_TYPES = frozenset({"ephemeral", "in_channel"})


class AckRefused(AssertionError):
    """The app acked with a body Slack would refuse; ``problems`` says why."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        super().__init__(f"Slack would refuse this {kind} ack: " + "; ".join(problems))
        self.kind = kind
        self.problems = problems


def _json_body(body: bytes, content_type: str | None) -> Any:
    if not body.strip() or not (content_type or "").lower().startswith("application/json"):
        return None
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return None


def command_ack_problems(body: bytes, content_type: str | None) -> list[str]:
    """Why Slack would refuse a slash command's ack body (``[]``: it would show it)."""
    data = _json_body(body, content_type)
    if not isinstance(data, dict):
        return []  # an empty or plain-text ack: nothing, or the text, is shown
    problems: list[str] = []
    if "response_type" in data and data["response_type"] not in RESPONSE_TYPES:
        problems.append(f"response_type must be ephemeral or in_channel, not {data['response_type']!r}")
    if "blocks" in data:
        problems += [problem.line for problem in blockkit.check_blocks(data["blocks"])]
    return problems


def submission_ack_problems(body: bytes, content_type: str | None, submitted: JsonDict) -> list[str]:
    """Why Slack would refuse a view submission's ack body; ``submitted`` is the view submitted."""
    data = _json_body(body, content_type)
    if not isinstance(data, dict) or "response_action" not in data:
        return []  # an empty ack closes the modal
    action = data["response_action"]
    if action not in RESPONSE_ACTIONS:
        return [f"response_action must be one of {sorted(RESPONSE_ACTIONS)}, not {action!r}"]
    if action in {"update", "push"}:
        view = data.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            return [f"response_action {action} needs a modal view"]
        return [problem.line for problem in blockkit.check_view(view)]
    if action == "errors":
        errors = data.get("errors")
        inputs = {b.get("block_id") for b in submitted.get("blocks") or [] if b.get("type") == "input"}
        if not isinstance(errors, dict) or not errors:
            return ["response_action errors needs a non-empty errors object"]
        return [
            f"errors names {key!r}, which is not an input block of the submitted view"
            if key not in inputs else f"the error for {key!r} must be a non-empty string"
            for key, message in errors.items()
            if key not in inputs or not isinstance(message, str) or not message
        ]
    return []
