"""Fan-out to many channels under Slack's posting limits, through the scheduler's paced
poster against a stand-in that enforces them: exactly once, nothing missed, and no 429
when coachbot's pace matches the workspace's budget. (Wall time against the floor the
limits allow is measured in bench/fanout.py, not here.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from coachbot.slackapi import scheduled_poster
from coachbot.storage.models import Prompt, Schedule
from tests.scenario import Bot

SLOT = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


def schedules(bot: Bot, n: int) -> list[str]:
    channels = [f"C0FAN{i:04d}" for i in range(n)]
    for channel in channels:  # set up with /prep daily, which makes the bot a member
        bot.slack.add_channel(channel)
    now = SLOT - timedelta(minutes=1)
    with bot.services.db.session() as session:
        for channel in channels:
            session.add(Schedule(team_id=bot.slack.team_id, channel_id=channel, mode="technical", local_time="09:30",
                                 weekdays="0,1,2,3,4,5,6", tz="UTC", created_by="U1", enabled=True,
                                 checked_through=now, posted_count=0, created_at=now, updated_at=now))
    return channels


def prompt_counts(bot: Bot, channels: list[str]) -> list[int]:
    return [sum(1 for m in bot.slack.messages(c) if (m.metadata or {}).get("event_type") == "coachbot_prompt")
            for c in channels]


def test_paced_at_the_workspace_budget_there_is_no_429(bot: Bot):
    channels = schedules(bot, 63)  # a burst of 60, then one a second
    bot.slack.set_rate_limits(per_channel_per_second=1, workspace_per_minute=60)
    poster = scheduled_poster(bot.web.bolt.client, posts_per_minute=60)
    report = bot.services.prompts.send_due(poster, SLOT)
    assert len(report.posted) == 63 and report.retry_later == [] and report.missed == []
    assert prompt_counts(bot, channels) == [1] * 63
    assert bot.slack.rate_limited_count == 0


def test_over_the_budget_429s_pause_everyone_and_nothing_is_lost(bot: Bot):
    channels = schedules(bot, 64)
    bot.slack.set_rate_limits(per_channel_per_second=1, workspace_per_minute=60)
    poster = scheduled_poster(bot.web.bolt.client, posts_per_minute=600)  # too fast for this workspace
    first = bot.services.prompts.send_due(poster, SLOT)
    assert bot.slack.rate_limited_count > 0
    # Whatever outlived the retries is left for the next tick, which finishes the job.
    second = bot.services.prompts.send_due(poster, SLOT + timedelta(seconds=30))
    assert len(first.posted) + len(second.posted) == 64
    assert prompt_counts(bot, channels) == [1] * 64
    with bot.services.db.session() as session:
        assert set(session.scalars(select(Prompt.status))) == {"posted"}
