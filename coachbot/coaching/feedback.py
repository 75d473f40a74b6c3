"""What the coach says about an answer: plain, frozen data that any renderer can show.

The same shape can carry another reviewer's verdict (``source``), so a Block
Kit builder that shows a ``Feedback`` shows either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    key: str  # a word of the missing-point vocabulary
    label: str
    passed: bool
    quote: str | None  # the sentence of the answer that earned it, verbatim (cut with "…" if long)
    advice: str  # what to do, when it did not pass


@dataclass(frozen=True)
class LookFor:
    point: str  # one of the question's look-for points
    mentioned: bool  # the answer uses enough of its words; not a judgement that it is right


@dataclass(frozen=True)
class Feedback:
    kind: str  # the kind of question: story, hypothetical, coding, debugging, investigation, design, knowledge, estimate
    headline: str
    next_step: str  # the most important fix, or a stretch goal when nothing is missing
    focus: tuple[str, ...]  # the vocabulary words the next step names, the main one first; ("none",) for a stretch
    fixes: tuple[Check, ...]  # other failed checks, most important first, not repeating the next step
    passed: tuple[Check, ...]  # passed checks, each with its quote
    look_for: tuple[LookFor, ...]  # the question's points, for the person to tick off
    not_checked: str  # what the coach cannot judge
    score: float  # 0.0 to 1.0
    word_count: int
    gate: str | None = None  # the gate that decided the next step, if any
    source: str = "rules"

    @property
    def points(self) -> int:
        """The score out of ten, as people are shown it."""
        return round(self.score * 10)
