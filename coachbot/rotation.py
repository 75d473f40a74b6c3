"""Which question comes next, without repeats. Pure: the caller loads and stores what was seen.

A person (or, for daily prompts, a channel) sees every question of a category
before any of that category comes round again. When a pool spans several
categories, unseen questions anywhere in it come first; only when the whole
pool is used up does it start over, and never with the question just shown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Collection, Sequence

from coachbot.bank import Question


@dataclass(frozen=True)
class Choice:
    question: Question
    restart: tuple[str, ...]  # categories whose "seen" record should be cleared before recording this one


def choose(
    pool: Sequence[Question],
    seen: Collection[str],
    rng: random.Random,
    *,
    last: str | None = None,
) -> Choice:
    if not pool:
        raise ValueError("the pool of questions is empty")
    unseen = [q for q in pool if q.id not in seen]
    if unseen:
        return Choice(rng.choice(unseen), ())
    fresh = [q for q in pool if q.id != last] or list(pool)
    restart = tuple(sorted({q.category for q in pool}))
    return Choice(rng.choice(fresh), restart)


def cycle_order(pool: Sequence[Question], seen: Collection[str], start_after: str | None = None) -> list[Question]:
    """The unseen questions of ``pool`` in bank order, for deterministic rotations (daily prompts)."""
    return [q for q in pool if q.id not in seen and q.id != start_after]
