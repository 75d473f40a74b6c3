"""Streak maths on practice days. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable


@dataclass(frozen=True)
class Streaks:
    current: int
    best: int
    days: int


def streaks(days: Iterable[date], today: date) -> Streaks:
    """Current streak: consecutive practice days ending today, or yesterday
    (today is not over yet, so not having practised today does not break it).
    Days after ``today`` (clock skew, other timezones) are ignored."""
    ordered = sorted({d for d in days if d <= today})
    best = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    current = 0
    if ordered and today - ordered[-1] <= timedelta(days=1):
        current = run
    return Streaks(current=current, best=best, days=len(ordered))
