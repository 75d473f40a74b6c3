"""Slack's limits, end to end: what a person sees when the real app talks to a stand-in that refuses
what Slack refuses. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from coachbot import blocks
from tests.scenario import Bot, text_of, view_text

CHANNEL = "C0DAILY"
ENTITY = re.compile(r"&(amp|lt|gt);")


def test_app_home_lists_prompts_in_channels_the_person_is_only_a_member_of(bot: Bot) -> None:
    """The channel list comes from users.conversations, asked for pages Slack accepts (at most 999)."""
    bot.slack.add_channel(CHANNEL, "daily", members=["U1", "U4"])
    bot.driver.slash("U1", "daily leadership 09:30 weekdays Europe/Berlin", CHANNEL)
    bot.driver.wait_message(CHANNEL, 1)
    bot.driver.open_home("U4")  # U4 never answered nor set anything up: only membership links them
    shown = view_text(bot.driver.wait_home("U4").view)
    assert f"#{CHANNEL}: Leadership prompts at 09:30 on weekdays (Europe/Berlin)" in shown
    assert [c.error for c in bot.slack.calls_to("users.conversations")] == [None]


def test_a_long_answer_full_of_markup_is_shared_whole_up_to_the_cut(bot: Bot) -> None:
    """A 3,000-character answer of &, < and > is posted in the channel, cut before escaping, readable."""
    bot.slack.add_channel(CHANNEL, "daily", members=["U1"])
    bot.driver.slash("U1", "leadership", CHANNEL)
    card = bot.driver.wait_ephemeral("U1")
    bot.driver.click("U1", card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U1")
    answer = ("I chose <Redis> & <Kafka> because load>10k/s; " * 70)[:3000]
    values = {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: answer},
              blocks.BLOCK_SHARE: {blocks.INPUT_SHARE: {"type": "checkboxes", "selected_options": [
                  {"value": "share", "text": {"type": "plain_text", "text": "Share"}}]}}}
    assert bot.driver.submit("U1", modal, values).status == 200
    posted = bot.slack.wait_for(lambda: [m for m in bot.slack.messages(CHANNEL) if m.bot_id], message="the share")
    shown = text_of(posted[-1].blocks)
    assert "I chose <Redis> & <Kafka> because load>10k/s;" in shown and "&amp" not in shown
    body = posted[-1].blocks[2]["text"]["text"]  # the answer's section, as Slack received it
    assert len(body) <= 3000 and body.endswith("…") and "&" not in ENTITY.sub("", body)
