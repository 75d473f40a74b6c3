from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from coachbot.commands import Ask, Compare, Help, ListCategories, Stats, Unknown, parse, safe_echo


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("HELP", Help()),
        ("leadership", Ask("leadership", None)),
        ("Lead", Ask("leadership", None)),
        ("technical", Ask("technical", None)),
        ("tech", Ask("technical", None)),
        ("technical system-design", Ask("technical", "system-design")),
        ("technical system design", Ask("technical", "system-design")),
        ("tech sd", Ask("technical", "system-design")),
        ("Technical  CODING", Ask("technical", "coding")),
        ("leadership decision-making", Ask("leadership", "decision-making")),
        ("lead dm", Ask("leadership", "decision-making")),
        ("lead vision & strategy", Ask("leadership", "vision-strategy")),
        ("lead vision &amp; strategy", Ask("leadership", "vision-strategy")),
        ("leadership team", Ask("leadership", "team-management")),
        ("sd", Ask("technical", "system-design")),
        ("system design", Ask("technical", "system-design")),
        ("comm", Ask("leadership", "communication")),
        ("random", Ask(None, None)),
        ("categories", ListCategories()),
        ("cat", ListCategories()),
        ("compare", Compare()),
        ("stats", Stats()),
    ],
)
def test_valid_commands(text: str, expected: object):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text, suggestion",
    [
        ("leadrship", "/prep leadership"),
        ("tecnical", "/prep technical"),
        ("technical cooking", "/prep technical coding"),
        ("technical decision making", "/prep leadership decision-making"),
        ("leadership coding", "/prep technical coding"),
        ("stats please", "/prep stats"),
        ("xyzzy", None),
    ],
)
def test_unknown_commands_suggest_the_closest(text: str, suggestion: str | None):
    result = parse(text)
    assert isinstance(result, Unknown)
    assert result.suggestion == suggestion


def test_echo_is_short_and_cannot_mention_anyone():
    echoed = safe_echo("<!here> <@U123> " + "x" * 500)
    assert "<" not in echoed and ">" not in echoed
    assert len(echoed) <= 60


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises_and_unknown_echo_is_safe(text: str):
    result = parse(text)
    if isinstance(result, Unknown):
        assert len(result.text) <= 60
        assert not any(ch in result.text for ch in "<>`")
