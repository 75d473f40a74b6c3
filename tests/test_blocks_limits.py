"""The app within Slack's limits: users.conversations' page size, the forget-me dialog, cutting text
without breaking it, and long lists summarised instead of dropped."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient

from coachbot import tracks
from coachbot.bank import load_bank
from coachbot.blocks import ELLIPSIS, SECTION_LIMIT, escape, escape_clipped, fit_list, section, shared_answer
from coachbot.blocks import digest as digest_blocks
from coachbot.blocks import home as home_blocks
from coachbot.blocks import progress as progress_blocks
from coachbot.services.digest import Participant, WeeklyDigest
from coachbot.services.progress import AnswerSummary, CategoryCount, Dashboard, PersonStats, PromptChannel
from coachbot.slackapi import slack_memberships
from coachbot.standin import StandInSlack
from coachbot.standin.manifest import AppManifest
from coachbot.standin.blockkit import check_blocks, check_view

ENTITY = re.compile(r"&(amp|lt|gt);")


def broken_markup(text: str) -> bool:
    """True if the text has an ``&`` that starts no whole entity, or a ``<`` that is never closed."""
    return "&" in ENTITY.sub("", text) or text.count("<") != text.count(">")


@pytest.fixture()
def slack() -> Iterator[StandInSlack]:
    # The stand-in's own rules under test: every scope, and the bot in every channel it is handed.
    with StandInSlack(manifest=AppManifest.everything(), bot_in_new_channels=True) as running:
        yield running


# Item 4: users.conversations takes at most 999 a page.


def test_memberships_ask_for_pages_slack_accepts(slack: StandInSlack) -> None:
    for number in range(3):
        slack.add_channel(f"C0M{number}", members=["U0ALICE"])
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    assert slack_memberships(client)("T0STANDIN", "U0ALICE") == {"C0M0", "C0M1", "C0M2"}
    assert [(c.params["limit"], c.error) for c in slack.calls_to("users.conversations")] == [("999", None)]


# Item 6: the confirmation dialog's text is plain_text.


def test_forget_me_confirmation_is_plain_text() -> None:
    blocks = progress_blocks.forget_confirm_message()["blocks"]
    dialog = blocks[1]["elements"][0]["confirm"]
    assert {part: dialog[part]["type"] for part in ("title", "text", "confirm", "deny")} == dict.fromkeys(
        ("title", "text", "confirm", "deny"), "plain_text")
    assert check_blocks(blocks) == []


# Item 7: cut before escaping, on a character boundary, with a visible "…".


@pytest.mark.parametrize("lead", range(13))
def test_a_long_answer_full_of_markup_is_cut_before_escaping(lead: int) -> None:
    question = next(iter(load_bank()))
    answer = "x" * lead + "&<>" * 1000
    body = shared_answer("U1", question, answer)["blocks"][2]["text"]["text"]
    assert len(body) <= SECTION_LIMIT and body.endswith(ELLIPSIS)
    assert not broken_markup(body)
    assert answer.startswith(html.unescape(body.removesuffix(ELLIPSIS)))
    assert check_blocks(shared_answer("U1", question, answer)["blocks"]) == []


def test_escape_clipped_fills_the_limit_and_leaves_short_text_alone() -> None:
    assert escape_clipped("a < b", 100) == escape("a < b")
    cut = escape_clipped("<" * 100, 20)
    assert cut == "&lt;" * 4 + ELLIPSIS  # 4 whole entities (16) + "…" fit in 20; a fifth would not
    assert escape_clipped("ab😀cd", 4) == "ab😀" + ELLIPSIS


def test_a_composed_section_is_never_cut_inside_a_mention_or_an_entity() -> None:
    for text in ("<@U0123456> " * 400, "&amp; " * 700, "x" + "<#C0123|general> " * 300):
        cut = section(text)["text"]["text"]
        assert len(cut) <= SECTION_LIMIT and cut.endswith(ELLIPSIS) and not broken_markup(cut)


# Item 7: lists that grow are summarised, never dropped silently.


def _digest(people: int) -> WeeklyDigest:
    participants = tuple(Participant(f"U{n:08d}", 1 + n % 3, 0) for n in range(people))
    return WeeklyDigest("C1", date(2026, 11, 21), date(2026, 11, 27), sum(p.answers for p in participants), (),
                        participants, tracks.CATEGORIES[:2], tracks.CATEGORIES[2:], None)


@pytest.mark.parametrize("people", [1, 50, 500])
def test_the_digest_names_everyone_who_fits_and_counts_the_rest(people: int) -> None:
    blocks = digest_blocks.digest_message(_digest(people))["blocks"]
    text = blocks[2]["text"]["text"]
    named = len(re.findall(r"<@U\d{8}>", text))
    others = re.search(r" and (\d+) others?\. Thank you!$", text)
    assert named + (int(others.group(1)) if others else 0) == people
    assert (others is None) == (people <= 50) and ELLIPSIS not in text
    assert check_blocks(blocks) == []


def _stats() -> PersonStats:
    per_category = tuple(CategoryCount(c.track, c.slug, c.title, 7) for c in tracks.CATEGORIES)
    return PersonStats("U1", True, 400, {"technical": 200, "leadership": 200}, per_category, 300, 40, 90, 1200, None)


def _recent(number: int) -> AnswerSummary:
    question = "Describe a time you disagreed with your manager & what happened <next>? " * 3
    return AnswerSummary(number, "U1", question, "leadership", "decision-making",
                         datetime(2026, 11, 24, tzinfo=timezone.utc), date(2026, 11, 24), "channel", "thread",
                         "C1", 40, {"tada": 20, "thumbsup": 15, "rocket": 5}, "https://example.invalid/p")


@pytest.mark.parametrize("channels", [1, 41, 200])
def test_app_home_lists_every_channel_that_fits_and_counts_the_rest(channels: int) -> None:
    prompts = tuple(PromptChannel(f"C{n:010d}", "alternating prompts at 09:30 on weekdays (Europe/Berlin)")
                    for n in range(channels))
    view = home_blocks.home_view(Dashboard(_stats(), tuple(_recent(n) for n in range(5)), prompts))
    text = next(b["text"]["text"] for b in view["blocks"] if "Daily prompts" in b.get("text", {}).get("text", ""))
    listed = len(re.findall(r"<#C\d{10}>", text))
    others = re.search(r"\n• and (\d+) other channels?$", text)
    assert listed + (int(others.group(1)) if others else 0) == channels
    assert ELLIPSIS not in text and len(text) <= SECTION_LIMIT
    if channels == 1:
        assert others is None
    if channels == 200:
        assert others is not None and listed > 30  # as many as fit are still listed
    assert check_view(view) == []


# The cutting helpers, for any text.

MARKUP_TEXT = st.text(alphabet=st.sampled_from("ab &<>é😀\n"), max_size=400)


@settings(max_examples=300, deadline=None)
@given(text=MARKUP_TEXT, limit=st.integers(min_value=2, max_value=200))
def test_escape_clipped_always_fits_and_keeps_whole_characters(text: str, limit: int) -> None:
    cut = escape_clipped(text, limit)
    assert len(cut) <= limit and not broken_markup(cut)
    shown = cut.removesuffix(ELLIPSIS) if cut != escape(text) else cut
    assert text.startswith(html.unescape(shown))
    assert (cut == escape(text)) == (len(escape(text)) <= limit)


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.text(alphabet="abc", min_size=1, max_size=30), max_size=60),
       budget=st.integers(min_value=20, max_value=400))
def test_fit_list_names_what_fits_and_counts_the_rest(items: list[str], budget: int) -> None:
    joined = fit_list(items, budget)
    summary = re.search(r" and (\d+) others?$", joined)
    if summary is None:
        assert joined == ", ".join(items) and len(joined) <= budget
    else:
        shown = joined[: summary.start()]
        named = shown.split(", ") if shown else []
        assert named == items[: len(named)] and len(named) + int(summary.group(1)) == len(items)
        assert len(joined) <= budget
