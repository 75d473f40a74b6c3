"""``run_demo``: start the world, play the scripted morning, then (optionally) hand over to a person."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TextIO

from coachbot.demo.player import Player
from coachbot.demo.repl import Repl
from coachbot.demo.script import play_morning
from coachbot.demo.transcript import Transcript
from coachbot.demo.world import CHANNEL_NAME, PEOPLE, TIMEZONE, open_world


@dataclass(frozen=True)
class DemoOptions:
    seed: int = 7  # the app's random choices (practice questions); the daily prompt is seeded by channel and day
    database_url: str | None = None  # None: a temporary SQLite file, deleted at the end
    interactive: bool = False
    script: bool = True  # False: start the interactive loop in a fresh workspace
    color: bool = False


def run_demo(out: TextIO, options: DemoOptions = DemoOptions(), *, stdin: TextIO | None = None) -> None:
    """Play the demo, writing the transcript to ``out``; ``stdin`` feeds the interactive loop."""
    transcript = Transcript(out, color=options.color)
    with open_world(options.database_url, seed=options.seed) as world:
        _introduce(transcript)
        player = Player(world, transcript)
        if options.script:
            play_morning(player)
        if options.interactive:
            Repl(player, stdin if stdin is not None else _no_input()).run()
    # Said once everything has stopped, so it is true when it is read.
    transcript.line()
    if options.database_url:
        transcript.note(f"The demo's data stays in {options.database_url}.")
    else:
        transcript.note("The demo is over; its temporary database is deleted.")


def _introduce(transcript: Transcript) -> None:
    people = ", ".join(p.name for p in PEOPLE[:-1]) + f" and {PEOPLE[-1].name}"
    transcript.title("coachbot demo: the real app, talking to a stand-in Slack on this machine")
    transcript.note(f"#{CHANNEL_NAME} has {people} in it. Times are {TIMEZONE}. "
                    "Below each step is what Slack shows, and to whom.")


def _no_input() -> TextIO:
    return io.StringIO("")
