"""The editorial checks of `coachbot questions check`: near-duplicates, labels that don't fit, the bank's shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from coachbot import tracks
from coachbot.bank import Question
from coachbot.bank_review import ERROR, WARNING, Finding, label_findings, near_duplicates, review, shape_findings
from coachbot.cli import main

FIXTURE = yaml.safe_load((Path(__file__).parent / "fixtures" / "bank_pairs.yaml").read_text())


def question(qid: str, text: str, difficulty: str = "senior", category: str | None = None,
             look_for: tuple[str, ...] = ("One point", "Another point", "A third point")) -> Question:
    category = category or qid.rsplit("-", 1)[0]
    return Question(id=qid, track=tracks.category(category).track, category=category, difficulty=difficulty,
                    text=text.strip(), look_for=look_for, follow_ups=("A?", "B?"), tip="Do this.")


def old_bank() -> list[Question]:
    return [question(q["id"], q["question"], q["difficulty"], q["category"], tuple(q["look_for"]))
            for q in FIXTURE["questions"]]


def flagged(findings: list[Finding]) -> set[frozenset[str]]:
    """The pairs that a near-duplicate error names."""
    out = set()
    for f in findings:
        if f.severity == ERROR and f.says.startswith("near-duplicate of "):
            out.add(frozenset((f.question_id, f.says.split()[2])))
    return out


@pytest.fixture(scope="module")
def old_findings() -> list[Finding]:
    return near_duplicates(old_bank())


@pytest.mark.parametrize("pair", FIXTURE["duplicates"], ids="/".join)
def test_every_old_duplicate_pair_is_flagged(pair: list[str], old_findings: list[Finding]):
    assert frozenset(pair) in flagged(old_findings)


@pytest.mark.parametrize("pair", FIXTURE["distinct"], ids="/".join)
def test_questions_on_one_topic_that_ask_different_things_are_not_flagged(pair: list[str],
                                                                          old_findings: list[Finding]):
    assert frozenset(pair) not in flagged(old_findings)


def test_the_finding_names_file_id_other_question_and_reason(old_findings: list[Finding]):
    said = [str(f) for f in old_findings if f.question_id == "coding-017" and "problem-solving-001" in f.says]
    assert said == ["error: technical/coding.yaml: coding-017: near-duplicate of problem-solving-001 "
                    "(technical/problem-solving.yaml): both ask 'shortest path on a grid'"]


def test_a_reworded_copy_is_caught_by_wording_alone():
    # No entry of the asks table covers hash maps; the wording is what gives it away.
    first = question("technical-knowledge-001", "Explain how a hash map stores and finds keys, and what happens "
                     "when two keys land in the same bucket.",
                     look_for=("Hashes the key to a bucket index", "Handles collisions by chaining or probing",
                               "Resizes when the load factor passes a limit"))
    second = question("coding-001", "How does a hash map find a key, and what does it do when two keys land in "
                      "the same bucket?",
                      look_for=("Key hashed to pick a bucket", "Collisions handled with chaining or open probing",
                                "Grows the table once the load factor is too high"))
    filler = [question(f"coding-{n:03}", text) for n, text in enumerate((
        "Write a function that reverses a linked list in place.",
        "Find the median of two sorted arrays.",
        "Design a rate limiter for a public API.",
        "Explain what a database index is and when it does not help.",
        "Describe how TLS sets up an encrypted connection.",
    ), start=10)]
    findings = near_duplicates([first, second, *filler])
    assert flagged(findings) == {frozenset(("technical-knowledge-001", "coding-001"))}
    assert "worded alike (score" in next(f.says for f in findings if f.severity == ERROR)


@pytest.mark.parametrize(
    "qid, difficulty, text, expected",
    [
        ("team-management-001", "staff", "How do you develop the managers who report to you?",
         "has director/VP-level scope ('managers who report to you')"),
        ("communication-001", "senior", "Tell me about a time you presented a new plan to a large "
         "engineering organisation.", "has director/VP-level scope ('to a large engineering organisation')"),
        ("team-management-002", "staff", "Describe how you planned the layoffs in your department.",
         "has director/VP-level scope ('planned the layoffs')"),
        ("project-management-001", "entry", "Tell me about a project you coordinated across several teams.",
         "is entry level but demands multi-team scope ('several teams')"),
        ("vision-strategy-001", "senior", "Tell me about a time you fixed a flaky test.",
         "has none of the vision-strategy markers"),
        ("decision-making-001", "mid", "Tell me about a time you helped a colleague.",
         "has none of the decision-making markers"),
    ],
)
def test_labels_that_do_not_fit_are_errors(qid: str, difficulty: str, text: str, expected: str):
    findings = label_findings([question(qid, text, difficulty)])
    assert any(f.severity == ERROR and expected in f.says for f in findings), findings


@pytest.mark.parametrize(
    "qid, difficulty, text",
    [
        ("communication-001", "staff", "Tell me about a time you gave feedback to someone more senior than you, "
         "such as a director, about how they ran meetings across teams."),
        ("team-management-001", "senior", "How did you keep your team focused through a reorganisation "
         "you did not choose?"),
        ("project-management-001", "entry", "Tell me about a task that took longer than you estimated."),
        ("communication-001", "entry", "Tell me about a time you asked another team for help with a bug."),
        ("communication-002", "entry", "How do you keep other teams informed about a change you are making?"),
        ("vision-strategy-001", "senior", "How would you set a two-year direction for your team's service?"),
        ("decision-making-001", "entry", "Tell me about a time you had to choose between two ways to fix a bug."),
    ],
)
def test_labels_that_fit_are_not_flagged(qid: str, difficulty: str, text: str):
    assert label_findings([question(qid, text, difficulty)]) == []


def test_a_staff_leadership_question_without_scope_is_a_warning_and_a_technical_one_is_not():
    lead = question("communication-001", "Tell me about a hard conversation with a peer.", "staff")
    tech = question("coding-001", "Find the bug in this lock-free queue.", "staff")
    assert [f.severity for f in label_findings([lead, tech])] == [WARNING]


def test_the_shape_wants_40_per_category_and_7_per_level():
    full = [question(f"{c.slug}-{n:03}", f"Question {n}", tracks.DIFFICULTIES[n % 4], c.slug)
            for c in tracks.CATEGORIES for n in range(40)]
    assert shape_findings(full) == []
    short = [q for q in full if not (q.category == "coding" and q.difficulty == "entry" and q.id > "coding-020")]
    assert [str(f) for f in shape_findings(short)] == [
        "error: technical/coding.yaml: 36 questions (at least 40)",
        "error: technical/coding.yaml: fewer than 7 at a level: entry 6",
    ]


def test_review_puts_errors_first():
    findings = review([question("communication-001", "Tell me about a hard conversation with a peer.", "staff")])
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=lambda s: s != ERROR) and WARNING in severities


GOOD_FILE = """\
track: leadership
category: decision-making
questions:
"""
ITEM = """\
  - id: decision-making-{n:03}
    difficulty: {level}
    question: {text}
    look_for: [Weighs the options they had, Names who the decision affected, Says how it turned out]
    follow_ups: [What would change your mind?, Who disagreed?]
    tip: Name the options you rejected.
