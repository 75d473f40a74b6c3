"""The /prep slash command."""

from __future__ import annotations

import random
from typing import Any, Callable

from slack_bolt import Ack, App, Respond

from coachbot import blocks
from coachbot.blocks import digest as digest_blocks
from coachbot.blocks import judge as judge_blocks
from coachbot.blocks import progress as progress_blocks
from coachbot.commands import (
    Ask,
    CoachLlm,
    Command,
    Compare,
    Daily,
    Digest,
    ForgetMe,
    Help,
    History,
    Leaderboard,
    ListCategories,
    Stats,
    Unknown,
    parse,
)
from coachbot.errors import InvalidInputError
from coachbot.handlers.replies import Replies, Reply
from coachbot.services import Services
from coachbot.services.prompts import ScheduleSet, ScheduleShown, ScheduleStopped


def register(app: App) -> None:
    app.command("/prep")(prep)


def prep(ack: Ack, command: dict[str, Any], respond: Respond, services: Services, replies: Replies) -> None:
    if not (command.get("team_id") and command.get("user_id")):
        ack(**blocks.error_message("This request doesn't say who sent it, so I can't act on it."))
        return
    parsed = parse(command.get("text") or "")
    instant = INSTANT.get(type(parsed))
    if instant is not None:
        # Pure replies go back in the acknowledgement itself: nothing to wait on.
        ack(**instant(parsed, services))
        return
    # Anything that touches the database answers in the ack if it is quick, else through the response_url.
    replies.command(ack, command, respond, lambda: answer(parsed, command, services))


def answer(parsed: Command, command: dict[str, Any], services: Services) -> Reply:
    announce = ANNOUNCED.get(type(parsed))
    if announce is not None:
        return announce(parsed, command, services)
    return Reply(DEFERRED[type(parsed)](parsed, command, services))


def daily(parsed: Command, command: dict[str, Any], services: Services) -> Reply:
    assert isinstance(parsed, Daily)
    user = command["user_id"]
    outcome = services.prompts.configure(command["team_id"], command["channel_id"], user, parsed.words)
    if isinstance(outcome, ScheduleShown):
        return Reply(blocks.schedule_shown_message(outcome.schedule))
    if isinstance(outcome, ScheduleSet):
        shown = blocks.schedule_set_message(outcome.schedule, user, outcome.replaced)
    elif isinstance(outcome, ScheduleStopped):
        shown = blocks.schedule_stopped_message(user, outcome.had_schedule)
    else:
        shown = blocks.schedule_paused_message(outcome.schedule, user, outcome.until)
    # Changes to the channel's schedule are announced to the channel, so the team knows.
    return Reply(shown, "in_channel")


def digest(parsed: Command, command: dict[str, Any], services: Services) -> Reply:
    assert isinstance(parsed, Digest)
    team, channel, user = command["team_id"], command["channel_id"], command["user_id"]
    if not channel or channel[0] not in "CG":
        raise InvalidInputError("The weekly digest belongs to a channel: run `/prep digest ...` in that channel.")
    settings, changed = services.digests.configure(team, channel, parsed.words,
                                                   may_manage=services.prompts.may_manage(team, user))
    shown = digest_blocks.digest_settings_message(settings, changed_by=user if changed else None)
    return Reply(shown, "in_channel" if changed else "ephemeral")


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


def _forget_me(_: Command, __: Services) -> blocks.Message:
    return progress_blocks.forget_confirm_message()


def _ask(parsed: Command, command: dict[str, Any], services: Services) -> blocks.Message:
    assert isinstance(parsed, Ask)
    question = services.practice.next_question(command["team_id"], command["user_id"], parsed.track, parsed.category)
    return blocks.question_card(question, ask_track=parsed.track, ask_category=parsed.category)


def _stats(parsed: Command, command: dict[str, Any], services: Services) -> blocks.Message:
    assert isinstance(parsed, Stats)
    person = parsed.user_id or command["user_id"]
    return progress_blocks.stats_message(services.progress.stats(command["team_id"], person, command["user_id"]))


def _history(_: Command, command: dict[str, Any], services: Services) -> blocks.Message:
    return progress_blocks.history_message(services.progress.history(command["team_id"], command["user_id"]))


def _leaderboard(parsed: Command, command: dict[str, Any], services: Services) -> blocks.Message:
    assert isinstance(parsed, Leaderboard)
    board = services.progress.leaderboard(command["team_id"], parsed.period, command["user_id"])
    return progress_blocks.leaderboard_message(board)


def _coach_llm(parsed: Command, command: dict[str, Any], services: Services) -> blocks.Message:
    assert isinstance(parsed, CoachLlm)
    team, user = command["team_id"], command["user_id"]
    status = services.judge.status(team) if parsed.on is None else services.judge.switch(team, user, parsed.on)
    return judge_blocks.switch_message(configured=status.configured, enabled=status.enabled, model=status.model,
                                       changed_by=user if status.changed else None)


INSTANT: dict[type, Callable[[Command, Services], blocks.Message]] = {
    Help: _help,
    Unknown: _unknown,
    ListCategories: _categories,
    Compare: _compare,
    ForgetMe: _forget_me,
}
DEFERRED: dict[type, Callable[[Command, dict[str, Any], Services], blocks.Message]] = {
    Ask: _ask,
    Stats: _stats,
    History: _history,
    Leaderboard: _leaderboard,
    CoachLlm: _coach_llm,
}
# Commands that may announce a change to the whole channel.
ANNOUNCED: dict[type, Callable[[Command, dict[str, Any], Services], Reply]] = {
    Daily: daily,
    Digest: digest,
}
