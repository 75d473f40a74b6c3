"""Writing the demo's transcript: narration, then what each person sees, marked with where.

Plain text unless colour is asked for (the CLI only asks when stdout is a
terminal), so a saved transcript or a test reads the same as the screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TextIO

from coachbot.demo.screen import Button, Change, Item

_BOLD, _DIM, _CYAN, _RESET = "\033[1m", "\033[2m", "\033[36m", "\033[0m"
_GUTTER = "  | "


def reactions_line(item: Item, names: dict[str, str]) -> str:
    """``:thumbsup: 2 (Ana, Dev)  :tada: 1 (Chloé)``: the reactions under a message."""
    return "  ".join(f":{emoji}: {len(users)} ({', '.join(names.get(u, u) for u in users)})"
                     for emoji, users in item.reactions)


class Transcript:
    def __init__(self, out: TextIO, *, color: bool = False) -> None:
        self.out = out
        self.color = color
        self._day: date | None = None

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def title(self, text: str) -> None:
        self.line(self._style(text, _BOLD))

    def note(self, text: str) -> None:
        self.line(self._style(text, _DIM))

    def narrate(self, at: datetime, text: str) -> None:
        """``09:30 · the scheduler posts today's prompt``, under a heading when the day changes."""
        if at.date() != self._day:
            self._day = at.date()
            self.line()
            self.line(self._style(f"=== {at:%A} {at.day} {at:%B %Y} ===", _BOLD))
        self.line()
        self.line(self._style(f"{at:%H:%M} · {text}", _BOLD))

    def show(self, shown: Iterable[Change], names: dict[str, str]) -> None:
        for change in shown:
            self.item(change, names)

    def item(self, change: Change, names: dict[str, str]) -> None:
        item = change.item
        if change.kind == "reactions":
            self._heading(f"{item.where} · reactions on the message from {item.author}")
            self.line(_GUTTER + reactions_line(item, names))
            return
        suffix = " (updated)" if change.kind == "updated" else ""
        self._heading(item.where + (f" · {item.author}" if item.author else "") + suffix)
        for text in item.body.split("\n"):
            self.line((_GUTTER + text).rstrip())
        if item.reactions:
            self.line(_GUTTER + reactions_line(item, names))

    def buttons(self, numbered: list[tuple[Item, Button]]) -> None:
        """The clickable buttons with their numbers, for ``click N``."""
        if not numbered:
            return
        self.line()
        for number, (item, button) in enumerate(numbered, start=1):
            self.line(self._style(f"  {number}) [ {button.label} ]  · {item.where}", _DIM))

    def _heading(self, text: str) -> None:
        self.line()
        self.line(self._style("  " + text, _CYAN))

    def _style(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.color and text else text
