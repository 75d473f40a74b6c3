"""The /prep slash command."""

from __future__ import annotations

import random
from typing import Any, Callable

from slack_bolt import Ack, App, Respond

from coachbot import blocks
from coachbot.commands import Ask, Command, Compare, Daily, Help, ListCategories, Stats, Unknown, parse
from coachbot.services.prompts import ScheduleSet, ScheduleShown, ScheduleStopped
from coachbot.services import Services


def register(app: App) -> None:
    app.command("/prep")(prep)


def prep(ack: Ack, command: dict[str, Any], respond: Respond, services: Services) -> None:
    parsed = parse(command.get("text") or "")
    instant = INSTANT.get(type(parsed))
    if instant is not None:
        # Pure replies go back in the acknowledgement itself: nothing to wait on.
        ack(**instant(parsed, services))
        return
    # Anything that touches the database answers through response_url, after the ack.
    ack()
    if isinstance(parsed, Daily):
        daily(parsed, command, respond, services)
        return
    respond(response_type="ephemeral", **DEFERRED[type(parsed)](parsed, command, services))


def daily(parsed: Daily, command: dict[str, Any], respond: Respond, services: Services) -> None:
    user = command["user_id"]
    outcome = services.prompts.configure(command["team_id"], command["channel_id"], user, parsed.words)
    if isinstance(outcome, ScheduleShown):
        respond(response_type="ephemeral", **blocks.schedule_shown_message(outcome.schedule))
        return
    if isinstance(outcome, ScheduleSet):
        shown = blocks.schedule_set_message(outcome.schedule, user, outcome.replaced)
    elif isinstance(outcome, ScheduleStopped):
        shown = blocks.schedule_stopped_message(user, outcome.had_schedule)
    else:
        shown = blocks.schedule_paused_message(outcome.schedule, user, outcome.until)
    # Changes to the channel's schedule are announced to the channel, so the team knows.
    respond(response_type="in_channel", **shown)


def _help(_: Command, __: Services) -> blocks.Message:
    return blocks.help_message()


def _unknown(parsed: Command, __: Services) -> blocks.Message:
    assert isinstance(parsed, Unknown)
    return blocks.unknown_message(parsed)


def _categories(_: Command, services: Services) -> blocks.Message:
    return blocks.categories_message(services.bank)


def _compare(_: Command, services: Services) -> blocks.Message:
    rng = random.Random()
    return blocks.compare_message(services.bank.example("technical", rng), services.bank.example("leadership", rng))


def _ask(parsed: Command, command: dict[str, Any], services: Services) -> blocks.Message:
    assert isinstance(parsed, Ask)
    question = services.practice.next_question(command["team_id"], command["user_id"], parsed.track, parsed.category)
    return blocks.question_card(question, ask_track=parsed.track, ask_category=parsed.category)


def _stats(_: Command, command: dict[str, Any], services: Services) -> blocks.Message:
    return blocks.stats_message(services.practice.stats(command["team_id"], command["user_id"]))


INSTANT: dict[type, Callable[[Command, Services], blocks.Message]] = {
    Help: _help,
    Unknown: _unknown,
    ListCategories: _categories,
    Compare: _compare,
}
DEFERRED: dict[type, Callable[[Command, dict[str, Any], Services], blocks.Message]] = {
    Ask: _ask,
    Stats: _stats,
}
