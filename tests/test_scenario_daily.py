"""Daily prompts end to end: /prep daily through the real app, posting through the
Slack poster to the stand-in, thread replies as events; SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from coachbot import blocks
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.storage.models import Answer, Prompt
from tests.scenario import Bot, text_of, view_text

CHANNEL = "C0DAILY"
WED_0930_BERLIN = datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc)
REPLY = ("Assuming the list fits in memory, I would sort it first and then merge overlapping intervals in one "
         "pass, O(n log n) time. Edge cases: empty input, a single interval, intervals that only touch.")


@pytest.fixture
def poster(bot: Bot) -> SlackPromptPoster:
    return SlackPromptPoster(prompt_client(bot.web.bolt.client))


def setup_daily(bot: Bot, words: str = "leadership 09:30 weekdays Europe/Berlin", user: str = "U1",
                channel: str = CHANNEL):
    before = len(bot.slack.messages(channel))
    response = bot.driver.slash(user, f"daily {words}", channel)
    assert response.status == 200
    return bot.driver.wait_message(channel, before + 1)


def prompts(bot: Bot) -> list[Prompt]:
    with bot.services.db.session() as session:
        return list(session.scalars(select(Prompt).order_by(Prompt.id)))


def posted_prompts(bot: Bot, channel: str = CHANNEL) -> list:
    return [m for m in bot.slack.messages(channel) if (m.metadata or {}).get("event_type") == "coachbot_prompt"]


def test_setting_up_is_announced_to_the_channel(bot: Bot):
    shown = text_of(setup_daily(bot).blocks)
    assert "@U1 turned on daily interview practice" in shown
    assert "Leadership prompts at 09:30 on weekdays (Europe/Berlin)" in shown
    assert "Next prompt: Wed 25 Nov 2026, 09:30 (Europe/Berlin)" in shown
    listing = bot.driver.slash("U2", "daily", CHANNEL)
    assert listing.status == 200
    seen = bot.driver.wait_ephemeral("U2")
    assert "set up by @U1" in text_of(seen.blocks)


@pytest.mark.parametrize("words, named", [
    ("leadership 25:00", "25:00"), ("leadership Mars/Olympus", "Mars/Olympus"), ("cooking 09:30", "cooking"),
])
def test_bad_values_are_named_and_change_nothing(bot: Bot, words: str, named: str):
    bot.driver.slash("U1", f"daily {words}", CHANNEL)
    error = bot.driver.wait_ephemeral("U1")
    assert named in text_of(error.blocks) and "/prep daily leadership 09:30" in text_of(error.blocks)
    assert bot.slack.messages(CHANNEL) == []
    assert bot.services.prompts.show(bot.slack.team_id, CHANNEL) is None


def test_default_timezone_is_the_person_s(bot: Bot):
    bot.slack.add_user("U7", "kenji", tz="Asia/Tokyo")
    shown = text_of(setup_daily(bot, "technical", user="U7").blocks)
    assert "Technical prompts at 09:30 on weekdays (Asia/Tokyo)" in shown


def test_posted_exactly_once_even_when_run_twice_or_concurrently(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(bot.services.prompts.send_due(poster, WED_0930_BERLIN)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bot.services.prompts.send_due(poster, WED_0930_BERLIN + timedelta(minutes=5))
    assert len(posted_prompts(bot)) == 1
    assert sum(len(r.posted) for r in reports) == 1
    prompt = posted_prompts(bot)[0]
    shown = text_of(prompt.blocks)
    assert "Today's interview practice" in shown and shown.count("[ Answer ]") == 1
    assert [p.status for p in prompts(bot)] == ["posted"]


def test_before_its_time_nothing_posts_and_weekends_are_skipped(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.services.prompts.send_due(poster, WED_0930_BERLIN - timedelta(minutes=1))
    assert posted_prompts(bot) == []
    saturday = datetime(2026, 11, 28, 8, 30, tzinfo=timezone.utc)
    assert bot.services.prompts.send_due(poster, saturday).posted == []
    assert posted_prompts(bot) == []


def test_late_within_grace_posts_and_beyond_grace_skips(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    late = bot.services.prompts.send_due(poster, WED_0930_BERLIN + timedelta(hours=1, minutes=59))
    assert len(late.posted) == 1
    thursday_too_late = datetime(2026, 11, 26, 8, 30, tzinfo=timezone.utc) + timedelta(hours=3)
    report = bot.services.prompts.send_due(poster, thursday_too_late)
    assert report.posted == [] and report.missed == [f"{bot.slack.team_id}/{CHANNEL}/2026-11-26"]
    assert len(posted_prompts(bot)) == 1


def test_dst_keeps_local_time(bot: Bot, poster: SlackPromptPoster):
    bot.clock.set(datetime(2026, 10, 23, 12, 0, tzinfo=timezone.utc))
    setup_daily(bot, "leadership 09:30 daily Europe/Berlin")
    # 09:30 in Berlin is 07:30Z in summer time and 08:30Z after the switch on 25 October.
    for at in ("2026-10-24T07:30:00+00:00", "2026-10-25T08:30:00+00:00", "2026-10-26T08:30:00+00:00"):
        now = datetime.fromisoformat(at)
        early = bot.services.prompts.send_due(poster, now - timedelta(minutes=1))
        assert early.posted == []
        assert len(bot.services.prompts.send_due(poster, now).posted) == 1
    assert [p.slot_key for p in prompts(bot)] == ["2026-10-24", "2026-10-25", "2026-10-26"]


def test_rotation_never_repeats_within_the_track(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot, "technical 09:30 daily UTC")
    day = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
    size = len(bot.services.bank.select(track="technical"))
    for n in range(size):
        bot.services.prompts.send_due(poster, day + timedelta(days=n))
    ids = [p.question_id for p in prompts(bot)]
    assert len(ids) == size and len(set(ids)) == size


def test_alternate_switches_track_each_posting_day(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot, "alternate 09:30 daily UTC")
    day = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
    for n in range(4):
        bot.services.prompts.send_due(poster, day + timedelta(days=n))
    assert [p.track for p in prompts(bot)] == ["technical", "leadership", "technical", "leadership"]


def test_thread_replies_are_answers_with_private_feedback(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot, "technical 09:30 weekdays Europe/Berlin")
    bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    prompt = posted_prompts(bot)[0]
    bot.clock.set(WED_0930_BERLIN + timedelta(minutes=10))
    reply = bot.slack.post_as_user(CHANNEL, "U2", REPLY, thread_ts=prompt.ts)
    event = {"type": "message", "channel": CHANNEL, "user": "U2", "text": REPLY, "ts": reply.ts,
             "thread_ts": prompt.ts, "channel_type": "channel"}
    assert bot.driver.event(event, event_id="Ev1").status == 200
    assert bot.driver.event(event, event_id="Ev1", retry_num=1).status == 200  # Slack's retry: counted once
    feedback = bot.slack.wait_for(lambda: bot.slack.ephemerals("U2") or None)[-1]
    shown = text_of(feedback.blocks)
    # The reply is about merging intervals, and today's question is another one: the coach says so.
    assert feedback.thread_ts == prompt.ts and "This answer seems to be about something else." in shown
    assert "*Did you cover these?*" in shown and "*What worked:*" not in shown

    def stored() -> list[Answer]:
        with bot.services.db.session() as session:
            return list(session.scalars(select(Answer)))

    bot.slack.wait_for(lambda: stored() or None)
    import time

    time.sleep(0.3)  # give a wrongly duplicated retry the chance to land
    answers = stored()
    assert [(a.user_id, a.source, a.message_ts, a.thread_ts) for a in answers] == [("U2", "thread", reply.ts, prompt.ts)]
    assert answers[0].question_id == prompts(bot)[0].question_id
    stats = bot.services.progress.stats(bot.slack.team_id, "U2")
    assert stats.total == 1 and stats.per_track["technical"] == 1

    edited = {"type": "message", "subtype": "message_changed", "channel": CHANNEL,
              "message": {**event, "text": REPLY + " I would also add tests."}, "ts": "9.9"}
    bot.driver.event(edited, event_id="Ev2")
    bot.slack.wait_for(lambda: stored()[0].text.endswith("add tests.") or None)
    deleted = {"type": "message", "subtype": "message_deleted", "channel": CHANNEL, "deleted_ts": reply.ts,
               "ts": "9.10"}
    bot.driver.event(deleted, event_id="Ev3")
    bot.slack.wait_for(lambda: stored() == [] or None)


def test_bot_messages_and_other_threads_are_ignored(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    prompt = posted_prompts(bot)[0]
    bot.driver.event({"type": "message", "channel": CHANNEL, "bot_id": "B9", "user": "U9", "text": "bot says hi",
                      "ts": "1.1", "thread_ts": prompt.ts})
    bot.driver.event({"type": "message", "channel": CHANNEL, "user": "U3", "text": "not a prompt thread",
                      "ts": "1.2", "thread_ts": "1.0"})
    import time

    time.sleep(0.3)
    with bot.services.db.session() as session:
        assert list(session.scalars(select(Answer))) == []


def test_answer_button_on_a_prompt_posts_into_its_thread(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    prompt = posted_prompts(bot)[0]
    bot.driver.click("U4", bot.driver.seen_message(prompt), blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U4")
    assert "Share my answer" not in view_text(modal.view)  # prompt answers always go to the thread
    text = "Last quarter I led our migration; as a result we cut costs by 20%."
    assert bot.driver.submit("U4", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: text}}).json()[
        "response_action"] == "update"
    reply = bot.slack.wait_for(lambda: bot.slack.replies(CHANNEL, prompt.ts) or None)[-1]
    assert "@U4 answered" in text_of(reply.blocks) and "cut costs by 20%" in text_of(reply.blocks)


def test_archived_channel_disables_the_schedule(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.slack.archive(CHANNEL)
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    assert report.stopped and not report.posted
    view = bot.services.prompts.show(bot.slack.team_id, CHANNEL)
    assert not view.enabled and "archived" in view.status_note


def test_private_channel_without_the_bot_pauses_and_tells_the_owner(bot: Bot, poster: SlackPromptPoster):
    bot.slack.add_channel("G0PRIV", "private-team", is_private=True)
    setup_daily(bot, channel="G0PRIV")
    bot.slack.add_channel("G0PRIV", "private-team", is_private=True, is_member=False)
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    assert report.stopped and posted_prompts(bot, "G0PRIV") == []
    dm = bot.slack.wait_for(lambda: [c for c in bot.slack.calls_to("chat.postMessage")
                                     if c.params.get("channel") == "U1"] or None)
    assert "/invite @coachbot" in text_of(dm[-1].params["blocks"])


def test_public_channel_without_the_bot_is_joined(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.slack.add_channel(CHANNEL, "daily", is_member=False)
    assert len(bot.services.prompts.send_due(poster, WED_0930_BERLIN).posted) == 1
    assert bot.slack.calls_to("conversations.join")


def test_slack_5xx_is_retried_and_nothing_is_lost(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.slack.fail("chat.postMessage", status=503, times=-1)
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    assert report.retry_later and not report.posted
    bot.slack.clear_faults()
    bot.slack.fail("chat.postMessage", status=500, times=1)  # one more blip: retried inside the client
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN + timedelta(minutes=1))
    assert len(report.posted) == 1 and len(posted_prompts(bot)) == 1


def test_a_crash_after_slack_accepted_the_post_is_reconciled_not_reposted(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    # A scheduler posts and dies before recording it: the claim stays, the message exists.
    real = poster.post_prompt

    def post_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt("killed")

    poster.post_prompt = post_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        bot.services.prompts.send_due(poster, WED_0930_BERLIN, workers=1)
    poster.post_prompt = real  # type: ignore[method-assign]
    assert [p.status for p in prompts(bot)] == ["claimed"]
    # Restarted within the lease: the live claim is respected.
    assert bot.services.prompts.send_due(poster, WED_0930_BERLIN + timedelta(seconds=30)).posted == []
    # After the lease: reconciled from the message metadata, not posted again.
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN + timedelta(minutes=3))
    assert report.recovered and not report.posted
    assert len(posted_prompts(bot)) == 1 and [p.status for p in prompts(bot)] == ["posted"]


def test_a_crash_before_posting_posts_once_after_the_lease(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)

    def die(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    real = poster.post_prompt
    poster.post_prompt = die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        bot.services.prompts.send_due(poster, WED_0930_BERLIN, workers=1)
    poster.post_prompt = real  # type: ignore[method-assign]
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN + timedelta(minutes=3))
    assert len(report.posted) == 1 and len(posted_prompts(bot)) == 1


def test_one_failing_channel_does_not_block_the_others(bot: Bot, poster: SlackPromptPoster):
    for n in range(6):
        setup_daily(bot, channel=f"C0TEAM{n}")
    bot.slack.archive("C0TEAM2")
    bot.slack.fail("chat.postMessage", status=503, times=-1, channel="C0TEAM4")
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    assert sorted(label.split("/")[1] for label in report.posted) == ["C0TEAM0", "C0TEAM1", "C0TEAM3", "C0TEAM5"]


def test_off_and_pause(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    paused = text_of(setup_daily_command(bot, "daily pause until 2026-11-26").blocks)
    assert "paused daily practice until 2026-11-26" in paused
    assert bot.services.prompts.send_due(poster, WED_0930_BERLIN).posted == []
    friday = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)
    assert len(bot.services.prompts.send_due(poster, friday).posted) == 1
    stopped = text_of(setup_daily_command(bot, "daily off").blocks)
    assert "stopped daily interview practice" in stopped
    monday = datetime(2026, 11, 30, 8, 30, tzinfo=timezone.utc)
    assert bot.services.prompts.send_due(poster, monday).posted == []


def setup_daily_command(bot: Bot, text: str):
    before = len(bot.slack.messages(CHANNEL))
    bot.driver.slash("U1", text, CHANNEL)
    return bot.driver.wait_message(CHANNEL, before + 1)


def test_admins_only_when_configured(slack, database_url: str):
    from tests.scenario import start_bot

    bot = start_bot(slack, database_url, COACHBOT_ADMINS="U1")
    try:
        bot.driver.slash("U2", "daily leadership", CHANNEL)
        refusal = bot.driver.wait_ephemeral("U2")
        assert "COACHBOT_ADMINS" in text_of(refusal.blocks)
        assert bot.services.prompts.show(slack.team_id, CHANNEL) is None
        setup_daily(bot, user="U1")
        assert bot.services.prompts.show(slack.team_id, CHANNEL) is not None
        # The weekly digest follows the same rule; a workspace admin may change both.
        bot.driver.slash("U2", "digest off", CHANNEL)
        assert "COACHBOT_ADMINS" in text_of(bot.driver.wait_ephemeral("U2", 2).blocks)
        assert bot.services.digests.configure(slack.team_id, CHANNEL, "", may_manage=False)[0].enabled
        slack.add_user("U3", "ops", is_admin=True)
        before = len(bot.slack.messages(CHANNEL))
        bot.driver.slash("U3", "digest off", CHANNEL)
        assert "weekly digest is *off*" in text_of(bot.driver.wait_message(CHANNEL, before + 1).blocks)
        bot.driver.slash("U3", "daily off", CHANNEL)
        bot.driver.wait_message(CHANNEL, before + 2)
        assert not bot.services.prompts.show(slack.team_id, CHANNEL).enabled
    finally:
        bot.web.close()


def test_send_due_command_posts_once_when_run_twice(bot: Bot, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path):
    from click.testing import CliRunner

    from coachbot.cli import main
    from tests.scenario import SECRET

    setup_daily(bot)
    monkeypatch.chdir(tmp_path)
    env = {"SLACK_BOT_TOKEN": bot.slack.bot_token, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": bot.slack.api_url, "DATABASE_URL": database_url}
    runner = CliRunner()
    first = runner.invoke(main, ["prompts", "send-due", "--now", "2026-11-25T08:30:00+00:00"], env=env)
    assert first.exit_code == 0, first.output
    assert f"posted {bot.slack.team_id}/{CHANNEL}/2026-11-25" in first.output
    again = runner.invoke(main, ["prompts", "send-due", "--now", "2026-11-25T08:31:00+00:00"], env=env)
    assert again.exit_code == 0 and "0 posted" in again.output
    assert len(posted_prompts(bot)) == 1
    bad = runner.invoke(main, ["prompts", "send-due", "--now", "2026-11-25T08:30:00"], env=env)
    assert bad.exit_code == 1 and "--now needs a UTC offset" in bad.output


def test_429_waits_retry_after_then_posts(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    assert len(report.posted) == 1 and len(posted_prompts(bot)) == 1
    statuses = [c.status for c in bot.slack.calls_to("chat.postMessage")]
    assert statuses[-2:] == [429, 200]


def test_missing_channel_disables_the_schedule(bot: Bot, poster: SlackPromptPoster):
    setup_daily(bot)
    bot.slack.fail("chat.postMessage", error="channel_not_found", times=-1, channel=CHANNEL)
    report = bot.services.prompts.send_due(poster, WED_0930_BERLIN)
    assert report.stopped and not report.posted
    assert not bot.services.prompts.show(bot.slack.team_id, CHANNEL).enabled
