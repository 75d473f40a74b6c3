"""What each person sees, read back from the stand-in Slack's recordings.

``look`` collects everything visible in the demo workspace (channel messages
and thread replies, ephemerals, modals, App Home) as :class:`Item` records,
rendered with :mod:`coachbot.standin.render`. ``changes`` compares two looks,
so each step of the demo shows only what appeared or changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from coachbot.demo.world import CHANNEL, PEOPLE, World
from coachbot.standin.driver import Seen
from coachbot.standin.model import Ephemeral, Message, View
from coachbot.standin.render import render_message, render_view

Origin = Message | Ephemeral | View | None

_CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)>")


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    block_id: str | None = None
    value: str = ""
    text: dict[str, Any] | None = None  # the element's text object, as Slack echoes it in block_actions


@dataclass(frozen=True)
class Item:
    """One thing on someone's screen.

    ``viewer`` is the one person who sees it (ephemerals, modals, App Home),
    ``None`` for a channel message everyone in the channel sees.
    ``signature`` changes when the content does; ``reactions`` is kept apart
    so a new reaction shows as a reaction, not as the whole message again.
    """

    key: tuple[str, ...]
    where: str
    author: str | None
    body: str
    buttons: tuple[Button, ...]
    viewer: str | None
    order: tuple[int, int]
    signature: str
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    origin: Origin = None
    clickable: Seen | None = None  # what SlackDriver.click needs to press one of its buttons


@dataclass(frozen=True)
class Change:
    kind: str  # "new", "updated" or "reactions"
    item: Item


Look = dict[tuple[str, ...], Item]


def look(world: World) -> Look:
    """Everything the people of the demo can see right now."""
    names = world.names()
    items: list[Item] = []
    items += _channel_items(world, CHANNEL, names)
    for someone in PEOPLE:
        dm = world.slack.channel(someone.id)
        if dm is not None:
            items += _channel_items(world, dm.id, names)
        items += [_ephemeral_item(world, e, names) for e in world.slack.ephemerals(someone.id)]
        modals = world.slack.views(someone.id)
        items += [_view_item(world, v, f"{someone.name}'s modal", names, n) for n, v in enumerate(modals)]
        home = world.slack.home(someone.id)
        if home is not None:
            # Counted publishes: opening App Home again shows it again, even when nothing in it changed.
            publishes = world.slack.home_publishes(someone.id)
            items.append(_view_item(world, home, f"{someone.name}'s App Home", names, 1000, str(publishes)))
    return {item.key: item for item in items}


def changes(before: Look, after: Look) -> list[Change]:
    """What appeared or changed between two looks, in the order Slack showed it."""
    found: list[Change] = []
    for key, item in after.items():
        old = before.get(key)
        if old is None:
            found.append(Change("new", item))
        elif old.signature != item.signature:
            found.append(Change("updated", item))
        elif old.reactions != item.reactions:
            found.append(Change("reactions", item))
    return sorted(found, key=lambda change: change.item.order)


def buttons_of(blocks: list[dict[str, Any]]) -> tuple[Button, ...]:
    """The buttons in Block Kit blocks, in reading order (action rows and section accessories)."""
    found: list[Button] = []
    for block in blocks:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button" and element.get("action_id"):
                label = str((element.get("text") or {}).get("text") or element["action_id"])
                found.append(Button(label, str(element["action_id"]), block.get("block_id"),
                                    str(element.get("value") or ""), element.get("text")))
    return tuple(found)


def render(text: str | None, blocks: list[dict[str, Any]], names: dict[str, str], world: World) -> str:
    """A message as Slack shows it, channel mentions named as the Slack client names them."""
    return render_message(text, _name_channels(blocks, world), users=names)


def render_modal(view: dict[str, Any], names: dict[str, str], world: World) -> str:
    """A modal or App Home view as Slack shows it."""
    return render_view(_name_channels(view, world), users=names)


def channel_label(world: World, channel_id: str | None) -> str:
    """``#practice``, or whose DM with the app it is."""
    if channel_id is None:
        return "Slack"
    channel = world.slack.channel(channel_id)
    if channel is None:
        return f"#{channel_id}"
    if channel.is_im:
        owner = world.names().get(channel.user or "", channel.user or "someone")
        return f"{owner}'s DM with coachbot"
    return f"#{channel.name}"


def _channel_items(world: World, channel_id: str, names: dict[str, str]) -> list[Item]:
    place = channel_label(world, channel_id)
    items: list[Item] = []
    for message in world.slack.messages(channel_id):
        items.append(_message_item(world, message, f"{place} (channel)", names))
        for reply in world.slack.replies(channel_id, message.ts):
            items.append(_message_item(world, reply, f"{place} › thread", names))
    return items


def _message_item(world: World, message: Message, where: str, names: dict[str, str]) -> Item:
    author = "coachbot" if message.bot_id else names.get(message.user, message.user)
    body = render(message.text, message.blocks, names, world)
    reactions = tuple((emoji, tuple(users)) for emoji, users in message.reactions.items())
    clickable = Seen(message.blocks, message.channel, message.ts, False)
    return Item(("message", message.channel, message.ts), where, author, body, buttons_of(message.blocks), None,
                (0, _micros(message.ts)), f"{message.text}\n{body}", reactions, message, clickable)


def _ephemeral_item(world: World, ephemeral: Ephemeral, names: dict[str, str]) -> Item:
    place = channel_label(world, ephemeral.channel) + (" › thread" if ephemeral.thread_ts else "")
    viewer = names.get(ephemeral.user, ephemeral.user)
    body = render(ephemeral.text, ephemeral.blocks, names, world)
    clickable = Seen(ephemeral.blocks, ephemeral.channel, ephemeral.ts, True, ephemeral.response_url)
    return Item(("ephemeral", ephemeral.user, ephemeral.ts), f"only {viewer} sees (in {place})", "coachbot", body,
                buttons_of(ephemeral.blocks), ephemeral.user, (0, _micros(ephemeral.ts)), body, (), ephemeral,
                clickable)


def _view_item(world: World, view: View, where: str, names: dict[str, str], rank: int, extra: str = "") -> Item:
    body = render_modal(view.view, names, world)
    # Views carry no timestamp: they come after the messages of the same step, modals before App Home.
    clickable = Seen(view.blocks, None, None, False, view=view.view)
    return Item(("view", view.user_id, view.id), where, None, body, buttons_of(view.blocks), view.user_id,
                (1, rank), f"{view.hash}:{extra}", (), view, clickable)


def _name_channels(blocks: Any, world: World) -> Any:
    """``<#C123>`` → ``<#C123|name>``: the Slack client shows a channel mention by its name."""

    def visit(value: Any) -> Any:
        if isinstance(value, str):
            return _CHANNEL_MENTION.sub(lambda m: _named(world, m.group(1)), value)
        if isinstance(value, list):
            return [visit(v) for v in value]
        if isinstance(value, dict):
            return {k: visit(v) for k, v in value.items()}
        return value

    return visit(blocks)


def _named(world: World, channel_id: str) -> str:
    channel = world.slack.channel(channel_id)
    return f"<#{channel_id}|{channel.name}>" if channel is not None and not channel.is_im else f"<#{channel_id}>"


def _micros(ts: str) -> int:
    seconds, _, micros = ts.partition(".")
    return int(seconds) * 1_000_000 + int(micros or 0)
