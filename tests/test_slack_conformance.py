"""Slack's rules that hang on the app's configuration and membership, as the stand-in models
them (coachbot.standin.manifest, with sources), and coachbot behaving under them.

Each stand-in rule has a test that it refuses what Slack refuses; each app fix has a test
that fails without it (see docs/slack-conformance.md).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.standin.driver import SlackDriver
from coachbot.standin.manifest import AppManifest, slash_text
from coachbot.standin.server import StandInSlack
from coachbot.storage.models import Answer, Schedule
from tests.scenario import Bot, start_bot, text_of

SHIPPED = AppManifest.shipped()
WITH_PUBLIC_WRITE = replace(SHIPPED, bot_scopes=SHIPPED.bot_scopes | {"chat:write.public"})
CHANNEL = "C0NEWROOM"
REPLY = ("I would sort the intervals by start, then merge in one pass: O(n log n) for the sort. "
         "I would test an empty list, one interval, and intervals that only touch.")


def client_for(slack: StandInSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def standin() -> Iterator[StandInSlack]:
    with StandInSlack() as slack:
        yield slack


# --- the stand-in obeys the manifest ---------------------------------------------------------


def test_shipped_manifest_settings_are_what_the_app_needs():
    assert SHIPPED.messages_tab_enabled
    assert SHIPPED.escapes("/prep")
    assert "chat:write.public" not in SHIPPED.bot_scopes and "im:write" not in SHIPPED.bot_scopes


def test_a_call_without_its_scope_fails_missing_scope():
    narrow = replace(SHIPPED, bot_scopes=SHIPPED.bot_scopes - {"users:read"})
    with StandInSlack(manifest=narrow) as slack:
        with pytest.raises(SlackApiError) as caught:
            client_for(slack).users_info(user="U1")
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "users:read"


def test_conversation_scopes_follow_the_kind_of_conversation():
    public_only = replace(SHIPPED, bot_scopes=SHIPPED.bot_scopes - {"groups:history"})
    with StandInSlack(manifest=public_only) as slack:
        slack.add_channel("C0PUB")
        slack.add_channel("C0PRIV", is_private=True)
        client = client_for(slack)
        assert client.conversations_history(channel="C0PUB")["ok"]
        with pytest.raises(SlackApiError) as caught:
            client.conversations_history(channel="C0PRIV")
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "groups:history"


def test_im_write_is_not_granted_so_conversations_open_is_refused(standin: StandInSlack):
    with pytest.raises(SlackApiError) as caught:
        client_for(standin).conversations_open(users="U1")
    assert caught.value.response["error"] == "missing_scope"


def test_posting_into_a_channel_the_bot_is_not_in_needs_chat_write_public():
    for manifest, allowed in ((SHIPPED, False), (WITH_PUBLIC_WRITE, True)):
        with StandInSlack(manifest=manifest) as slack:
            slack.add_channel("C0OUT", is_member=False)
            slack.add_channel("C0SECRET", is_private=True, is_member=False)
            client = client_for(slack)
            if allowed:
                assert client.chat_postMessage(channel="C0OUT", text="hi")["ok"]
            else:
                with pytest.raises(SlackApiError, match="not_in_channel"):
                    client.chat_postMessage(channel="C0OUT", text="hi")
            with pytest.raises(SlackApiError, match="not_in_channel"):  # never into a private channel
                client.chat_postMessage(channel="C0SECRET", text="hi")


def test_reading_history_needs_membership(standin: StandInSlack):
    standin.add_channel("C0OUT", is_member=False)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client_for(standin).conversations_history(channel="C0OUT")


def test_a_private_channel_the_bot_is_not_in_is_not_found(standin: StandInSlack):
    standin.add_channel("C0SECRET", is_private=True, is_member=False)
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client_for(standin).conversations_info(channel="C0SECRET")


def test_unknown_channels_start_without_the_bot(standin: StandInSlack):
    client = client_for(standin)
    assert client.conversations_info(channel="C0SOMEWHERE")["channel"]["is_member"] is False


def test_dms_need_the_messages_tab():
    for enabled in (True, False):
        with StandInSlack(manifest=replace(SHIPPED, messages_tab_enabled=enabled)) as slack:
            client = client_for(slack)
            if enabled:
                assert client.chat_postMessage(channel="U1", text="hello")["ok"]
            else:
                with pytest.raises(SlackApiError, match="messages_tab_disabled"):
                    client.chat_postMessage(channel="U1", text="hello")


def _recorder(slack: StandInSlack) -> tuple[SlackDriver, list[dict]]:
    seen: list[dict] = []

    def app(environ, start_response):
        from urllib.parse import parse_qs

        length = int(environ.get("CONTENT_LENGTH") or 0)
        seen.append({k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()})
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    return SlackDriver(slack, app, "secret"), seen


@pytest.mark.parametrize("escape, typed, sent", [
    (True, "stats @ben", "stats <@U0BEN|ben>"),
    (True, "daily #team-prep 09:30", "daily <#C0TEAM|team-prep> 09:30"),
    (True, "see https://example.com/a?b=1 & more <b>", "see <https://example.com/a?b=1> &amp; more &lt;b&gt;"),
    (True, "stats @nobody", "stats @nobody"),
    (False, "stats @ben", "stats @ben"),
    (False, "a & b <c>", "a &amp; b &lt;c&gt;"),
])
def test_slash_command_text_arrives_as_the_manifest_says(escape: bool, typed: str, sent: str):
    manifest = replace(SHIPPED, escaped_commands={"/prep": escape})
    with StandInSlack(manifest=manifest) as slack:
        slack.add_user("U0BEN", "ben")
        slack.add_channel("C0TEAM", "team-prep")
        driver, seen = _recorder(slack)
        driver.slash("U1", typed)
    assert seen[0]["text"] == sent


def test_slash_text_escapes_entities_before_markup():
    assert slash_text("@ben&co", escape=True, users={"ben": "U1"}, channels={}) == "<@U1|ben>&amp;co"


def test_events_are_delivered_only_from_channels_the_bot_is_in(standin: StandInSlack):
    standin.add_channel("C0IN")
    standin.add_channel("C0OUT", is_member=False)
    driver, seen = _recorder(standin)
    for channel in ("C0IN", "C0OUT"):
        message = standin.post_as_user(channel, "U1", "hello")
        event = {"type": "message", "channel": channel, "user": "U1", "text": "hello", "ts": message.ts}
        reaction = {"type": "reaction_added", "user": "U2", "reaction": "tada",
                    "item": {"type": "message", "channel": channel, "ts": message.ts}}
        for sent in (driver.event(event), driver.event(reaction)):
            assert sent.delivered is (channel == "C0IN"), sent.text
    assert len(seen) == 2


def test_events_need_a_subscription_and_its_scope():
    unsubscribed = replace(SHIPPED, bot_events=SHIPPED.bot_events - {"reaction_added"})
    no_scope = replace(SHIPPED, bot_scopes=SHIPPED.bot_scopes - {"reactions:read"})
    for manifest in (unsubscribed, no_scope):
        with StandInSlack(manifest=manifest) as slack:
            slack.add_channel("C0IN")
            driver, seen = _recorder(slack)
            message = slack.post_as_user("C0IN", "U1", "hello")
            sent = driver.event({"type": "reaction_added", "user": "U2", "reaction": "tada",
                                 "item": {"type": "message", "channel": "C0IN", "ts": message.ts}})
            assert not sent.delivered and seen == []
    with StandInSlack() as slack:
        driver, seen = _recorder(slack)
        assert driver.event({"type": "app_uninstalled"}).delivered  # sent to every app


# --- coachbot under those rules --------------------------------------------------------------


@pytest.fixture(params=["shipped", "with chat:write.public"])
def any_manifest_bot(request: pytest.FixtureRequest, database_url: str) -> Iterator[Bot]:
    """The app against the shipped manifest and against one that still grants chat:write.public
    (where posting alone works and events would silently never come)."""
    manifest = SHIPPED if request.param == "shipped" else WITH_PUBLIC_WRITE
    with StandInSlack(manifest=manifest) as slack:
        running = start_bot(slack, database_url)
        yield running
        running.web.close()


def _stored(bot: Bot) -> list[Answer]:
    with bot.services.db.session() as session:
        return list(session.scalars(select(Answer)))


def test_a_schedule_in_a_channel_the_bot_never_joined_still_hears_its_replies(any_manifest_bot: Bot):
    bot = any_manifest_bot
    bot.slack.add_channel(CHANNEL, is_member=False)
    assert bot.driver.slash("U1", "daily technical 09:30 daily UTC", CHANNEL).status == 200
    bot.driver.wait_message(CHANNEL)  # the announcement
    assert bot.slack.channel(CHANNEL).is_member, "the bot joins the channel when its schedule is set"
    poster = SlackPromptPoster(prompt_client(bot.web.bolt.client))
    from datetime import datetime, timezone

    report = bot.services.prompts.send_due(poster, datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc))
    assert len(report.posted) == 1
    prompt = [m for m in bot.slack.messages(CHANNEL) if m.metadata][0]
    reply = bot.slack.post_as_user(CHANNEL, "U2", REPLY, thread_ts=prompt.ts)
    sent = bot.driver.event({"type": "message", "channel": CHANNEL, "user": "U2", "text": REPLY, "ts": reply.ts,
                             "thread_ts": prompt.ts, "channel_type": "channel"})
    assert sent.delivered and sent.status == 200
    bot.slack.wait_for(lambda: _stored(bot) or None)
    assert [a.user_id for a in _stored(bot)] == ["U2"]


def test_a_private_channel_gets_how_to_invite_and_nothing_is_set(bot: Bot):
    bot.slack.add_channel("C0SECRET", is_private=True, is_member=False)
    assert bot.driver.slash("U1", "daily leadership 09:30", "C0SECRET").status == 200
    shown = text_of(bot.driver.wait_ephemeral("U1").blocks)
    assert "/invite @coachbot" in shown and "Nothing was changed" in shown
    assert bot.services.prompts.show(bot.slack.team_id, "C0SECRET") is None
    assert not bot.slack.channel("C0SECRET").is_member


def test_resuming_rejoins_a_public_channel(bot: Bot):
    bot.slack.add_channel(CHANNEL, is_member=False)
    bot.driver.slash("U1", "daily leadership 09:30", CHANNEL)
    bot.driver.wait_message(CHANNEL)
    bot.slack.leave(CHANNEL, bot.slack.bot_user_id)
    bot.driver.slash("U1", "daily resume", CHANNEL)
    bot.driver.wait_message(CHANNEL, 2)
    assert bot.slack.channel(CHANNEL).is_member


def _schedule(bot: Bot, channel: str) -> Schedule:
    with bot.services.db.session() as session:
        return session.scalars(select(Schedule).where(Schedule.channel_id == channel)).one()


@pytest.mark.parametrize("removal", ["member_left_channel", "channel_left"])
def test_removing_the_bot_pauses_the_schedule_and_tells_its_owner_once(bot: Bot, removal: str):
    bot.slack.add_channel(CHANNEL, is_member=False)
    bot.driver.slash("U1", "daily leadership 09:30", CHANNEL)
    bot.driver.wait_message(CHANNEL)
    bot.slack.leave(CHANNEL, bot.slack.bot_user_id)
    left = {"type": "member_left_channel", "user": bot.slack.bot_user_id, "channel": CHANNEL,
            "channel_type": "C", "team": bot.slack.team_id}
    if removal == "channel_left":
        left = {"type": "channel_left", "channel": CHANNEL}
    assert bot.driver.event(left).status == 200
    other = {"type": "channel_left", "channel": CHANNEL} if removal != "channel_left" else \
        {**left, "actor_id": "U1"}
    assert bot.driver.event(other).status == 200  # Slack may say it twice
    row = _schedule(bot, CHANNEL)
    assert not row.enabled and "removed" in (row.status_note or "")
    dm = bot.slack.wait_for(lambda: bot.slack.messages(bot.slack.dm_channel("U1")) or None)
    bot.web.close()  # let the after-ack work finish before counting
    dm = bot.slack.messages(bot.slack.dm_channel("U1"))
    assert len(dm) == 1
    assert "/invite @coachbot" in text_of(dm[0].blocks) and "/prep daily resume" in text_of(dm[0].blocks)
    shown = bot.services.prompts.show(bot.slack.team_id, CHANNEL)
    assert shown is not None and not shown.enabled


def test_someone_else_leaving_changes_nothing(bot: Bot):
    bot.slack.add_channel(CHANNEL, is_member=False)
    bot.driver.slash("U1", "daily leadership 09:30", CHANNEL)
    bot.driver.wait_message(CHANNEL)
    left = {"type": "member_left_channel", "user": "U2", "channel": CHANNEL, "channel_type": "C"}
    assert bot.driver.event(left).status == 200
    assert _schedule(bot, CHANNEL).enabled


def test_a_dm_slack_refuses_is_logged_as_a_warning_with_its_reason(database_url: str,
                                                                     caplog: pytest.LogCaptureFixture):
    from coachbot.slackapi import tell_owner

    with StandInSlack(manifest=replace(SHIPPED, messages_tab_enabled=False)) as slack:
        with caplog.at_level(logging.WARNING, logger="coachbot.slackapi"):
            tell_owner(client_for(slack), "U1", CHANNEL, "removed")
    assert any(r.levelno == logging.WARNING and "messages_tab_disabled" in r.getMessage() for r in caplog.records)


def test_thread_replies_are_stored_as_written_not_as_slack_markup(bot: Bot):
    bot.slack.add_channel(CHANNEL, is_member=False)
    bot.driver.slash("U1", "daily technical 09:30 daily UTC", CHANNEL)
    bot.driver.wait_message(CHANNEL)
    from datetime import datetime, timezone

    poster = SlackPromptPoster(prompt_client(bot.web.bolt.client))
    bot.services.prompts.send_due(poster, datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc))
    prompt = [m for m in bot.slack.messages(CHANNEL) if m.metadata][0]
    sent_text = REPLY + " I paired with <@U7|kim> &amp; checked a &lt; b, see <https://example.com|the notes>."
    reply = bot.slack.post_as_user(CHANNEL, "U2", sent_text, thread_ts=prompt.ts)
    bot.driver.event({"type": "message", "channel": CHANNEL, "user": "U2", "text": sent_text, "ts": reply.ts,
                      "thread_ts": prompt.ts, "channel_type": "channel"})
    bot.slack.wait_for(lambda: _stored(bot) or None)
    assert _stored(bot)[0].text.endswith("I paired with @kim & checked a < b, see the notes (https://example.com).")
