"""Pacing maths with an injected clock: bursts up to the budget, then the budget's pace;
a 429 pauses everyone."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coachbot.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_a_full_budget_bursts_then_paces():
    t = FakeTime()
    pacer = Pacer(60, clock=t.clock, sleep=t.sleep)  # 60 a minute: one a second after the burst
    waits = [pacer.reserve() for _ in range(62)]
    assert waits[:60] == [0.0] * 60
    assert waits[60] == pytest.approx(1.0) and waits[61] == pytest.approx(2.0)


def test_the_budget_refills_over_time():
    t = FakeTime()
    pacer = Pacer(120, burst=1, clock=t.clock, sleep=t.sleep)  # two a second, no burst
    assert pacer.acquire() == 0.0
    assert pacer.acquire() == pytest.approx(0.5)
    t.now += 10
    assert pacer.acquire() == 0.0


def test_a_429_pauses_everyone_for_retry_after():
    t = FakeTime()
    pacer = Pacer(600, clock=t.clock, sleep=t.sleep)
    pacer.pause(3)
    assert pacer.reserve() == pytest.approx(3.0)
    t.now += 3
    assert pacer.reserve() == pytest.approx(0.1, abs=0.01)  # the budget restarts from empty


@given(st.integers(1, 600), st.integers(1, 2000))
def test_n_posts_never_beat_the_floor(per_minute: int, n: int):
    """However the calls come, n posts take at least the time the budget allows."""
    t = FakeTime()
    pacer = Pacer(per_minute, clock=t.clock, sleep=t.sleep)
    for _ in range(n):
        pacer.acquire()
    floor = max(0.0, (n - per_minute) / (per_minute / 60))
    assert t.now >= floor - 1e-6
    assert t.now <= floor + 60 / per_minute + 1e-6  # and no slower than one token late


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        Pacer(0)
