"""The scripted morning: a team's first day of daily practice, and the week's digest.

Every step is something a person (or the scheduler) does at a scripted time;
the transcript then shows what the app made of it. Things the script needs to
act on later (the prompt, an answer to react to, the modal) are taken from
what the step showed, as a person would pick them off the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from coachbot import blocks
from coachbot.demo import answers
from coachbot.demo.player import Player
from coachbot.demo.screen import Change, Item
from coachbot.demo.world import CHANNEL, MONDAY, DemoError, World, local, person
from coachbot.standin.model import Message, View

PROMPT_EVENT = "coachbot_prompt"
DAILY = "daily alternate 09:30 weekdays Europe/Berlin"


def play_morning(player: Player) -> None:
    world, say = player.world, _narrator(player)
    ana, ben, chloe, dev = (person(name) for name in ("Ana", "Ben", "Chloé", "Dev"))
    _refuse_replay(world)

    say(9, 0, f"Ana turns on daily practice in #practice: /prep {DAILY}")
    player.act(player.slash(ana, DAILY))

    say(9, 30, "the scheduler posts today's prompt")
    prompt_item = _one(player.act(player.scheduler()), _is_prompt, "the daily prompt")
    prompt = _message(prompt_item)
    _check_question(prompt)

    say(9, 41, "Ben answers in the prompt's thread")
    ben_answer = _message(_one(player.act(player.reply(ben, prompt, answers.BEN)), _by(ben.id), "Ben's reply"))

    say(9, 52, "Dev answers in the thread too")
    dev_answer = _message(_one(player.act(player.reply(dev, prompt, answers.DEV)), _by(dev.id), "Dev's reply"))

    say(10, 5, "Chloé prefers the form: she presses [ Answer ] on the prompt")
    modal = _view(_one(player.act(player.click(chloe, prompt_item, blocks.ACTION_ANSWER)), _is_view, "the modal"))

    say(10, 14, "Chloé writes her answer and presses [ Get feedback ]")
    typed = {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: answers.CHLOE}}
    shared = _message(_one(player.act(player.submit(chloe, modal, typed)), _by(world.slack.bot_user_id),
                           "Chloé's answer in the thread"))

    say(10, 30, "the team reacts to the answers they learnt from")
    player.act(
        player.react(ana, ben_answer, "thumbsup"),
        player.react(chloe, ben_answer, "tada"),
        player.react(dev, ben_answer, "100"),
        player.react(ben, shared, "clap"),
        player.react(ana, dev_answer, "bulb"),
    )

    say(12, 15, "Ben checks his progress: /prep stats")
    player.act(player.slash(ben, "stats"))

    say(12, 20, "Ana looks at the leaderboard: /prep leaderboard")
    player.act(player.slash(ana, "leaderboard"))

    say(12, 30, "Dev wants a leadership question to practise: /prep leadership")
    player.act(player.slash(dev, "leadership"))

    say(13, 0, "Chloé opens coachbot's App Home")
    player.act(player.open_home(chloe))

    say(16, 0, "the week ends: the scheduler posts the weekly digest", days=4)
    player.act(player.scheduler())


def _narrator(player: Player) -> Callable[..., None]:
    """Move the demo's clock to a scripted time and say what happens then."""

    def say(hour: int, minute: int, text: str, *, days: int = 0) -> None:
        at = local(MONDAY + timedelta(days=days), hour, minute)
        player.world.clock.set(at)
        player.transcript.narrate(at, text)

    return say


def _refuse_replay(world: World) -> None:
    # The app remembers which prompts it posted; a database from an earlier run would not post today's again.
    if world.services.prompts.show(world.team_id(), CHANNEL) is not None:
        raise DemoError("this database already holds a demo run: give --database-url a new file, "
                        "or add --interactive --no-script to keep playing in it")


def _check_question(prompt: Message) -> None:
    payload = (prompt.metadata or {}).get("event_payload") or {}
    if payload.get("question") != answers.QUESTION_ID:
        raise DemoError(f"today's prompt asks {payload.get('question')!r}, not the question the demo's answers "
                        f"were written for ({answers.QUESTION_ID}); update coachbot/demo/answers.py")


def _one(shown: list[Change], wanted: Callable[[Item], bool], what: str) -> Item:
    for change in shown:
        if change.kind == "new" and wanted(change.item):
            return change.item
    raise DemoError(f"the app did not show {what}")


def _is_prompt(item: Item) -> bool:
    origin = item.origin
    return isinstance(origin, Message) and (origin.metadata or {}).get("event_type") == PROMPT_EVENT


def _by(user_id: str) -> Callable[[Item], bool]:
    return lambda item: isinstance(item.origin, Message) and item.origin.user == user_id and item.origin.is_reply


def _is_view(item: Item) -> bool:
    return isinstance(item.origin, View) and item.origin.type == "modal"


def _message(item: Item) -> Message:
    assert isinstance(item.origin, Message)
    return item.origin


def _view(item: Item) -> View:
    assert isinstance(item.origin, View)
    return item.origin