"""


def test_questions_check_prints_levels_and_fails_on_a_near_duplicate(tmp_path: Path):
    texts = ["Tell me about a time you decided something without all the data you wanted.",
             "Describe a decision you made with incomplete information."]
    body = GOOD_FILE + "".join(ITEM.format(n=n, level=level, text=text)
                               for n, (level, text) in enumerate(zip(("entry", "mid"), texts), start=1))
    (tmp_path / "leadership").mkdir()
    (tmp_path / "leadership" / "decision-making.yaml").write_text(body)
    result = CliRunner().invoke(main, ["questions", "check", "--path", str(tmp_path)])
    assert result.exit_code == 1
    assert "  decision-making: 2 (entry 1, mid 1, senior 0, staff 0)" in result.output
    assert ("error: leadership/decision-making.yaml: decision-making-001: near-duplicate of decision-making-002 "
            "(leadership/decision-making.yaml): both ask 'deciding without all the information'") in result.output
    assert "fewer than 7 at a level" in result.output



def test_two_questions_about_a_blocked_event_loop_are_one_ask():
    # Found while writing the v2 bank: a coding and a knowledge question both showed time.sleep in a coroutine.
    coding = question("coding-001", "This asyncio service serves requests one at a time. Explain why and fix it.",
                      look_for=("Sees that a blocking call stalls every other request on the loop",
                                "Uses an async client or asyncio.to_thread", "Finds such calls with debug mode"))
    knowledge = question("technical-knowledge-001", "These two fetches were meant to overlap but run in turn. Why?",
                         look_for=("Explains that time.sleep blocks the whole event loop",
                                   "Says gather starts coroutines in order", "Fixes it with await asyncio.sleep"))
    findings = near_duplicates([coding, knowledge])
    assert flagged(findings) == {frozenset(("coding-001", "technical-knowledge-001"))}
    assert "a blocking call stalling an asyncio event loop" in findings[0].says
