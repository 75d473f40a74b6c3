"""Playing people in Slack against a running coachbot: type /prep, click buttons,
submit modals, react to messages, open App Home. Used by the scenario tests
and ``coachbot demo``.

Every request is signed like Slack signs it and goes through the app's real
HTTP entry point (a WSGI callable in-process, or a URL).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from coachbot.standin import requests as slack_requests
from coachbot.standin.acks import AckRefused, command_ack_problems, submission_ack_problems
from coachbot.standin.manifest import slash_text
from coachbot.standin.model import Ephemeral, Message, View
from coachbot.standin.sender import SentResponse, SlackSender
from coachbot.standin.server import StandInSlack
from coachbot.standin.workspace import emoji_name

JsonDict = dict[str, Any]

#: How many delivered events a driver keeps, to re-send them as retries.
_REMEMBERED_EVENTS = 1000


@dataclass(frozen=True)
class Seen:
    """Something a person sees, with where it came from, for clicking on."""

    blocks: list[JsonDict]
    channel: str | None
    ts: str | None
    ephemeral: bool
    response_url: str | None = None
    view: JsonDict | None = None


def find_button(blocks: Iterable[JsonDict], action_id: str) -> tuple[str, JsonDict]:
    for block in blocks:
        elements = block.get("elements") if block.get("type") == "actions" else None
        candidates = list(elements or [])
        if block.get("accessory"):
            candidates.append(block["accessory"])
        for element in candidates:
            if element.get("action_id") == action_id:
                # Slack gives a block without a block_id one of its own, and the click carries it
                # (Block Kit reference, "block_id": "If not specified, a block_id will be generated").
                return block.get("block_id") or _generated_block_id(block), element
    raise AssertionError(f"no button with action_id {action_id!r} in these blocks")


def _generated_block_id(block: JsonDict) -> str:
    return hashlib.sha1(repr(sorted(block.items(), key=str)).encode()).hexdigest()[:5]


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
        self._delivered: OrderedDict[str, tuple[JsonDict, int]] = OrderedDict()
        self._delivered_lock = threading.Lock()

    # --- what people do -----------------------------------------------------

    def slash(self, user: str, text: str, channel: str = "C0GENERAL", *, command: str = "/prep") -> SentResponse:
        """``user`` types ``command text`` in ``channel``; the text reaches the app as Slack sends it:
        entities for ``&<>``, and with the command's ``should_escape`` its @people, #channels
        and links as Slack markup (see :func:`coachbot.standin.manifest.slash_text`)."""
        url = self.slack.new_response_url(user_id=user, channel_id=channel)
        sent = slash_text(text, escape=self.slack.manifest.escapes(command),
                          users={name: uid for uid, name in self.slack.user_names().items()},
                          channels=self.slack.channel_names())
        body, content_type = slack_requests.slash_command(
            text=sent, user_id=user, team_id=self.team_id, channel_id=channel, response_url=url,
            trigger_id=self.slack.new_trigger_id(user), command=command,
        )
        response = self.sender.send(body, content_type)
        problems = command_ack_problems(response.body, response.header("content-type"))
        if problems:
            raise AckRefused("slash command", problems)
        reply = _ack_message(response)
        if reply is not None and not response.header("X-Standin-Reply-Shown"):  # Socket Mode shows its own
            self.slack.show_ack_reply(url, reply)
        return response

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
        response = self.sender.send(body, content_type)
        problems = submission_ack_problems(response.body, response.header("content-type"), view.view)
        if problems:
            raise AckRefused("view submission", problems)
        return response

    def event(self, event: JsonDict, *, event_id: str | None = None, retry_num: int | None = None) -> SentResponse:
        """Deliver an Events API ``event``; a fresh ``Ev...`` id unless given.

        With ``retry_num`` and the ``event_id`` of an earlier delivery, the
        envelope keeps that delivery's ``event_time``, as Slack's retries do.
        """
        refusal = self.slack.delivery_refusal(event)
        if refusal is not None:
            # Slack never sends it: the app can't know (status 0, and why, for the test to assert).
            return SentResponse(0, body=refusal.encode(), delivered=False)
        event_id = event_id or f"Ev{next(self._event_ids):08d}"
        with self._delivered_lock:
            earlier = self._delivered.get(event_id) if retry_num else None
            event_time = earlier[1] if earlier is not None else int(time.time())
            self._delivered[event_id] = (event, event_time)
            self._delivered.move_to_end(event_id)
            while len(self._delivered) > _REMEMBERED_EVENTS:
                self._delivered.popitem(last=False)
        body, content_type = slack_requests.event_callback(
            event=event, team_id=self.team_id, event_id=event_id, event_time=event_time,
        )
        return self.sender.send(body, content_type, retry_num=retry_num,
                                retry_reason="http_timeout" if retry_num else None)

    def _earlier_event(self, event_id: str | None, retry_num: int | None) -> JsonDict | None:
        """The event first delivered under ``event_id``, when this is a retry of it."""
        if not retry_num or event_id is None:
            return None
        with self._delivered_lock:
            earlier = self._delivered.get(event_id)
        return earlier[0] if earlier is not None else None

    def react(
        self,
        user: str,
        target: Message | Seen | str,
        emoji: str,
        *,
        ts: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentResponse:
        """``user`` adds an emoji reaction to a message; sends the signed ``reaction_added`` event.

        ``target`` is a :class:`Message`, a :class:`Seen` channel message, or
        a channel id (or a user id for the DM with them) with ``ts=``.
        ``emoji`` is a name, colons optional. The stand-in records the
        reaction first (see :meth:`StandInSlack.reactions`) and refuses a
        second identical one with ``ValueError``, like Slack. With
        ``retry_num`` this is Slack re-delivering an event: given the first
        delivery's ``event_id`` it re-sends that event unchanged; either way
        a retry is not recorded again.
        """
        return self._reaction("reaction_added", user, target, emoji, ts, event_id, retry_num)

    def unreact(
        self,
        user: str,
        target: Message | Seen | str,
        emoji: str,
        *,
        ts: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentResponse:
        """``user`` takes back a reaction; sends ``reaction_removed``. Arguments as :meth:`react`."""
        return self._reaction("reaction_removed", user, target, emoji, ts, event_id, retry_num)

    def open_home(
        self, user: str, *, tab: str = "home", event_id: str | None = None, retry_num: int | None = None
    ) -> SentResponse:
        """``user`` opens the app's Home tab; sends the signed ``app_home_opened`` event.

        ``channel`` is the user's DM with the app (opened if needed); the
        event carries the user's currently published home view, if any
        (``tab="messages"``: none). A retry (``retry_num`` with an earlier
        ``event_id``) re-sends the first delivery's event unchanged.
        """
        event = self._earlier_event(event_id, retry_num)
        if event is None:
            channel = self.slack.dm_channel(user)
            home = self.slack.home(user) if tab == "home" else None
            event = slack_requests.app_home_opened(user, channel, tab, home.view if home is not None else None)
        return self.event(event, event_id=event_id, retry_num=retry_num)

    def _reaction(
        self,
        kind: str,
        user: str,
        target: Message | Seen | str,
        emoji: str,
        ts: str | None,
        event_id: str | None,
        retry_num: int | None,
    ) -> SentResponse:
        channel, message_ts = _reaction_target(target, ts)
        earlier = self._earlier_event(event_id, retry_num)
        if earlier is not None:
            return self.event(earlier, event_id=event_id, retry_num=retry_num)
        if retry_num:
            message = self.slack.message(channel, message_ts)
        elif kind == "reaction_added":
            message = self.slack.add_reaction(channel, message_ts, user, emoji)
        else:
            message = self.slack.remove_reaction(channel, message_ts, user, emoji)
        build = slack_requests.reaction_added if kind == "reaction_added" else slack_requests.reaction_removed
        event = build(
            user,
            emoji_name(emoji),
            message.channel if message is not None else channel,
            message_ts,
            message.user if message is not None else None,
        )
        return self.event(event, event_id=event_id, retry_num=retry_num)

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

    def wait_home(self, user: str, count: int = 1, timeout: float = 5.0) -> View:
        """Wait until views.publish has set ``user``'s App Home at least ``count`` times; return it."""
        def published() -> View | None:
            return self.slack.home(user) if self.slack.home_publishes(user) >= count else None

        return self.slack.wait_for(published, timeout, message=f"{user}'s App Home to be published {count} time(s)")

    def reactions(self, message: Message) -> dict[str, list[str]]:
        """``{emoji: [user ids]}`` on a message, as the stand-in has it now."""
        return self.slack.reactions(message.channel, message.ts)

    @staticmethod
    def seen_message(message: Message) -> Seen:
        return Seen(message.blocks, message.channel, message.ts, False)

    @staticmethod
    def seen_view(view: View) -> Seen:
        """A modal or App Home view as something to :meth:`click` on."""
        return Seen(view.blocks, None, None, False, view=view.view)


def _ack_message(sent: SentResponse) -> JsonDict | None:
    """The message a slash command's 200 carries, if any (an empty body is a bare ack)."""
    if sent.status != 200 or not sent.body.strip():
        return None
    if not (sent.header("content-type") or "").startswith("application/json"):
        # Slack shows a plain-text body as the reply's text.
        return {"text": sent.text}
    found = sent.json()
    return found if isinstance(found, dict) and (found.get("text") or found.get("blocks")) else None


def _reaction_target(target: Message | Seen | str, ts: str | None) -> tuple[str, str]:
    if isinstance(target, Message):
        return target.channel, target.ts
    if isinstance(target, Seen):
        if target.ephemeral or target.view is not None or target.channel is None or target.ts is None:
            raise ValueError("only channel messages take reactions, not ephemerals or views")
        return target.channel, target.ts
    if ts is None:
        raise ValueError("react/unreact on a channel id needs ts=")
    return target, ts
