"""Every question of the bank through every builder, checked against Slack's documented limits.

Written over whatever the bank holds (no fixed ids or counts), so new
questions and levels are checked as they arrive. The limits are the stand-in's
rule table (``coachbot.standin.blockkit``); a problem names the rule, the
JSON pointer and the question.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from coachbot import blocks, tracks
from coachbot.bank import Question, load_bank
from coachbot.blocks import digest as digest_blocks
from coachbot.blocks import home as home_blocks
from coachbot.blocks import progress as progress_blocks
from coachbot.commands import Unknown, parse
from coachbot.coaching import coach
from coachbot.handlers.payloads import AnswerContext
from coachbot.services.digest import DigestSettings, Participant, WeeklyDigest
from coachbot.services.practice import MODAL_MAX_CHARS
from coachbot.services.progress import (
    AnswerSummary,
    CategoryCount,
    Dashboard,
    Forgotten,
    Leaderboard,
    PersonStats,
    PromptChannel,
    Rank,
)
from coachbot.standin.blockkit import Problem, check_blocks, check_view

BANK = load_bank()
QUESTIONS = list(BANK)
ENTITY = re.compile(r"&(amp|lt|gt);")

# A 3,000-character answer (the modal's maximum) full of the characters escaping turns into entities.
_UNIT = ("I led the <migration> & we cut p99 latency by 40% because I measured first > guessing; "
         "the result: <b>fewer</b> pages & a calmer on-call. ")
LONG_ANSWER = (_UNIT * (MODAL_MAX_CHARS // len(_UNIT) + 1))[:MODAL_MAX_CHARS]


def _texts(node: Any) -> list[str]:
    """Every mrkdwn/plain_text string in a payload."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") in {"mrkdwn", "plain_text"} and isinstance(node.get("text"), str) else []
        return own + [t for value in node.values() for t in _texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in _texts(value)]
    return []


def assert_message_ok(payload: dict[str, Any], what: str) -> None:
    problems: list[Problem] = check_blocks(payload["blocks"])
    assert problems == [], f"{what}: " + "; ".join(p.line for p in problems)
    assert isinstance(payload["text"], str) and 0 < len(payload["text"]) <= 40_000, what
    _assert_whole_markup(payload["blocks"], what)


def assert_view_ok(view: dict[str, Any], what: str) -> None:
    problems = check_view(view)
    assert problems == [], f"{what}: " + "; ".join(p.line for p in problems)
    _assert_whole_markup(view, what)


def _assert_whole_markup(payload: Any, what: str) -> None:
    for text in _texts(payload):
        assert "&" not in ENTITY.sub("", text), f"{what}: a cut entity in {text[-40:]!r}"


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_question_fits_every_practice_builder(question: Question) -> None:
    value = blocks.ask_value(question.track, question.category)
    assert_message_ok(blocks.question_card(question, ask_track=question.track, ask_category=question.category),
                      f"question card {question.id}")
    assert_message_ok(blocks.question_card(question, ask_track=None, ask_category=None), f"card {question.id}")
    assert len(value) <= 2000
    assert_message_ok(blocks.prompt_message(question), f"daily prompt {question.id}")
    assert_message_ok(blocks.shared_question(question, "U0123456789"), f"shared question {question.id}")
    context = AnswerContext("T0123456789", question.id, "C0123456789", "1700000000.123456", always_share=True,
                            from_home=True)
    for can_share in (True, False):
        modal = blocks.answer_modal(question, private_metadata=context.dump(), can_share=can_share,
                                    max_chars=MODAL_MAX_CHARS)
        assert_view_ok(modal, f"answer modal {question.id}")
    feedback = coach(LONG_ANSWER, question)
    assert_view_ok(blocks.feedback_view(question, feedback, shared_to="C0123456789"), f"feedback {question.id}")
    assert_message_ok(blocks.thread_feedback_message(question, feedback), f"thread feedback {question.id}")
    assert_message_ok(blocks.shared_answer("U0123456789", question, LONG_ANSWER), f"shared answer {question.id}")


def _summary(number: int, question: Question) -> AnswerSummary:
    return AnswerSummary(number, "U0123456789", question.text, question.track, question.category,
                         datetime(2026, 11, 24, 9, tzinfo=timezone.utc), date(2026, 11, 24), "channel", "thread",
                         "C0123456789", 250, {f"emoji_{n}": 25 - n for n in range(12)},
                         "https://example.invalid/archives/C0123456789/p1700000000123456")


def _longest_questions(count: int) -> list[Question]:
    return sorted(QUESTIONS, key=lambda q: -len(q.text))[:count]


