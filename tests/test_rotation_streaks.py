from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from coachbot.bank import load_bank
from coachbot.rotation import choose
from coachbot.streaks import streaks

BANK = load_bank()


def test_a_category_is_exhausted_before_any_repeat():
    pool = BANK.select(category="coding")
    rng = random.Random(7)
    seen: set[str] = set()
    shown = []
    for _ in range(len(pool)):
        choice = choose(pool, seen, rng)
        assert choice.restart == ()
        seen.add(choice.question.id)
        shown.append(choice.question.id)
    assert sorted(shown) == sorted(q.id for q in pool)
    again = choose(pool, seen, rng, last=shown[-1])
    assert again.restart == ("coding",)
    assert again.question.id != shown[-1]


def test_track_pool_prefers_unseen_anywhere():
    pool = BANK.select(track="leadership")
    seen = {q.id for q in pool if q.category != "communication"}
    for seed in range(20):
        choice = choose(pool, seen, random.Random(seed))
        assert choice.question.category == "communication"


@given(st.integers(min_value=0, max_value=10_000))
def test_rotation_property_no_repeat_within_a_cycle(seed: int):
    pool = BANK.select(category="decision-making")
    rng = random.Random(seed)
    seen: set[str] = set()
    last = None
    for _ in range(len(pool) * 2):
        choice = choose(pool, seen, rng, last=last)
        if choice.restart:
            assert seen == {q.id for q in pool}
            seen = set()
        assert choice.question.id not in seen
        assert choice.question.id != last
        seen.add(choice.question.id)
        last = choice.question.id


D = date(2026, 11, 24)


@pytest.mark.parametrize(
    "days, current, best",
    [
        ([], 0, 0),
        ([D], 1, 1),
        ([D - timedelta(days=1)], 1, 1),  # today is not over: yesterday keeps the streak alive
        ([D - timedelta(days=2)], 0, 1),
        ([D, D - timedelta(days=1), D - timedelta(days=2)], 3, 3),
        ([D, D - timedelta(days=2), D - timedelta(days=3), D - timedelta(days=4)], 1, 3),
        ([D, D, D], 1, 1),
        ([D + timedelta(days=1)], 0, 0),  # a day in the future (clock skew) is ignored
    ],
)
def test_streaks(days: list[date], current: int, best: int):
    result = streaks(days, D)
    assert (result.current, result.best) == (current, best)
    assert result.days == len({d for d in days if d <= D})
