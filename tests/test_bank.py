from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from coachbot import blocks, tracks
from coachbot.bank import Snippet, check_bank, default_root, load_bank
from coachbot.cli import main
from coachbot.errors import QuestionBankError
from coachbot.standin.render import render_blocks

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


def test_shipped_bank_has_40_or_more_per_category_and_7_or_more_per_level():
    bank = load_bank()
    counts = bank.counts()
    assert set(counts) == {(c.track, c.slug) for c in tracks.CATEGORIES}
    assert all(n >= 40 for n in counts.values()), counts
    for category in tracks.CATEGORIES:
        levels = Counter(q.difficulty for q in bank.select(category=category.slug))
        assert all(levels[level] >= 7 for level in tracks.DIFFICULTIES), (category.slug, levels)


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


CODE = """\
track: technical
category: coding
questions:
  - id: coding-001
    difficulty: entry
    question: |
      What does this print?

          items = [1, 2, 3]
          print(items[-1])
{snippet}    look_for:
      - Knows negative indexes count from the end
      - Says -1 is the last item
      - Mentions IndexError for an empty list
    follow_ups:
      - What does items[-4] do?
      - What about items[5:]?
    tip: Say what happens at the edges too.
"""


def test_entry_is_a_level_and_the_levels_are_ordered():
    assert tracks.DIFFICULTIES == ("entry", "mid", "senior", "staff")


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ("    snippet:\n      stdout: |\n        3\n", Snippet(stdout="3\n")),
        ("    snippet:\n      raises: IndexError\n", Snippet(raises="IndexError")),
        ("    snippet:\n      raises: json.JSONDecodeError\n", Snippet(raises="json.JSONDecodeError")),
        ("    snippet:\n      hangs: true\n", Snippet(hangs=True)),
    ],
)
def test_a_snippet_loads(tmp_path: Path, snippet: str, expected: Snippet):
    write(tmp_path, "technical/coding.yaml", CODE.format(snippet=snippet))
    question = load_bank(tmp_path).get("coding-001")
    assert question is not None and question.difficulty == "entry"
    assert question.snippet == expected
    assert question.code == "items = [1, 2, 3]\nprint(items[-1])\n"


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ("", "coding-001: the question has a Python code block but no 'snippet'"),
        ("    snippet:\n      stdout: '3'\n      hangs: true\n", "'snippet' must have exactly one of stdout, raises, hangs"),
        ("    snippet:\n      prints: '3'\n", "'snippet' must have exactly one of stdout, raises, hangs"),
        ("    snippet: '3'\n", "'snippet' must have exactly one of stdout, raises, hangs"),
        ("    snippet:\n      stdout: [3]\n", "snippet stdout must be text"),
        ("    snippet:\n      hangs: false\n", "snippet hangs must be true"),
        ("    snippet:\n      raises: index error\n", "snippet raises must be an exception name"),
        ("    snippet:\n      raises: print\n", "snippet raises 'print' is not a built-in exception"),
        ("    snippet:\n      raises: Oops\n", "snippet raises 'Oops' is not a built-in exception"),
    ],
)
def test_a_bad_snippet_is_named(tmp_path: Path, snippet: str, expected: str):
    write(tmp_path, "technical/coding.yaml", CODE.format(snippet=snippet))
    _, problems = check_bank(tmp_path)
    assert any(expected in p for p in problems), problems


def test_a_snippet_may_name_an_exception_the_code_defines(tmp_path: Path):
    text = CODE.replace("print(items[-1])", "class Oops(Exception): pass\n          raise Oops()")
    write(tmp_path, "technical/coding.yaml", text.format(snippet="    snippet:\n      raises: Oops\n"))
    assert load_bank(tmp_path).get("coding-001").snippet == Snippet(raises="Oops")


@pytest.mark.parametrize(
    "block",
    ["SELECT name FROM users WHERE id = 1;", "ls -la | grep yaml", '{"id": 1, "tags": ["a"]}'],
)
def test_code_that_is_not_python_needs_no_snippet_and_may_not_have_one(tmp_path: Path, block: str):
    text = CODE.format(snippet="{snippet}").replace("items = [1, 2, 3]\n          print(items[-1])", block)
    write(tmp_path, "technical/coding.yaml", text.replace("{snippet}", ""))
    assert load_bank(tmp_path).get("coding-001").snippet is None
    write(tmp_path, "technical/coding.yaml", text.replace("{snippet}", "    snippet:\n      stdout: '1'\n"))
    _, problems = check_bank(tmp_path)
    assert problems == ["technical/coding.yaml: coding-001: 'snippet' given but the question has no indented "
                        "Python code block"]


def test_two_code_blocks_with_python_are_one_too_many(tmp_path: Path):
    text = CODE.replace("print(items[-1])", "print(items[-1])\n\n      and this:\n\n          print(items[0])")
    write(tmp_path, "technical/coding.yaml", text.format(snippet="    snippet:\n      stdout: |\n        3\n"))
    _, problems = check_bank(tmp_path)
    assert any("2 indented code blocks" in p for p in problems), problems


@pytest.mark.parametrize("level, label", [("entry", "Entry level"), ("mid", "Mid-level"), ("senior", "Senior"),
                                          ("staff", "Staff+")])
def test_the_level_shows_on_the_card_the_daily_prompt_and_the_shared_post(level: str, label: str):
    question = next(q for q in load_bank() if q.difficulty == level and q.category == "technical-knowledge")
    expected = f"Technical · Technical knowledge · {label}"
    shown = [
        render_blocks(blocks.question_card(question, ask_track=None, ask_category=None)["blocks"]),
        render_blocks(blocks.prompt_message(question)["blocks"]),
        render_blocks(blocks.shared_question(question, "U1")["blocks"]),
    ]
    assert all(expected in text for text in shown), shown


README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_counts_and_level_labels_match_the_bank():
    readme = README.read_text()
    bank = load_bank()
    for category in tracks.CATEGORIES:
        levels = Counter(q.difficulty for q in bank.select(category=category.slug))
        row = (f"| {category.track} | `{category.slug}` | "
               + " | ".join(str(levels[level]) for level in tracks.DIFFICULTIES) + f" | {sum(levels.values())} |")
        assert row in readme, row
    assert f"| {len(bank)} |" in readme
    for level, label in blocks.DIFFICULTY_LABEL.items():
        assert f"| `{level}` | {label} |" in readme
    assert list(blocks.DIFFICULTY_LABEL) == list(tracks.DIFFICULTIES)


def test_a_look_for_point_with_a_colon_gets_a_hint(tmp_path: Path):
    write(tmp_path, "leadership/decision-making.yaml", GOOD.replace("- Owns the outcome", "- Owns it: the outcome"))
    _, problems = check_bank(tmp_path)
    assert problems == ["leadership/decision-making.yaml: decision-making-001: look_for must be a list of text "
                        "(an item with ': ' in it needs quotes)"]
