"""Posting into a channel on a person's behalf, with a clear word when Slack says no."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coachbot import blocks
from coachbot.slackapi import try_join

CANNOT_POST = {
    "not_in_channel": "I'm not in this channel yet. Invite me with `/invite @coachbot`, then try again.",
    "channel_not_found": "I can't see this channel. Invite me with `/invite @coachbot`, then try again.",
    "is_archived": "This channel is archived, so I can't post in it.",
    "restricted_action": "This channel doesn't let apps post. Ask an admin, or try another channel.",
}


def post_or_explain(
    client: WebClient, respond: Respond | None, channel: str, message: dict[str, Any], **extra: Any
) -> dict[str, Any] | None:
    """Post ``message`` to ``channel``; join a public channel first if needed.
    Returns Slack's response, or None after telling the person why it could not be posted."""
    try:
        return client.chat_postMessage(channel=channel, **message, **extra).data  # type: ignore[return-value]
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        if error == "not_in_channel" and try_join(client, channel):
            return client.chat_postMessage(channel=channel, **message, **extra).data  # type: ignore[return-value]
        if error not in CANNOT_POST:
            raise
        if respond is not None:
            respond(response_type="ephemeral", replace_original=False, **blocks.error_message(CANNOT_POST[error]))
        return None

