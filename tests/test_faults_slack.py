"""Slack Web API faults while posting scheduled prompts: retried where that is right,
reported where it is not, never a duplicate, never a lost schedule."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.storage.models import Prompt
from tests.scenario import Bot

CHANNEL = "C0FAULTS"
SLOT = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


def setup(bot: Bot) -> None:
    bot.driver.slash("U1", "daily technical 09:30 weekdays UTC", CHANNEL)
    bot.driver.wait_message(CHANNEL, 1)


def prompts_in_slack(bot: Bot) -> int:
    return sum(1 for m in bot.slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") == "coachbot_prompt")


def statuses(bot: Bot) -> list[str]:
    with bot.services.db.session() as session:
        return list(session.scalars(select(Prompt.status)))


def test_a_timeout_after_slack_took_the_post_is_reconciled_not_reposted(bot: Bot):
    setup(bot)
    # Slack records the post but answers after our client has given up: the outcome is unknown.
    impatient = SlackPromptPoster(prompt_client(WebClient(token=bot.slack.bot_token, base_url=bot.slack.api_url,
                                                          timeout=0.5)))
    impatient.client.timeout = 0.5
    impatient.client.retry_handlers.clear()  # one attempt: no second post from the client itself
    bot.slack.fail("chat.postMessage", delay_after=1.5, times=1)
    report = bot.services.prompts.send_due(impatient, SLOT)
    assert report.retry_later and statuses(bot) == ["unknown"]
    assert prompts_in_slack(bot) == 1
    # The next tick checks the channel first and records the post it finds.
    again = bot.services.prompts.send_due(SlackPromptPoster(prompt_client(bot.web.bolt.client)),
                                          SLOT + timedelta(seconds=30))
    assert again.recovered and not again.posted
    assert prompts_in_slack(bot) == 1 and statuses(bot) == ["posted"]


def test_invalid_auth_is_reported_and_retried_each_tick_without_losing_the_schedule(
        bot: Bot, caplog: pytest.LogCaptureFixture):
    setup(bot)
    poster = SlackPromptPoster(prompt_client(bot.web.bolt.client))
    bot.slack.fail("chat.postMessage", error="invalid_auth", times=2)
    with caplog.at_level(logging.WARNING):
        for seconds in (0, 30):
            report = bot.services.prompts.send_due(poster, SLOT + timedelta(seconds=seconds))
            assert report.retry_later and not report.posted
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "SLACK_BOT_TOKEN" in r.getMessage()]
    assert len(errors) == 2 and bot.slack.bot_token not in caplog.text
    assert statuses(bot) == ["pending"] and prompts_in_slack(bot) == 0
    assert bot.services.prompts.show(bot.slack.team_id, CHANNEL).enabled
    # The token is fixed: the next tick posts, once.
    assert len(bot.services.prompts.send_due(poster, SLOT + timedelta(minutes=1)).posted) == 1
    assert prompts_in_slack(bot) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retried_then_left_for_the_next_tick_and_checked_first(bot: Bot, status: int):
    setup(bot)
    poster = SlackPromptPoster(prompt_client(bot.web.bolt.client))
    bot.slack.fail("chat.postMessage", status=status, times=-1)
    report = bot.services.prompts.send_due(poster, SLOT)
    assert report.retry_later and prompts_in_slack(bot) == 0
    attempts = len(bot.slack.calls_to("chat.postMessage"))
    assert attempts == 1 + 2  # the client's own retries, with back-off, then the next tick
    bot.slack.clear_faults()
    again = bot.services.prompts.send_due(poster, SLOT + timedelta(seconds=30))
    assert len(again.posted) == 1 and prompts_in_slack(bot) == 1
    assert bot.slack.calls_to("conversations.history")  # a 5xx may hide a post: the channel was checked first
