"""The question bank: YAML files under ``questions/``, loaded and validated.

A bad file fails with its path, the question id and what is wrong; every
problem in the bank is reported at once, not just the first.
"""

from __future__ import annotations

import random
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
LIST_BOUNDS = {"look_for": (3, 5), "follow_ups": (2, 4)}


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
    unknown = sorted(set(item) - set(REQUIRED_FIELDS) - {"track", "category"})
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
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{where}: {name} must be a list of text")
        elif not low <= len(value) <= high:
            problems.append(f"{where}: {name} has {len(value)} items (expected {low} to {high})")
    if len(problems) > before:
        return None
    return Question(
        id=qid,
        track=track_slug,
        category=category_slug,
        difficulty=item["difficulty"],
        text=item["question"].strip(),
        look_for=tuple(v.strip() for v in item["look_for"]),
        follow_ups=tuple(v.strip() for v in item["follow_ups"]),
        tip=item["tip"].strip(),
    )
