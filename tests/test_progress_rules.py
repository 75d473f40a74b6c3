"""The pure parts of progress: ranking and tie-breaks, the digest's focus, the words of
/prep digest and the new /prep verbs, and the progress builders rendered as text."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coachbot import tracks
from coachbot.blocks import digest as digest_blocks
from coachbot.blocks import home as home_blocks
from coachbot.blocks import progress as progress_blocks
from coachbot.commands import Digest, ForgetMe, History, Leaderboard, Stats, Unknown, parse
from coachbot.errors import InvalidInputError
from coachbot.schedule import DigestAt, DigestQuery, DigestSwitch, parse_digest
from coachbot.services.digest import Participant, WeeklyDigest, categories_for, choose_focus
from coachbot.services.progress import (
    AnswerSummary,
    CategoryCount,
    Dashboard,
    Leaderboard as Board,
    PersonStats,
    PromptChannel,
    Rank,
    parse_period,
    rank,
)
from coachbot.standin.render import render_blocks, render_view
from coachbot.storage.progress import Tally

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def tally(user: str, answers: int, reactions: int, minutes: int = 0) -> Tally:
    return Tally(user, answers, reactions, T0 + timedelta(minutes=minutes))


# --- ranking -------------------------------------------------------------------


def test_by_answers_ties_go_to_more_reactions_then_to_whoever_got_there_first():
    ranked = rank([tally("UA", 3, 1, 5), tally("UB", 3, 4, 9), tally("UC", 3, 1, 2), tally("UD", 5, 0)], "answers")
    assert [(r.position, r.user_id) for r in ranked] == [(1, "UD"), (2, "UB"), (3, "UC"), (4, "UA")]


def test_by_reactions_ties_go_to_fewer_answers_and_people_without_reactions_are_left_out():
    ranked = rank([tally("UA", 4, 6), tally("UB", 2, 6), tally("UC", 9, 0), tally("UD", 1, 7)], "reactions")
    assert [(r.position, r.user_id) for r in ranked] == [(1, "UD"), (2, "UB"), (3, "UA")]


def test_exact_ties_share_a_position():
    ranked = rank([tally("UB", 2, 1), tally("UA", 2, 1), tally("UC", 1, 0)], "answers")
    assert [(r.position, r.user_id) for r in ranked] == [(1, "UA"), (1, "UB"), (3, "UC")]


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 50), st.integers(0, 100)), max_size=30))
def test_ranking_is_a_total_order_on_the_counts(rows):
    tallies = [tally(f"U{i}", a, r, m) for i, (a, r, m) in enumerate(rows)]
    for key in ("answers", "reactions"):
        ranked = rank(tallies, key)
        positions = [r.position for r in ranked]
        assert positions == sorted(positions) and (not positions or positions[0] == 1)
        counts = [(r.answers if key == "answers" else r.reactions) for r in ranked]
        assert counts == sorted(counts, reverse=True)
        assert len({r.user_id for r in ranked}) == len(ranked)


@pytest.mark.parametrize("word, period", [(None, "week"), ("week", "week"), ("Month", "month"), ("all", "all"),
                                          ("ever", "all")])
def test_periods(word, period):
    assert parse_period(word) == period


def test_an_unknown_period_is_named():
    with pytest.raises(InvalidInputError, match="fortnight"):
        parse_period("fortnight")


# --- the digest's focus ----------------------------------------------------------


def test_focus_is_the_left_out_area_practised_least_overall():
    areas = categories_for("leadership")
    left_out = tuple(c for c in areas if c.slug in ("communication", "decision-making"))
    focus = choose_focus(left_out, {}, {"communication": 4, "decision-making": 1}, areas)
    assert focus is not None and focus.slug == "decision-making"


def test_with_nothing_left_out_the_focus_is_the_week_s_thinnest_area():
    areas = categories_for("technical")
    week = {c.slug: 3 for c in areas} | {"problem-solving": 1}
    focus = choose_focus((), week, {}, areas)
    assert focus is not None and focus.slug == "problem-solving"


def test_the_areas_follow_the_schedule_s_mode():
    assert len(categories_for("technical")) == 4 and len(categories_for("leadership")) == 5
    assert categories_for("alternate") == categories_for("mixed") == tracks.CATEGORIES


# --- words ------------------------------------------------------------------------


@pytest.mark.parametrize("words, expected", [
    ("", DigestQuery()), ("off", DigestSwitch(False)), ("on", DigestSwitch(True)),
    ("fri 16:00", DigestAt(4, time(16, 0))), ("16:00 Friday", DigestAt(4, time(16, 0))),
    ("thu 4pm", DigestAt(3, time(16, 0))), ("mon 09:15", DigestAt(0, time(9, 15))),
])
def test_digest_words(words, expected):
    assert parse_digest(words) == expected


@pytest.mark.parametrize("words, named", [
    ("fri", "a day and a time"), ("weekdays 10:00", "one day"), ("fri sat 10:00", "one day"),
    ("cake", "`cake`"), ("fri 25:00", "`25:00`"), ("fri 10:00 11:00", "one time"), ("off now", "`now`"),
])
def test_bad_digest_words_are_named(words, named):
    with pytest.raises(InvalidInputError) as raised:
        parse_digest(words)
    assert named in str(raised.value) and "/prep digest" in str(raised.value)


@pytest.mark.parametrize("text, command", [
    ("stats", Stats()), ("stats <@U0ABC|ana>", Stats("U0ABC")), ("progress <@W123>", Stats("W123")),
    ("history", History()), ("hist", History()), ("leaderboard", Leaderboard("week")),
    ("leaderboard month", Leaderboard("month")), ("top all", Leaderboard("all")),
    ("digest fri 16:00", Digest("fri 16:00")), ("digest", Digest("")),
    ("forget-me", ForgetMe()), ("Forget me", ForgetMe()), ("delete my data", ForgetMe()),
])
def test_new_verbs(text, command):
    assert parse(text) == command


@pytest.mark.parametrize("text", ["stats <@U1> <@U2>", "leaderboard fortnight", "history please"])
def test_new_verbs_with_junk_are_unknown(text):
    assert isinstance(parse(text), Unknown)


# --- builders rendered --------------------------------------------------------------


def summary(**overrides) -> AnswerSummary:
    base = dict(id=1, user_id="U1", question_text="Tell me about a <hard> decision & what you learned.",
                track="leadership", category="decision-making", created_at=T0, local_day=date(2026, 11, 24),
                visibility="channel", source="thread", channel_id="C1", reactions=3,
                emoji={"tada": 1, "thumbsup": 2}, permalink="https://example.invalid/p1")
    return AnswerSummary(**{**base, **overrides})


def stats(own: bool = True, total: int = 2) -> PersonStats:
    per_category = tuple(CategoryCount(c.track, c.slug, c.title, 2 if c.slug == "decision-making" else 0)
                         for c in tracks.CATEGORIES)
    return PersonStats("U1", own, total, {"technical": 0, "leadership": total}, per_category, 2, 1, 2, 3, summary())


def test_stats_render_coverage_streak_and_the_most_reacted_answer():
    shown = render_blocks(progress_blocks.stats_message(stats())["blocks"])
    assert "Coverage:* 1 of 9 areas" in shown and "`▰▰▱▱▱` Decision making: 2" in shown
    assert "Most-reacted answer* (3 reactions · view it (https://example.invalid/p1))" in shown
    assert "Tell me about a &lt;hard&gt; decision &amp; what you learned." not in shown  # rendered, not raw


def test_history_marks_private_answers_and_has_no_link_for_them():
    shown = render_blocks(progress_blocks.history_message([summary(visibility="private", emoji={}, permalink=None)])[
        "blocks"])
    assert "Decision making · private" in shown and "https://" not in shown


def test_leaderboard_renders_medals_and_a_share_button_until_shared():
    board = Board("week", (Rank(1, "U1", 3, 2), Rank(2, "U2", 1, 0)), (Rank(1, "U1", 3, 2),), None, Rank(12, "U9", 0, 1),
                  "U9")
    private = render_blocks(progress_blocks.leaderboard_message(board)["blocks"])
    assert ":first_place_medal: @U1: *3 answers* (2 reactions)" in private
    assert "Your place: by reactions #12" in private and "[ Share with channel ]" in private
    shared = render_blocks(progress_blocks.leaderboard_message(board, shared_by="U9")["blocks"])
    assert "Share with channel" not in shared and "Shared by @U9." in shared and "Your place" not in shared


def test_digest_renders_people_top_answers_coverage_and_focus():
    areas = tracks.CATEGORIES
    digest = WeeklyDigest("C1", date(2026, 11, 21), date(2026, 11, 27), 3, (summary(),),
                          (Participant("U1", 2, 3), Participant("U2", 1, 0)), areas[:2], areas[2:], areas[4])
    shown = render_blocks(digest_blocks.digest_message(digest)["blocks"])
    assert "Sat 21 Nov – Fri 27 Nov" in shown
    assert "*3 answers* from 2 people: @U1 (2), @U2 (1)" in shown
    assert ":thumbsup: 2 :tada: 1" in shown
    assert f"Suggested focus for next week:* {areas[4].title}" in shown


def test_home_view_has_buttons_bars_and_channels():
    dashboard = Dashboard(stats(), (summary(),), (PromptChannel("C1", "leadership prompts at 09:30 on weekdays (UTC)"),))
    view = home_blocks.home_view(dashboard)
    assert view["type"] == "home"
    shown = render_view(view)
    assert "[ Practise technical ]" in shown and "[ Practise leadership ]" in shown
    assert "#C1: Leadership prompts at 09:30 on weekdays (UTC)" in shown
