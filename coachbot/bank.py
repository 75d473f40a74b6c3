"""The question bank: YAML files under ``questions/``, loaded and validated.

A bad file fails with its path, the question id and what is wrong; every
problem in the bank is reported at once, not just the first.
"""

from __future__ import annotations

import ast
import builtins
import random
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml

from coachbot import tracks
from coachbot.errors import QuestionBankError

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REQUIRED_FIELDS = ("id", "difficulty", "question", "look_for", "follow_ups", "tip")
OPTIONAL_FIELDS = ("snippet",)
LIST_BOUNDS = {"look_for": (3, 5), "follow_ups": (2, 4)}
SNIPPET_KINDS = ("stdout", "raises", "hangs")
CODE_INDENT = "    "  # a code block in a question is indented by four spaces inside a `|` scalar
_EXCEPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


@dataclass(frozen=True)
class Snippet:
    """What running a question's code block with python3 does: exactly one of the three."""

    stdout: str | None = None  # exactly what it prints
    raises: str | None = None  # the exception it ends with, by name (``IndexError``, ``json.JSONDecodeError``)
    hangs: bool = False  # it does not finish within a couple of seconds


@dataclass(frozen=True)
class Question:
    id: str
    track: str
    category: str
    difficulty: str
    text: str
    look_for: tuple[str, ...]
    follow_ups: tuple[str, ...]
    tip: str
    snippet: Snippet | None = None

    @property
    def code(self) -> str | None:
        """The question's indented code block, dedented, or None."""
        blocks = code_blocks(self.text)
        return blocks[0] if blocks else None


def code_blocks(text: str) -> list[str]:
    """The runs of lines indented by four spaces (blank lines inside a run belong to it), dedented."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith(CODE_INDENT) and line.strip():
            current.append(line)
        elif not line.strip() and current:
            current.append("")
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return [textwrap.dedent("\n".join(b).rstrip("\n")) + "\n" for b in blocks]


def is_python(code: str) -> bool:
    """True when a block parses as Python and does something (a statement or a call).

    A bare expression is not enough: JSON parses as a dict, and a shell line
    like ``ls -la | grep x`` parses as arithmetic; neither is Python code.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(not isinstance(node, ast.Expr) or isinstance(node.value, ast.Call) for node in tree.body)


