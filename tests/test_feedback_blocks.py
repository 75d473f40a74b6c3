"""The coaching feedback as Block Kit: what a person sees, and Slack's limits."""

from __future__ import annotations

import re

from coachbot import blocks
from coachbot.bank import load_bank
from coachbot.coaching import coach

BANK = load_bank()
QUESTION = BANK.get("team-management-010")
STORY = (
    "Last year a teammate was about to miss the deadline for the billing export that two teams depended on. "
    "I noticed it at our Monday check-in, when his ticket had not moved for a week. I asked him privately what "
    "was in the way, and it turned out the payment provider's sandbox kept timing out. I paired with him for "
    "two mornings, moved the reporting part to another engineer, and told the two teams the new plan the same "
    "day. We delivered the export on the original date, and the two teams hit their own launch without changes."
)


def texts(built: list[dict]) -> list[str]:
    out = []
    for block in built:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(e["text"] for e in block.get("elements", []) if isinstance(e, dict) and "text" in e)
    return out


def test_one_headline_the_fix_first_and_each_passed_check_with_its_quote():
    feedback = coach(STORY.replace("We delivered the export on the original date, and the two teams hit their "
                                   "own launch without changes.", ""), QUESTION)
    shown = "\n".join(texts(blocks.feedback_blocks(feedback)))
    assert shown.startswith(f"*{feedback.headline}*\n*Fix this first:* {feedback.next_step}")
    assert shown.count(feedback.next_step) == 1 and shown.count("checks passed") == 1
    for check in feedback.passed:
        assert f"“{blocks.escape(check.quote)}”" in shown
    assert shown.count(" words · score ") == 1
    assert all(f"• {point}" in shown for point in QUESTION.look_for)
    assert "can't judge them for you" in shown and feedback.not_checked in shown


def test_a_strong_answer_is_told_how_to_go_further_and_has_no_fix_list():
    shown = "\n".join(texts(blocks.feedback_blocks(coach(STORY, QUESTION))))
    assert "*To go further:*" in shown and "*Fix this first:*" not in shown and "*Then:*" not in shown


def test_a_gated_answer_shows_no_praise():
    shown = "\n".join(texts(blocks.feedback_blocks(coach(QUESTION.text, QUESTION))))
    assert "repeats the question" in shown and "*What worked:*" not in shown


def test_user_text_in_quotes_is_escaped():
    answer = STORY.replace("I asked him privately", "I asked <@U999> & <!channel> privately")
    shown = "\n".join(texts(blocks.feedback_blocks(coach(answer, QUESTION))))
    assert "<@U999>" not in shown and "<!channel>" not in shown
    assert "&lt;@U999&gt; &amp; &lt;!channel&gt;" in shown


def test_sections_stay_within_slack_limits_and_never_cut_an_entity():
    sentence = "I asked " + "&<>" * 60 + " and we delivered the export on time in two weeks. "
    answer = "Last year a teammate was about to miss a deadline that others depended on. " + sentence * 40
    for built in (blocks.feedback_blocks(coach(answer, QUESTION)),
                  blocks.thread_feedback_message(QUESTION, coach(answer, QUESTION))["blocks"]):
        for text in texts(built):
            assert len(text) <= blocks.SECTION_LIMIT
            assert not re.search(r"&(?!amp;|lt;|gt;)", text)  # every & starts a whole entity
