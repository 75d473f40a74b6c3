"""People using Slack in the demo, and what that shows on everyone's screen.

Each action goes through the stand-in's ``SlackDriver`` (signed requests to
the app's real HTTP entry point) and returns an :data:`Act`. ``Player.act``
runs one or more of them as a step: it waits until the app has finished the
work the requests started, then prints what appeared or changed, read from
what the stand-in Slack recorded.

One thing Slack shows is not in the stand-in's recordings: the body of the
app's HTTP answer (a slash command's instant reply, a modal submission's
``response_action``). Slack displays those itself, so the demo renders them
from the answer the app sent, as Slack would.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from coachbot.demo.screen import (
    Button,
    Change,
    Item,
    buttons_of,
    changes,
    look,
    render_modal,
)
from coachbot.demo.transcript import Transcript
from coachbot.demo.world import CHANNEL, DemoError, Person, World
from coachbot.standin import requests as slack_requests
from coachbot.standin.driver import Seen
from coachbot.standin.model import Message, View
from coachbot.standin.sender import SentResponse

#: One thing someone does; returns what Slack showed from the app's HTTP answer, if anything.
Act = Callable[[], list[Item]]


class Player:
    def __init__(self, world: World, transcript: Transcript) -> None:
        self.world = world
        self.transcript = transcript
        self._answers = itertools.count(1)

    def act(self, *acts: Act) -> list[Change]:
        """Do ``acts`` in order, let the app finish, print and return what people now see."""
        before = look(self.world)
        answered: list[Item] = []
        try:
            for act in acts:
                answered += act()
        finally:
            # Even when an action fails half-way, show what it already changed: the next step would not.
            self.world.settle()
            shown = [Change("new", item) for item in answered] + changes(before, look(self.world))
            self.transcript.show(shown, self.world.names())
        return shown

    # --- what people do ---------------------------------------------------------

    def slash(self, who: Person, text: str, channel: str = CHANNEL) -> Act:
        """``who`` types ``/prep <text>`` in a channel."""
        return lambda: self._slash_answer(who, channel, self.world.driver.slash(who.id, text, channel))

    def reply(self, who: Person, parent: Message, text: str) -> Act:
        """``who`` replies in ``parent``'s thread: Slack stores the message and sends the app the event."""

        def act() -> list[Item]:
            posted = self.world.slack.post_as_user(parent.channel, who.id, text, thread_ts=parent.ts)
            self._expect_ok(self.world.driver.event({
                "type": "message", "channel": parent.channel, "channel_type": "channel", "user": who.id,
                "text": text, "ts": posted.ts, "thread_ts": parent.ts, "event_ts": posted.ts,
            }))
            return []

        return act

    def click(self, who: Person, item: Item, button: Button | str) -> Act:
        """``who`` presses a button (or the first one with that action_id) on something they see."""

        def act() -> list[Item]:
            pressed = button if isinstance(button, Button) else _first(item, button)
            if item.clickable is None:
                raise DemoError(f"nothing to click on {item.where}")
            if sum(b.action_id == pressed.action_id for b in item.buttons) == 1:
                self._expect_ok(self.world.driver.click(who.id, item.clickable, pressed.action_id))
            else:
                self._expect_ok(self._press(who, item.clickable, pressed))
            return []

        return act

    def submit(self, who: Person, view: View, values: dict[str, dict[str, Any]]) -> Act:
        """``who`` fills in a modal and presses its submit button."""
        return lambda: self._submission_answer(who, self.world.driver.submit(who.id, view, values))

    def react(self, who: Person, message: Message, emoji: str) -> Act:
        """``who`` adds an emoji reaction to a message."""

        def act() -> list[Item]:
            self._expect_ok(self.world.driver.react(who.id, message, emoji))
            return []

        return act

    def open_home(self, who: Person) -> Act:
        """``who`` opens the app's Home tab."""

        def act() -> list[Item]:
            self._expect_ok(self.world.driver.open_home(who.id))
            return []

        return act

    def scheduler(self) -> Act:
        """The production scheduler's tick, at the demo's time."""

        def act() -> list[Item]:
            self.world.run_scheduler()
            return []

        return act

    def _press(self, who: Person, seen: Seen, button: Button) -> SentResponse:
        """Send what Slack sends for this very button, for one that shares its action_id with another.

        ``SlackDriver.click`` finds a button by action_id and so always presses the first of them.
        """
        slack, driver = self.world.slack, self.world.driver
        action = {"action_id": button.action_id, "block_id": button.block_id, "value": button.value,
                  "text": button.text}
        where: dict[str, Any] = {"view": seen.view} if seen.view is not None else {
            "channel_id": seen.channel,
            "message": {"type": "message", "ts": seen.ts, "blocks": seen.blocks, "text": ""},
            "container": {"type": "message", "message_ts": seen.ts, "channel_id": seen.channel,
                          "is_ephemeral": seen.ephemeral},
            "response_url": seen.response_url or slack.new_response_url(
                user_id=who.id, channel_id=seen.channel, message_ts=seen.ts),
        }
        body, content_type = slack_requests.block_actions(
            user_id=who.id, team_id=slack.team_id, actions=[action], trigger_id=slack.new_trigger_id(who.id), **where)
        return driver.sender.send(body, content_type)

    # --- what Slack shows from the app's HTTP answer --------------------------------

    def _slash_answer(self, who: Person, channel: str, sent: SentResponse) -> list[Item]:
        """Nothing of its own: a reply in the ack is shown by the stand-in as Slack shows it, as a message
        (an ephemeral unless in_channel) with a ts its buttons can name, like one through the response_url."""
        self._expect_ok(sent)
        return []

    def _submission_answer(self, who: Person, sent: SentResponse) -> list[Item]:
        data = self._body(sent)
        action = data.get("response_action")
        where = f"{who.name}'s modal"
        if action in ("update", "push"):
            view = data.get("view") or {}
            return [self._answer_item(where, None, render_modal(view, self.world.names(), self.world), who.id, [])]
        if action == "errors":
            errors = "\n".join(f":warning: {text}" for text in (data.get("errors") or {}).values())
            return [self._answer_item(where + " (not submitted)", None, errors, who.id, [])]
        return [self._answer_item(where, None, "(the modal closes)", who.id, [])]

    def _answer_item(self, where: str, author: str | None, body: str, viewer: str | None,
                     blocks: list[dict[str, Any]]) -> Item:
        number = next(self._answers)
        return Item(("answer", str(number)), where, author, body, buttons_of(blocks), viewer, (-1, number),
                    body)

    def _body(self, sent: SentResponse) -> dict[str, Any]:
        self._expect_ok(sent)
        if not sent.body.strip():
            return {}
        try:
            data = json.loads(sent.body)
        except ValueError:
            return {"text": sent.text}  # Slack shows a plain-text answer as it is
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _expect_ok(sent: SentResponse) -> None:
        if sent.status != 200:
            raise DemoError(f"the app answered HTTP {sent.status}: {sent.text[:200]}")


def _first(item: Item, action_id: str) -> Button:
    for button in item.buttons:
        if button.action_id == action_id:
            return button
    raise DemoError(f"no button {action_id!r} on {item.where}")
