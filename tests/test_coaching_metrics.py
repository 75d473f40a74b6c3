"""The coach measured against hand-graded answers (tests/coaching_cases.yaml).

Three figures, on the dev part (the coach was tuned on it) and the holdout part
(never tuned on) separately:

* Spearman's rank correlation between the coach's score and the grade;
* the share of keyword-stuffed answers scoring 0.6 of the maximum or more;
* the share of answers whose next step names the grader's main missing point.

``python -m tests.test_coaching_metrics`` prints them; docs/coaching.md reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from coachbot.bank import Question
from coachbot.coaching import Feedback, coach

CASES = Path(__file__).with_name("coaching_cases.yaml")

# The goals of the issue.
MIN_CORRELATION = 0.8
MAX_STUFFED_HIGH = 0.10
MIN_NEXT_STEP = 0.70
HIGH = 0.6  # "scoring high": this share of the maximum or more

# The holdout part misses two goals (docs/coaching.md): until it meets them, it must not fall below
# what it measured when this test was written.
HOLDOUT_FLOOR = {"correlation": 0.79, "next_step": 0.66}

ADVERSARIAL_GATES = {  # kind of answer -> what the next step must name first
    "pasted": {"pasted"},
    "stuffed": {"substance"},
    "rambling": {"concise"},
    "wrong-track": {"story", "approach", "relevance"},
}


@dataclass(frozen=True)
class Case:
    id: str
    question: Question
    answer: str
    grade: int
    missing: str
    kind: str
    split: str


@dataclass(frozen=True)
class Figures:
    n: int
    correlation: float
    correlation_leadership: float
    correlation_technical: float
    stuffed_high: float
    stuffed: int
    next_step: float


@cache
def cases() -> tuple[Case, ...]:
    data = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    questions = {
        qid: Question(qid, q["track"], q["category"], "mid", q["question"].strip(), tuple(q["look_for"]), (), "")
        for qid, q in data["questions"].items()
    }
    return tuple(
        Case(c["id"], questions[c["question_id"]], c["answer"], c["grade"], c["missing"], c["kind"], c["split"])
        for c in data["cases"]
    )


@cache
def feedback(case_id: str) -> Feedback:
    case = next(c for c in cases() if c.id == case_id)
    return coach(case.answer, case.question)


def ranks(values: list[float]) -> list[float]:
    """1-based ranks; ties share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rho: Pearson's correlation of the ranks (correct with ties)."""
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else 0.0


def figures(split: str) -> Figures:
    part = [c for c in cases() if c.split == split]

    def rho(track: str | None) -> float:
        chosen = [c for c in part if track is None or c.question.track == track]
        return spearman([feedback(c.id).score for c in chosen], [float(c.grade) for c in chosen])

    stuffed = [c for c in part if c.kind == "stuffed"]
    return Figures(
        n=len(part),
        correlation=rho(None),
        correlation_leadership=rho("leadership"),
        correlation_technical=rho("technical"),
        stuffed_high=sum(feedback(c.id).score >= HIGH for c in stuffed) / len(stuffed),
        stuffed=len(stuffed),
        next_step=sum(c.missing in feedback(c.id).focus for c in part) / len(part),
    )


# --- the table itself -----------------------------------------------------------------


def test_the_table_covers_what_the_issue_asks_for():
    table = cases()
    assert len(table) >= 80
    assert len({c.question.category for c in table}) == 9
    kinds = {c.kind for c in table}
    assert kinds >= {"strong", "middling", "weak", "stuffed", "off-topic", "pasted", "wrong-track", "wrong-facts",
                     "rambling", "no-star-labels", "non-native"}
    holdout = sum(c.split == "holdout" for c in table) / len(table)
    assert 0.2 <= holdout <= 0.35
    assert all(1 <= c.grade <= 5 and c.answer.strip() for c in table)
    assert len({c.id for c in table}) == len(table)


# --- the metrics ------------------------------------------------------------------------


def test_spearman_matches_hand_worked_examples():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): Pearson of the ranks, by hand 0.9487
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9487, abs=1e-4)


def test_dev_part_meets_the_goals():
    found = figures("dev")
    assert found.correlation >= MIN_CORRELATION, found
    assert found.stuffed_high <= MAX_STUFFED_HIGH, found
    assert found.next_step >= MIN_NEXT_STEP, found


def test_holdout_part_does_not_fall_back():
    found = figures("holdout")
    assert found.stuffed_high <= MAX_STUFFED_HIGH, found
    assert found.correlation >= min(MIN_CORRELATION, HOLDOUT_FLOOR["correlation"]), found
    assert found.next_step >= min(MIN_NEXT_STEP, HOLDOUT_FLOOR["next_step"]), found


@pytest.mark.parametrize("kind", sorted(ADVERSARIAL_GATES))
def test_adversarial_answers_are_caught_before_the_checks(kind: str):
    for case in (c for c in cases() if c.kind == kind):
        shown = feedback(case.id)
        assert shown.focus[0] in ADVERSARIAL_GATES[kind], (case.id, shown.focus)
        assert shown.score < HIGH, (case.id, shown.score)


def test_off_topic_answers_score_low():
    off = [c for c in cases() if c.kind == "off-topic"]
    caught = [c for c in off if feedback(c.id).gate == "relevance"]
    assert len(caught) >= len(off) - 1  # one shares a word by chance ("pull request" for "urgent requests")
    assert all(feedback(c.id).score < HIGH for c in off)


def test_wrong_facts_are_not_judged_and_the_coach_says_so():
    for case in (c for c in cases() if c.kind == "wrong-facts"):
        shown = feedback(case.id)
        assert "not whether it is right" in shown.not_checked
        assert [p.point for p in shown.look_for] == list(case.question.look_for)


def main() -> None:
    for split in ("dev", "holdout"):
        f = figures(split)
        print(f"{split:8s} n={f.n:3d}  rank correlation {f.correlation:.3f} (leadership {f.correlation_leadership:.2f}, "
              f"technical {f.correlation_technical:.2f})  stuffed scoring >= {HIGH}: {f.stuffed_high:.0%} "
              f"of {f.stuffed}  next step names the missing point: {f.next_step:.0%}")


if __name__ == "__main__":
    main()
