"""Playing people in Slack against a running coachbot: type /prep, click buttons,
submit modals. Used by the scenario tests and ``coachbot demo``.

Every request is signed like Slack signs it and goes through the app's real
HTTP entry point (a WSGI callable in-process, or a URL).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from coachbot.standin import requests as slack_requests
from coachbot.standin.model import Ephemeral, Message, View
from coachbot.standin.sender import SentResponse, SlackSender
from coachbot.standin.server import StandInSlack

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Seen:
    """Something a person sees, with where it came from, for clicking on."""

    blocks: list[JsonDict]
    channel: str | None
    ts: str | None
    ephemeral: bool
    response_url: str | None = None
    view: JsonDict | None = None


def find_button(blocks: Iterable[JsonDict], action_id: str) -> tuple[str | None, JsonDict]:
    for block in blocks:
        elements = block.get("elements") if block.get("type") == "actions" else None
        candidates = list(elements or [])
        if block.get("accessory"):
            candidates.append(block["accessory"])
        for element in candidates:
            if element.get("action_id") == action_id:
                return block.get("block_id"), element
    raise AssertionError(f"no button with action_id {action_id!r} in these blocks")


class SlackDriver:
    def __init__(
        self,
        slack: StandInSlack,
        target: Any,
        signing_secret: str,
        *,
        team_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.slack = slack
        self.sender = SlackSender(target, signing_secret, clock=clock)
        self.team_id = team_id or slack.team_id
        self._event_ids = itertools.count(1)

    # --- what people do -----------------------------------------------------

    def slash(self, user: str, text: str, channel: str = "C0GENERAL", *, command: str = "/prep") -> SentResponse:
        url = self.slack.new_response_url(user_id=user, channel_id=channel)
        body, content_type = slack_requests.slash_command(
            text=text, user_id=user, team_id=self.team_id, channel_id=channel, response_url=url,
            trigger_id=self.slack.new_trigger_id(user), command=command,
        )
        return self.sender.send(body, content_type)

    def click(self, user: str, seen: Seen, action_id: str) -> SentResponse:
        block_id, element = find_button(seen.blocks, action_id)
        action = {"action_id": action_id, "block_id": block_id, "value": element.get("value", ""),
                  "text": element.get("text")}
        if seen.view is not None:
            body, content_type = slack_requests.block_actions(
                user_id=user, team_id=self.team_id, actions=[action], view=seen.view,
                trigger_id=self.slack.new_trigger_id(user),
            )
            return self.sender.send(body, content_type)
        message: JsonDict = {"type": "message", "ts": seen.ts, "blocks": seen.blocks, "text": ""}
        container = {
            "type": "message", "message_ts": seen.ts, "channel_id": seen.channel, "is_ephemeral": seen.ephemeral,
        }
        response_url = seen.response_url or self.slack.new_response_url(
            user_id=user, channel_id=seen.channel, message_ts=seen.ts
        )
        body, content_type = slack_requests.block_actions(
            user_id=user, team_id=self.team_id, actions=[action], channel_id=seen.channel,
            message=message, container=container, response_url=response_url,
            trigger_id=self.slack.new_trigger_id(user),
        )
        return self.sender.send(body, content_type)

    def submit(self, user: str, view: View, values: dict[str, dict[str, Any]]) -> SentResponse:
        body, content_type = slack_requests.view_submission(
            user_id=user, team_id=self.team_id, view=view.view, values=values,
            trigger_id=self.slack.new_trigger_id(user),
        )
        return self.sender.send(body, content_type)

    def event(self, event: JsonDict, *, event_id: str | None = None, retry_num: int | None = None) -> SentResponse:
        body, content_type = slack_requests.event_callback(
            event=event, team_id=self.team_id, event_id=event_id or f"Ev{next(self._event_ids):08d}",
            event_time=int(time.time()),
        )
        return self.sender.send(body, content_type, retry_num=retry_num,
                                retry_reason="http_timeout" if retry_num else None)

    # --- what people see ----------------------------------------------------

    def ephemerals(self, user: str) -> list[Ephemeral]:
        return self.slack.ephemerals(user)

    def wait_ephemeral(self, user: str, count: int = 1, timeout: float = 5.0) -> Seen:
        """Wait until ``user`` has at least ``count`` ephemerals; return the newest."""
        found = self.slack.wait_for(lambda: (lambda e: e if len(e) >= count else None)(self.slack.ephemerals(user)),
                                    timeout, message=f"{user} to see {count} ephemeral message(s)")
        latest = found[-1]
        return Seen(latest.blocks, latest.channel, latest.ts, True, latest.response_url)

    def wait_modal(self, user: str, count: int = 1, timeout: float = 5.0) -> View:
        views = self.slack.wait_for(lambda: (lambda v: v if len(v) >= count else None)(
            [v for v in self.slack.views(user) if v.type == "modal"]), timeout,
            message=f"{user} to see {count} modal(s)")
        return views[-1]

    def wait_message(self, channel: str, count: int = 1, timeout: float = 5.0) -> Message:
        messages = self.slack.wait_for(lambda: (lambda m: m if len(m) >= count else None)(
            self.slack.messages(channel)), timeout, message=f"{count} message(s) in {channel}")
        return messages[-1]

    @staticmethod
    def seen_message(message: Message) -> Seen:
        return Seen(message.blocks, message.channel, message.ts, False)
