"""The database goes away in the middle of use and comes back, with the app running.

PostgreSQL only: the connection runs through a TCP proxy that cuts it. (SQLite is
embedded in the process: there is no connection to lose. A locked SQLite file makes
writers wait up to 30 s, by design, rather than fail.)

What a person sees: commands answer "try again" within 3 s; a modal submission keeps
the typed answer in front of them with an error; events are not acknowledged (503), so
Slack delivers them again, and once the database is back they are stored exactly once;
the scheduler leaves the slot for the next tick. Nothing needs a restart.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from coachbot import blocks
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.storage.models import Answer, Prompt, Reaction, Schedule
from tests.scenario import Bot, start_bot, text_of
from tests.tcpproxy import TcpProxy, proxied

CHANNEL = "C0OUTAGE"
WED_0930_UTC = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
TRY_AGAIN = "I can't reach my database right now"
REPLY = "I would shard by customer id; as a result no shard holds more than 5% of the traffic. O(1) lookups."


@pytest.fixture
def outage(postgres_url: str) -> Iterator[TcpProxy]:
    target = make_url(postgres_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        yield proxy


@pytest.fixture
def flaky_bot(slack, pg_url: str, outage: TcpProxy) -> Iterator[Bot]:
    running = start_bot(slack, proxied(pg_url, outage.port))
    yield running
    outage.restore()
    running.web.close()


def count(bot: Bot, model) -> int:
    with bot.services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def slash_and_wait(bot: Bot, user: str, text: str, channel: str = CHANNEL) -> tuple[str, float]:
    before = len(bot.slack.ephemerals(user)) + len(bot.slack.messages(channel))
    started = time.monotonic()
    assert bot.driver.slash(user, text, channel).status == 200
    bot.slack.wait_for(lambda: len(bot.slack.ephemerals(user)) + len(bot.slack.messages(channel)) > before or None,
                       timeout=10)
    took = time.monotonic() - started
    seen = (bot.slack.ephemerals(user)[-1:] or bot.slack.messages(channel)[-1:])[-1]
    return text_of(seen.blocks), took


def test_commands_say_try_again_within_3_s_and_work_again_after(flaky_bot: Bot, outage: TcpProxy):
    bot = flaky_bot
    shown, _ = slash_and_wait(bot, "U1", "leadership")
    assert "What interviewers look for" in shown  # warm: the pool holds live connections
    outage.cut()
    for text in ("leadership", "stats", "history", "leaderboard", "daily technical 10:00 UTC"):
        shown, took = slash_and_wait(bot, "U1", text)
        assert TRY_AGAIN in shown and took < 3.0, (text, took)
    assert bot.slack.messages(CHANNEL) == []  # no half-made schedule announced
    outage.restore()
    shown, took = slash_and_wait(bot, "U1", "technical")
    assert "What interviewers look for" in shown and took < 3.0
    with bot.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Schedule)) == 0


def test_a_modal_submission_keeps_the_typed_answer_when_the_database_is_down(flaky_bot: Bot, outage: TcpProxy):
    bot = flaky_bot
    bot.driver.slash("U1", "leadership", CHANNEL)
    card = bot.driver.wait_ephemeral("U1")
    bot.driver.click("U1", card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U1")
    typed = "Last year I led the migration; as a result we cut costs by 20% in one quarter."
    outage.cut()
    started = time.monotonic()
    refused = bot.driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: typed}}).json()
    assert time.monotonic() - started < 3.0
    assert refused["response_action"] == "errors" and "Your text is still here" in refused["errors"][blocks.BLOCK_ANSWER]
    outage.restore()
    saved = bot.driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: typed}}).json()
    assert saved["response_action"] == "update"
    with bot.services.db.session() as session:
        assert session.scalars(select(Answer.text)).all() == [typed]


def test_events_are_not_acknowledged_until_stored_and_redeliveries_store_once(flaky_bot: Bot, outage: TcpProxy):
    bot = flaky_bot
    poster = SlackPromptPoster(prompt_client(bot.web.bolt.client))
    bot.driver.slash("U1", "daily technical 09:30 weekdays UTC", CHANNEL)
    bot.driver.wait_message(CHANNEL, 1)
    assert len(bot.services.prompts.send_due(poster, WED_0930_UTC).posted) == 1
    prompt = bot.slack.messages(CHANNEL)[-1]
    reply = bot.slack.post_as_user(CHANNEL, "U2", REPLY, thread_ts=prompt.ts)
    event = {"type": "message", "channel": CHANNEL, "user": "U2", "text": REPLY, "ts": reply.ts,
             "thread_ts": prompt.ts, "channel_type": "channel"}

    outage.cut()
    assert bot.driver.event(event, event_id="EvReply").status == 503  # Slack will deliver it again
    outage.restore()
    assert bot.driver.event(event, event_id="EvReply", retry_num=1).status == 200
    assert bot.driver.event(event, event_id="EvReply", retry_num=2).status == 200
    assert count(bot, Answer) == 1  # stored before the 200, and once

    outage.cut()
    assert bot.driver.react("U3", reply, "thumbsup", event_id="EvReact").status == 503
    outage.restore()
    assert bot.driver.react("U3", reply, "thumbsup", event_id="EvReact", retry_num=1).status == 200
    assert count(bot, Reaction) == 1
    with bot.services.db.session() as session:
        assert session.scalar(select(Answer.reaction_count)) == 1


def test_the_scheduler_leaves_the_slot_for_the_next_tick(flaky_bot: Bot, outage: TcpProxy):
    bot = flaky_bot
    poster = SlackPromptPoster(prompt_client(bot.web.bolt.client))
    bot.driver.slash("U1", "daily leadership 09:30 weekdays UTC", CHANNEL)
    bot.driver.wait_message(CHANNEL, 1)
    outage.cut()
    assert bot.services.prompts.send_due(poster, WED_0930_UTC).retry_later == ["database unavailable"]
    assert bot.services.digests.send_due(poster, WED_0930_UTC).retry_later == ["database unavailable"]
    assert bot.slack.messages(CHANNEL)[1:] == []
    outage.restore()
    report = bot.services.prompts.send_due(poster, WED_0930_UTC + timedelta(seconds=30))
    assert len(report.posted) == 1
    assert bot.services.prompts.send_due(poster, WED_0930_UTC + timedelta(minutes=1)).posted == []
    with bot.services.db.session() as session:
        assert [p.status for p in session.scalars(select(Prompt))] == ["posted"]
