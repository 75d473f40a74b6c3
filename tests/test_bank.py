from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from coachbot import tracks
from coachbot.bank import check_bank, default_root, load_bank
from coachbot.cli import main
from coachbot.errors import QuestionBankError

GOOD = """\
track: leadership
category: decision-making
questions:
  - id: decision-making-001
    difficulty: senior
    question: Tell me about a hard call you made.
    look_for:
      - Options weighed
      - Owns the outcome
      - Says what they learned
    follow_ups:
      - What would change your mind?
      - Who disagreed?
    tip: Name the options you rejected.
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_shipped_bank_has_25_or_more_per_category():
    bank = load_bank()
    counts = bank.counts()
    assert set(counts) == {(c.track, c.slug) for c in tracks.CATEGORIES}
    assert all(n >= 25 for n in counts.values()), counts
    assert len(bank) >= 225


def test_shipped_questions_are_well_formed():
    bank = load_bank()
    for question in bank:
        assert question.id.startswith(question.category + "-")
        assert question.difficulty in tracks.DIFFICULTIES
        assert 3 <= len(question.look_for) <= 5 and 2 <= len(question.follow_ups) <= 4
        assert len(question.text) <= 2500, question.id  # fits a Slack section with room to spare
    leadership = [q for q in bank if q.track == "leadership"]
    behavioural = [q for q in leadership if q.text.lower().startswith(("tell me", "describe", "how do", "how would",
                                                                       "walk me", "give me", "what", "share",
                                                                       "when", "have you", "imagine", "suppose",
                                                                       "you ", "think", "explain"))]
    assert len(behavioural) / len(leadership) > 0.9


def test_a_good_file_loads(tmp_path: Path):
    write(tmp_path, "leadership/decision-making.yaml", GOOD)
    bank = load_bank(tmp_path)
    question = bank.get("decision-making-001")
    assert question is not None and question.track == "leadership"
    assert question.follow_ups == ("What would change your mind?", "Who disagreed?")


@pytest.mark.parametrize(
    "rel, text, expected",
    [
        ("leadership/decision-making.yaml", GOOD.replace("    tip: Name the options you rejected.\n", ""),
         "leadership/decision-making.yaml: decision-making-001: missing field 'tip'"),
        ("leadership/cooking.yaml", GOOD.replace("category: decision-making", "category: cooking"),
         "leadership/cooking.yaml: unknown category 'cooking'"),
        ("leadership/decision-making.yaml", GOOD.replace("difficulty: senior", "difficulty: wizard"),
         "decision-making-001: unknown difficulty 'wizard'"),
        ("leadership/decision-making.yaml", GOOD.replace("      - Who disagreed?\n", ""),
         "decision-making-001: follow_ups has 1 items (expected 2 to 4)"),
        ("leadership/decision-making.yaml", "track: [unclosed", "leadership/decision-making.yaml: not valid YAML"),
        ("technical/decision-making.yaml", GOOD.replace("track: leadership", "track: technical"),
         "unknown category 'decision-making' for track technical"),
    ],
)
def test_bad_files_name_path_id_and_problem(tmp_path: Path, rel: str, text: str, expected: str):
    write(tmp_path, rel, text)
    _, problems = check_bank(tmp_path)
    assert any(expected in p for p in problems), problems
    with pytest.raises(QuestionBankError):
        load_bank(tmp_path)


def test_duplicate_ids_across_files_are_reported(tmp_path: Path):
    write(tmp_path, "leadership/decision-making.yaml", GOOD)
    other = GOOD.replace("decision-making", "communication").replace("communication-001", "decision-making-001")
    write(tmp_path, "leadership/communication.yaml", other)
    _, problems = check_bank(tmp_path)
    assert problems == [
        "leadership/decision-making.yaml: decision-making-001: duplicate id (also in leadership/communication.yaml)"
    ]


def test_questions_check_on_the_shipped_bank():
    result = CliRunner().invoke(main, ["questions", "check"])
    assert result.exit_code == 0, result.output
    bank = load_bank(default_root())
    assert f"total: {len(bank)} questions, 9 categories" in result.output
    for category in tracks.CATEGORIES:
        assert f"  {category.slug}: {bank.counts()[(category.track, category.slug)]}" in result.output


def test_questions_check_reports_problems_and_fails(tmp_path: Path):
    write(tmp_path, "leadership/decision-making.yaml", GOOD.replace("    difficulty: senior\n", ""))
    result = CliRunner().invoke(main, ["questions", "check", "--path", str(tmp_path)])
    assert result.exit_code == 1
    assert "decision-making-001: missing field 'difficulty'" in result.output