def _stats(own: bool) -> PersonStats:
    per_category = tuple(CategoryCount(c.track, c.slug, c.title, 40) for c in tracks.CATEGORIES)
    return PersonStats("U0123456789", own, 5000, {t.slug: 2500 for t in tracks.TRACKS}, per_category, 900, 400, 420,
                       12000, _summary(1, _longest_questions(1)[0]))


def test_app_home_for_a_heavy_user() -> None:
    recent = tuple(_summary(n, q) for n, q in enumerate(_longest_questions(5)))
    channels = tuple(PromptChannel(f"C{n:010d}", "alternating prompts at 09:30 on weekdays (America/Los_Angeles)")
                     for n in range(300))
    assert_view_ok(home_blocks.home_view(Dashboard(_stats(True), recent, channels)), "App Home, heavy user")
    assert_view_ok(home_blocks.home_view(Dashboard(_stats(True), (), ())), "App Home, new user")


@pytest.mark.parametrize("people", [1, 50, 500])
def test_a_digest(people: int) -> None:
    participants = tuple(Participant(f"U{n:010d}", 1 + n % 40, n % 7) for n in range(people))
    top = tuple(_summary(n, q) for n, q in enumerate(_longest_questions(3)))
    digest = WeeklyDigest("C0123456789", date(2026, 11, 21), date(2026, 11, 27),
                          sum(p.answers for p in participants), top, participants,
                          tracks.CATEGORIES[:4], tracks.CATEGORIES[4:], tracks.CATEGORIES[-1])
    assert_message_ok(digest_blocks.digest_message(digest), f"digest with {people} people")
    settings = DigestSettings("C0123456789", True, 4, time(16), "America/Los_Angeles",
                              datetime(2026, 12, 4, 16, tzinfo=timezone.utc))
    assert_message_ok(digest_blocks.digest_settings_message(settings, changed_by="U0123456789"), "digest settings")


def test_progress_messages_at_their_largest() -> None:
    assert_message_ok(progress_blocks.stats_message(_stats(True)), "own stats")
    assert_message_ok(progress_blocks.stats_message(_stats(False)), "someone's stats")
    items = [_summary(n, q) for n, q in enumerate(_longest_questions(10))]
    assert_message_ok(progress_blocks.history_message(items), "history")
    ranks = tuple(Rank(n, f"U{n:010d}", 9000 - n, 80000 - n) for n in range(1, 11))
    board = Leaderboard("month", ranks, ranks, Rank(4000, "U0123456789", 1, 0), Rank(5000, "U0123456789", 1, 0),
                        "U0123456789")
    assert_message_ok(progress_blocks.leaderboard_message(board), "leaderboard")
    assert_message_ok(progress_blocks.leaderboard_message(board, shared_by="U0123456789"), "shared leaderboard")
    assert_message_ok(progress_blocks.forget_confirm_message(), "forget-me confirmation")
    assert_message_ok(progress_blocks.forgotten_message(Forgotten(5000, 90000, ()), 4000), "forgotten")
    assert_message_ok(progress_blocks.forget_cancelled_message(), "forget-me cancelled")


def test_the_other_messages() -> None:
    technical = next(q for q in _longest_questions(len(QUESTIONS)) if q.track == "technical")
    leadership = next(q for q in _longest_questions(len(QUESTIONS)) if q.track == "leadership")
    assert_message_ok(blocks.help_message(), "help")
    assert_message_ok(blocks.categories_message(BANK), "categories")
    assert_message_ok(blocks.compare_message(technical, leadership), "compare")
    typed = parse("whatever " * 400)
    assert isinstance(typed, Unknown)
    assert_message_ok(blocks.unknown_message(typed), "unknown, long")
    assert_message_ok(blocks.error_message("&<>" * 2000), "error, long")
    assert_message_ok(blocks.notice_message("&<>" * 2000), "notice, long")
    assert_message_ok(blocks.invite_needed_message("C0123456789"), "invite needed")
    schedule = SimpleNamespace(description="alternating prompts at 09:30 on weekdays (America/Los_Angeles)",
                               created_by="U0123456789", paused_until=date(2026, 12, 31),
                               next_local=datetime(2027, 1, 4, 9, 30), tz="America/Los_Angeles", enabled=False,
                               status_note="paused: I'm not in this channel")
    assert_message_ok(blocks.schedule_set_message(schedule, "U0123456789", True), "schedule set")
    assert_message_ok(blocks.schedule_shown_message(schedule), "schedule shown")
    assert_message_ok(blocks.schedule_shown_message(None), "no schedule")
    assert_message_ok(blocks.schedule_stopped_message("U0123456789", True), "schedule stopped")
    assert_message_ok(blocks.schedule_paused_message(schedule, "U0123456789", date(2026, 12, 31)), "paused")
    assert_message_ok(blocks.schedule_paused_message(schedule, "U0123456789", None), "resumed")
