"""Block Kit rendered as the plain text a person would see."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from coachbot.standin.render import format_text, render_blocks, render_message, render_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(text: str, action_id: str) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


# Text


def test_escapes_are_shown_as_characters() -> None:
    assert format_text("a &lt;b&gt; &amp;&amp; c &amp;lt;") == "a <b> && c &lt;"


def test_mentions_channels_and_broadcasts() -> None:
    users = {"U1": "alice"}
    text = "<@U1> and <@U2> and <@U3|carol> in <#C1|general> / <#C2> <!here> <!channel> <!subteam^S1|@devs>"
    assert format_text(text, users=users) == "@alice and @U2 and @carol in #general / #C2 @here @channel @devs"


def test_links() -> None:
    assert format_text("see <https://x.test/a?b=1&amp;c=2|the docs> or <https://y.test>") == (
        "see the docs (https://x.test/a?b=1&c=2) or https://y.test"
    )


def test_bold_and_italic_markers_are_kept() -> None:
    assert render_message("*bold* and _italic_ and ~gone~", None) == "*bold* and _italic_ and ~gone~"


# Blocks


def test_header_and_divider() -> None:
    assert render_blocks([{"type": "header", "text": plain("Title")}, {"type": "divider"}]) == "## Title\n---"


def test_section_text_fields_and_accessory_button() -> None:
    block = {
        "type": "section",
        "text": mrkdwn("Pick a track"),
        "fields": [mrkdwn("*Track*\nTechnical"), mrkdwn("Solo field")],
        "accessory": button("Change", "change"),
    }
    assert render_blocks([block]) == "Pick a track  [ Change ]\n*Track*: Technical\nSolo field"


def test_section_overflow_and_image_accessories() -> None:
    overflow = {"type": "overflow", "options": [option("Skip", "s"), option("Report", "r")]}
    image = {"type": "image", "image_url": "https://x.test/i.png", "alt_text": "chart"}
    assert render_blocks([{"type": "section", "text": mrkdwn("Q"), "accessory": overflow}]) == "Q  [ ... Skip, Report ]"
    assert render_blocks([{"type": "section", "text": mrkdwn("Q"), "accessory": image}]) == "Q  [image: chart]"


def test_context_joins_elements_with_image_alt_text() -> None:
    block = {
        "type": "context",
        "elements": [{"type": "image", "image_url": "https://x.test/a.png", "alt_text": "alice"}, mrkdwn("_answered_")],
    }
    assert render_blocks([block]) == "alice  _answered_"


def test_actions_buttons_selects_and_checkboxes() -> None:
    block = {
        "type": "actions",
        "elements": [
            button("Answer", "answer"),
            button("Another", "another"),
            {"type": "static_select", "placeholder": plain("Category"), "options": [option("Design", "d")]},
            {"type": "static_select", "initial_option": option("Debugging", "g"), "options": [option("Debugging", "g")]},
            {"type": "overflow", "options": [option("Mute", "m")]},
            {
                "type": "checkboxes",
                "options": [option("Daily", "d"), option("Weekly", "w")],
                "initial_options": [option("Weekly", "w")],
            },
        ],
    }
    assert render_blocks([block]) == (
        "[ Answer ]  [ Another ]  [ Category v ]  [ Debugging v ]  [ ... Mute ]\n[ ] Daily\n[x] Weekly"
    )


def test_image_rich_text_and_unknown_blocks() -> None:
    rich: dict[str, Any] = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [{"type": "text", "text": "Hi "}, {"type": "user", "user_id": "U1"}],
            },
            {
                "type": "rich_text_list",
                "style": "bullet",
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]}],
            },
            {
                "type": "rich_text_list",
                "style": "ordered",
                "indent": 1,
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "link", "url": "https://x.test", "text": "x"}]}
                ],
            },
            {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]},
        ],
    }
    blocks: list[dict[str, Any]] = [
        {"type": "image", "image_url": "https://x.test/d.png", "alt_text": "diagram"},
        rich,
        {"type": "video"},
    ]
    assert render_blocks(blocks, users={"U1": "alice"}) == (
        "[image: diagram]\nHi @alice\n- one\n  1. x (https://x.test)\n> quoted\n[video]"
    )


def test_message_prefers_blocks_over_text() -> None:
    assert render_message("fallback", [{"type": "divider"}]) == "---"
    assert render_message("<@U1> hi", [], users={"U1": "alice"}) == "@alice hi"
    assert render_message(None, None) == ""


def test_question_card() -> None:
    card: list[dict[str, Any]] = [
        {"type": "header", "text": plain("Today's question")},
        {"type": "section", "text": mrkdwn("*How would you design a rate limiter for a public API?*")},
        {"type": "section", "fields": [mrkdwn("*Track*\nTechnical"), mrkdwn("*Category*\nSystem design")]},
        {"type": "actions", "elements": [button("Answer", "a"), button("Skip", "s"), button("Another", "n")]},
        {"type": "context", "elements": [mrkdwn("Asked by <@U0BOT> · 2 answers · <#C1|interview-prep>")]},
    ]
    assert render_blocks(card, users={"U0BOT": "coachbot"}) == "\n".join(
        [
            "## Today's question",
            "*How would you design a rate limiter for a public API?*",
            "*Track*: Technical",
            "*Category*: System design",
            "[ Answer ]  [ Skip ]  [ Another ]",
            "Asked by @coachbot · 2 answers · #interview-prep",
        ]
    )


# Views


def test_modal_with_inputs() -> None:
    modal = {
        "type": "modal",
        "title": plain("Your answer"),
        "submit": plain("Send"),
        "close": plain("Not now"),
        "blocks": [
            {"type": "section", "text": mrkdwn("*Tell me about a conflict you resolved.*")},
            {
                "type": "input",
                "label": plain("Answer"),
                "element": {"type": "plain_text_input", "multiline": True, "placeholder": plain("Type here")},
            },
            {
                "type": "input",
                "label": plain("Visibility"),
                "optional": True,
                "hint": plain("You can change this later"),
                "element": {
                    "type": "radio_buttons",
                    "options": [option("Team", "team"), option("Only me", "me")],
                    "initial_option": option("Only me", "me"),
                },
            },
            {
                "type": "input",
                "label": plain("Confidence"),
                "element": {"type": "static_select", "placeholder": plain("Choose")},
            },
            {
                "type": "input",
                "label": plain("Tags"),
                "element": {
                    "type": "checkboxes",
                    "options": [option("STAR", "star")],
                    "initial_options": [option("STAR", "star")],
                },
            },
        ],
    }
    assert render_view(modal) == "\n".join(
        [
            "=== Your answer ===",
            "*Tell me about a conflict you resolved.*",
            "Answer: [ Type here ]",
            "Visibility (optional):",
            "( ) Team",
            "(o) Only me",
            "(You can change this later)",
            "Confidence: [ Choose v ]",
            "Tags:",
            "[x] STAR",
            "[ Send ]  [ Not now ]",
        ]
    )


def test_modal_defaults_and_home_view() -> None:
    assert render_view({"type": "modal", "title": plain("Stats"), "blocks": []}) == "=== Stats ===\n[ Cancel ]"
    home = {"type": "home", "blocks": [{"type": "header", "text": plain("Your practice")}, {"type": "divider"}]}
    assert render_view(home) == "=== Home ===\n## Your practice\n---"


# Stability


SAMPLE_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": plain("Title  ")},
    {"type": "section", "text": mrkdwn("line one   \nline two \n"), "fields": [mrkdwn("*A*\n1 ")]},
    {"type": "context", "elements": [mrkdwn("x "), mrkdwn(" ")]},
]


def test_output_is_stable_and_has_no_trailing_spaces() -> None:
    first = render_blocks(SAMPLE_BLOCKS)
    assert first == render_blocks(SAMPLE_BLOCKS)
    assert all(line == line.rstrip() for line in first.split("\n"))
    assert not first.endswith("\n")


@settings(max_examples=60, database=None, deadline=None)
@given(texts=st.lists(st.text(max_size=40), max_size=5))
def test_any_text_renders_deterministically_without_trailing_spaces(texts: list[str]) -> None:
    blocks = [{"type": "section", "text": mrkdwn(text), "fields": [plain(text)]} for text in texts]
    blocks += [{"type": "context", "elements": [mrkdwn(text) for text in texts]}]
    rendered = render_blocks(blocks, users={"U1": "alice"})
    assert rendered == render_blocks(blocks, users={"U1": "alice"})
    assert all(line == line.rstrip() for line in rendered.split("\n"))