class QuestionBank:
    def __init__(self, questions: Iterable[Question]) -> None:
        self._questions = tuple(questions)
        self._by_id = {q.id: q for q in self._questions}

    def __len__(self) -> int:
        return len(self._questions)

    def __iter__(self):
        return iter(self._questions)

    def get(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def select(self, track: str | None = None, category: str | None = None) -> tuple[Question, ...]:
        return tuple(
            q
            for q in self._questions
            if (track is None or q.track == track) and (category is None or q.category == category)
        )

    def counts(self) -> dict[tuple[str, str], int]:
        """Questions per (track, category), in the canonical category order."""
        found = Counter((q.track, q.category) for q in self._questions)
        return {(c.track, c.slug): found.get((c.track, c.slug), 0) for c in tracks.CATEGORIES}

    def example(self, track: str, rng: random.Random) -> Question:
        return rng.choice(self.select(track=track))


def default_root() -> Path:
    """Where the shipped bank lives: ``questions/`` in a checkout, ``coachbot/questions`` when installed."""
    return Path(str(resources.files("coachbot.questions")))


def load_bank(root: Path | None = None) -> QuestionBank:
    questions, problems = check_bank(root)
    if problems:
        raise QuestionBankError(problems)
    return QuestionBank(questions)


def check_bank(root: Path | None = None) -> tuple[list[Question], list[str]]:
    """Validate every file; return the good questions and a list of problems."""
    root = root or default_root()
    files = sorted(root.glob("*/*.yaml"))
    problems: list[str] = []
    questions: list[Question] = []
    seen: dict[str, str] = {}
    if not files:
        problems.append(f"{root}: no question files (expected <track>/<category>.yaml)")
    for path in files:
        rel = path.relative_to(root).as_posix()
        for question in _load_file(path, rel, problems):
            if question.id in seen:
                problems.append(f"{rel}: {question.id}: duplicate id (also in {seen[question.id]})")
                continue
            seen[question.id] = rel
            questions.append(question)
    return questions, problems


def _load_file(path: Path, rel: str, problems: list[str]) -> list[Question]:
    try:
        # libyaml's loader when it is there: the same result, ten times faster at start-up.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(f"{rel}: not valid YAML: {str(exc).splitlines()[0]}")
        return []
    if not isinstance(data, dict):
        problems.append(f"{rel}: expected a mapping with track, category and questions")
        return []
    track_slug, category_slug = data.get("track"), data.get("category")
    expected_track, expected_category = path.parent.name, path.stem
    if track_slug not in tracks.TRACK_SLUGS:
        problems.append(f"{rel}: unknown track {track_slug!r} (expected one of {', '.join(tracks.TRACK_SLUGS)})")
        return []
    if category_slug not in tracks.CATEGORY_SLUGS or tracks.category(category_slug).track != track_slug:
        names = ", ".join(c.slug for c in tracks.categories_of(track_slug))
        problems.append(f"{rel}: unknown category {category_slug!r} for track {track_slug} (expected one of {names})")
        return []
    if (track_slug, category_slug) != (expected_track, expected_category):
        problems.append(f"{rel}: declares {track_slug}/{category_slug} but lives at {rel}")
        return []
    items = data.get("questions")
    if not isinstance(items, list) or not items:
        problems.append(f"{rel}: 'questions' must be a non-empty list")
        return []
    out = []
    for index, item in enumerate(items, start=1):
        question = _question(item, track_slug, category_slug, f"{rel}: question #{index}", problems, rel)
        if question is not None:
            out.append(question)
    return out


def _question(
    item: Any, track_slug: str, category_slug: str, where: str, problems: list[str], rel: str
) -> Question | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected a mapping")
        return None
    qid = item.get("id")
    if isinstance(qid, str) and qid.strip():
        where = f"{rel}: {qid}"
    before = len(problems)
    for name in REQUIRED_FIELDS:
        if name not in item or item[name] in (None, "", []):
            problems.append(f"{where}: missing field {name!r}")
    unknown = sorted(set(item) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS) - {"track", "category"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    for name in ("track", "category"):
        if name in item and item[name] != {"track": track_slug, "category": category_slug}[name]:
            problems.append(f"{where}: {name} {item[name]!r} does not match the file's {name}")
    if len(problems) > before:
        return None
    if not isinstance(qid, str) or not qid.replace("-", "").isalnum():
        problems.append(f"{where}: id must be letters, digits and dashes")
    if item["difficulty"] not in tracks.DIFFICULTIES:
        problems.append(f"{where}: unknown difficulty {item['difficulty']!r} (expected {', '.join(tracks.DIFFICULTIES)})")
    for name in ("question", "tip"):
        if not isinstance(item[name], str):
            problems.append(f"{where}: {name} must be text")
    for name, (low, high) in LIST_BOUNDS.items():
        value = item[name]
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):
            # YAML reads "- Plans it: a list" as a mapping; this is the usual way a point stops being text.
            problems.append(f"{where}: {name} must be a list of text (an item with ': ' in it needs quotes)")
        elif not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{where}: {name} must be a list of text")
        elif not low <= len(value) <= high:
            problems.append(f"{where}: {name} has {len(value)} items (expected {low} to {high})")
    if len(problems) > before:
        return None
    text = item["question"].strip()
    snippet = _snippet(item.get("snippet"), text, where, problems)
    if len(problems) > before:
        return None
    return Question(
        id=qid,
        track=track_slug,
        category=category_slug,
        difficulty=item["difficulty"],
        text=text,
        look_for=tuple(v.strip() for v in item["look_for"]),
        follow_ups=tuple(v.strip() for v in item["follow_ups"]),
        tip=item["tip"].strip(),
        snippet=snippet,
    )


def _snippet(value: Any, text: str, where: str, problems: list[str]) -> Snippet | None:
    """Validate the ``snippet`` field against the question's code block."""
    blocks = code_blocks(text)
    python = [b for b in blocks if is_python(b)]
    if len(blocks) > 1 and python:
        problems.append(f"{where}: {len(blocks)} indented code blocks (a question with Python code has exactly one)")
        return None
    if value is None:
        if python:
            problems.append(f"{where}: the question has a Python code block but no 'snippet' "
                            f"(say what running it prints: stdout, raises or hangs)")
        return None
    if not python:
        problems.append(f"{where}: 'snippet' given but the question has no indented Python code block")
        return None
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in SNIPPET_KINDS:
        problems.append(f"{where}: 'snippet' must have exactly one of {', '.join(SNIPPET_KINDS)}")
        return None
    (kind, detail), = value.items()
    if kind == "stdout":
        if not isinstance(detail, str):
            problems.append(f"{where}: snippet stdout must be text (what the code prints)")
            return None
        return Snippet(stdout=detail)
    if kind == "hangs":
        if detail is not True:
            problems.append(f"{where}: snippet hangs must be true")
            return None
        return Snippet(hangs=True)
    if not isinstance(detail, str) or not _EXCEPTION_NAME.match(detail):
        problems.append(f"{where}: snippet raises must be an exception name, like IndexError")
        return None
    if not _names_an_exception(detail, python[0]):
        problems.append(f"{where}: snippet raises {detail!r} is not a built-in exception, a module's "
                        f"(module.Name) or a class the code defines")
        return None
    return Snippet(raises=detail)


def _names_an_exception(name: str, code: str) -> bool:
    if "." in name:
        return True  # e.g. json.JSONDecodeError: checked when the snippet test runs the code
    built_in = getattr(builtins, name, None)
    if isinstance(built_in, type) and issubclass(built_in, BaseException):
        return True
    return any(isinstance(node, ast.ClassDef) and node.name == name for node in ast.walk(ast.parse(code)))
