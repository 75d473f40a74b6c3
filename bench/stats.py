"""Percentiles and summaries of latency samples (seconds in, milliseconds out)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of an already sorted, non-empty sequence.

    Nearest rank: the smallest sample with at least ``p`` per cent of the
    samples at or below it, so p99 of 2,000 samples is the 1,980th smallest
    and p100 is the maximum. Never interpolates: every figure reported is a
    latency some request really had.
    """
    if not ordered:
        raise ValueError("no samples")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is outside (0, 100]")
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def summarize(latencies: Iterable[float], elapsed: float | None = None) -> dict[str, Any]:
    """Count, p50, p90, p99, max and mean in ms; requests/s when ``elapsed`` (seconds) is given."""
    ordered = sorted(latencies)
    if not ordered:
        return {"count": 0}
    summary: dict[str, Any] = {
        "count": len(ordered),
        "p50_ms": percentile(ordered, 50) * 1000,
        "p90_ms": percentile(ordered, 90) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "max_ms": ordered[-1] * 1000,
        "mean_ms": sum(ordered) / len(ordered) * 1000,
    }
    if elapsed is not None and elapsed > 0:
        summary["requests_per_s"] = len(ordered) / elapsed
    return summary


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def fmt_ms(value: float | None) -> str:
    """A latency in ms for a table: one decimal below 100 ms, whole ms above."""
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"
