"""``coachbot demo --interactive``: type ``/prep`` commands and press buttons yourself.

A prompt loop over the same world the script played in. Input comes from any
text stream (a terminal, or a scripted one in tests); when it is not a
terminal the typed line is echoed, so the transcript reads like a session.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, TextIO

from coachbot.demo.player import Player
from coachbot.demo.screen import Button, Change, Item, look, render
from coachbot.demo.script import PROMPT_EVENT
from coachbot.demo.world import CHANNEL, PEOPLE, DemoError, Person, local, person
from coachbot.standin.model import Message, View

HELP = """\
You are {name}, in #practice. Commands:
  /prep <text>       run coachbot's slash command, e.g. /prep help, /prep stats, /prep technical
  buttons            list the buttons you can press, numbered
  click N            press button N (a form then asks you for each field)
  reply <text>       answer in the thread of the latest daily prompt
  thread             list that thread's replies, numbered
  react N :emoji:    react to reply N of that thread
  home               open coachbot's App Home
  as <person>        become someone else: {people}
  tick [minutes]     let time pass (1 minute unless given) and run the scheduler
  time [day] HH:MM   move the clock to the next HH:MM (on that weekday, e.g. time fri 16:00) and run the scheduler
  help, quit"""

_TIME = re.compile(r"^(?:(?P<day>mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Repl:
    def __init__(self, player: Player, stdin: TextIO) -> None:
        self.player = player
        self.world = player.world
        self.out = player.transcript
        self.stdin = stdin
        self.echo = not _is_terminal(stdin)
        self.me: Person = PEOPLE[0]
        self.buttons: list[tuple[Item, Button]] = []

    def run(self) -> None:
        self.out.narrate(self.world.now(), f"your turn: you are {self.me.name}, in #practice (type help)")
        prompt = self._latest_prompt()
        if prompt is not None:
            self._offer([Change("new", look(self.world)[("message", CHANNEL, prompt.ts)])])
        while (line := self._ask(f"{self.me.handle}> ")) is not None:
            line = line.strip()
            if line in ("quit", "exit"):
                break
            try:
                self._dispatch(line)
            except (DemoError, ValueError) as exc:
                self.out.line(f"  ! {exc}")

    # --- commands ------------------------------------------------------------------

    def _dispatch(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if not word:
            return
        if word.startswith("/"):
            self._slash(word, rest)
        elif word in _COMMANDS:
            _COMMANDS[word](self, rest)
        else:
            self.out.line(f"  ! I don't know {word!r}; type help")

    def _slash(self, command: str, text: str) -> None:
        if command != "/prep":
            raise DemoError(f"{command} is not coachbot's command; try /prep help")
        self._offer(self.player.act(self.player.slash(self.me, text)))

    def _help(self, _: str) -> None:
        self.out.line(HELP.format(name=self.me.name, people=", ".join(p.name for p in PEOPLE)))

    def _list_buttons(self, _: str) -> None:
        if not self.buttons:
            self.out.line("  (no buttons: run a /prep command or open home first)")
        self.out.buttons(self.buttons)

    def _click(self, number: str) -> None:
        item, button = self._button(number)
        if item.viewer is not None and item.viewer != self.me.id:
            owner = self.world.names().get(item.viewer, item.viewer)
            raise DemoError(f"only {owner} sees that; type `as {owner.lower()}` first")
        shown = self.player.act(self.player.click(self.me, item, button))
        modal = next((c.item for c in shown if _is_my_new_modal(c, self.me)), None)
        self._offer(shown)
        if modal is not None:
            self._fill(modal)

    def _reply(self, text: str) -> None:
        if not text:
            raise DemoError("reply needs your answer: reply <text>")
        self.player.act(self.player.reply(self.me, self._require_prompt(), text))

    def _thread(self, _: str) -> None:
        replies = self.world.slack.replies(CHANNEL, self._require_prompt().ts)
        names = self.world.names()
        if not replies:
            self.out.line("  (no replies yet: reply <text> answers the prompt)")
        for number, reply in enumerate(replies, start=1):
            author = "coachbot" if reply.bot_id else names.get(reply.user, reply.user)
            first = (render(reply.text, reply.blocks, names, self.world).splitlines() or [""])[0]
            self.out.line(f"  {number}) {author}: {first[:70]}{'…' if len(first) > 70 else ''}")

    def _react(self, rest: str) -> None:
        number, _, emoji = rest.partition(" ")
        replies = self.world.slack.replies(CHANNEL, self._require_prompt().ts)
        if not number.isdigit() or not 1 <= int(number) <= len(replies) or not emoji.strip():
            raise DemoError(f"react N :emoji: with N from 1 to {len(replies)} (see thread)")
        self.player.act(self.player.react(self.me, replies[int(number) - 1], emoji.strip()))

    def _home(self, _: str) -> None:
        self._offer(self.player.act(self.player.open_home(self.me)))

    def _as(self, name: str) -> None:
        try:
            self.me = person(name)
        except KeyError:
            raise DemoError(f"who is {name!r}? One of: {', '.join(p.name for p in PEOPLE)}") from None
        self.out.note(f"  (you are {self.me.name} now)")

    def _tick(self, minutes: str) -> None:
        if minutes and not minutes.isdigit():
            raise DemoError("tick [minutes]: a whole number of minutes")
        self._run_scheduler_at(self.world.now() + timedelta(minutes=int(minutes or 1)))

    def _time(self, when: str) -> None:
        match = _TIME.match(when.lower())
        if match is None or int(match["hour"]) > 23 or int(match["minute"]) > 59:
            raise DemoError("time [day] HH:MM, e.g. time 09:30 or time fri 16:00")
        day = _DAYS.index(match["day"]) if match["day"] else None
        self._run_scheduler_at(_next(self.world.now(), int(match["hour"]), int(match["minute"]), day))

    # --- helpers -------------------------------------------------------------------

    def _run_scheduler_at(self, at: datetime) -> None:
        self.world.clock.set(at)
        self.out.narrate(at, "time passes; the scheduler runs")
        shown = self.player.act(self.player.scheduler())
        if not shown:
            self.out.note("  (nothing was due)")
        self._offer(shown)

    def _fill(self, modal: Item) -> None:
        """Ask for each field of a modal that just opened, then submit it (empty text closes it)."""
        assert isinstance(modal.origin, View)
        values: dict[str, dict[str, Any]] = {}
        for block in modal.origin.blocks:
            element = block.get("element") or {}
            if block.get("type") != "input" or not block.get("block_id") or not element.get("action_id"):
                continue
            state = self._field(block, element)
            if state is None and not block.get("optional"):
                self.out.note("  (nothing typed: the form is closed without submitting)")
                return
            if state is not None:
                values[block["block_id"]] = {element["action_id"]: state}
        self._offer(self.player.act(self.player.submit(self.me, modal.origin, values)))

    def _field(self, block: dict[str, Any], element: dict[str, Any]) -> Any:
        label = str((block.get("label") or {}).get("text") or "Value")
        if element.get("type") == "checkboxes":
            chosen = [option for option in element.get("options") or []
                      if (self._ask(f"{option['text']['text']}? [y/N]> ") or "").strip().lower().startswith("y")]
            return {"type": "checkboxes", "selected_options": chosen}
        typed = (self._ask(f"{label}> ") or "").strip()
        return typed or None  # a bare string is a plain_text_input's value

    def _offer(self, shown: list[Change]) -> None:
        """Number the buttons of what was just shown, for ``click N``."""
        found = [(c.item, b) for c in shown if c.kind != "reactions" for b in c.item.buttons]
        if found:
            self.buttons = found
            self.out.buttons(found)

    def _button(self, number: str) -> tuple[Item, Button]:
        if not number.isdigit() or not 1 <= int(number) <= len(self.buttons):
            raise DemoError(f"click N with N from 1 to {len(self.buttons)} (type buttons to list them)")
        return self.buttons[int(number) - 1]

    def _latest_prompt(self) -> Message | None:
        prompts = [m for m in self.world.slack.messages(CHANNEL)
                   if (m.metadata or {}).get("event_type") == PROMPT_EVENT]
        return prompts[-1] if prompts else None

    def _require_prompt(self) -> Message:
        prompt = self._latest_prompt()
        if prompt is None:
            raise DemoError("no daily prompt yet: /prep daily alternate 09:30 Europe/Berlin, then time 09:30")
        return prompt

    def _ask(self, prompt: str) -> str | None:
        """One line from the input (``None`` at its end), echoed when it isn't typed at a terminal."""
        self.out.out.write(prompt)
        self.out.out.flush()
        line = self.stdin.readline()
        if not line:
            self.out.line()
            return None
        if self.echo:
            self.out.line(line.rstrip("\n"))
        return line.rstrip("\n")


_COMMANDS = {
    "help": Repl._help,
    "buttons": Repl._list_buttons,
    "click": Repl._click,
    "reply": Repl._reply,
    "thread": Repl._thread,
    "react": Repl._react,
    "home": Repl._home,
    "as": Repl._as,
    "tick": Repl._tick,
    "time": Repl._time,
}


def _next(now: datetime, hour: int, minute: int, weekday: int | None) -> datetime:
    """The first HH:MM after ``now`` (on ``weekday``, Monday = 0, when given), in the demo's timezone."""
    day = now.date()
    while True:
        at = local(day, hour, minute)
        if at > now and (weekday is None or day.weekday() == weekday):
            return at
        day += timedelta(days=1)


def _is_my_new_modal(change: Change, me: Person) -> bool:
    origin = change.item.origin
    return change.kind == "new" and isinstance(origin, View) and origin.type == "modal" and origin.user_id == me.id


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
