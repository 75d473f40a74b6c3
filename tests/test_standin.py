"""The stand-in Slack, driven through slack_sdk's real clients, and Slack's side of requests."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from coachbot.standin import StandInSlack
from coachbot.standin.driver import SlackDriver
from coachbot.standin.manifest import AppManifest
from coachbot.standin.render import render_blocks, render_view
from coachbot.standin.requests import (
    app_home_opened,
    block_actions,
    event_callback,
    reaction_added,
    reaction_removed,
    slash_command,
    url_verification,
    view_submission,
)
from coachbot.standin.sender import SlackSender
from coachbot.standin.signing import sign, signature

TS = re.compile(r"^\d{10}\.\d{6}$")
MODAL = {
    "type": "modal",
    "callback_id": "answer",
    "title": {"type": "plain_text", "text": "Answer"},
    "submit": {"type": "plain_text", "text": "Submit"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Question?"}}],
}

# These tests cover the stand-in itself, so it grants every scope it knows and the bot is in every
# channel it is handed (tests of coachbot run against coachbot's own manifest.yml, with channels the
# bot has not joined; see test_slack_conformance.py).
EVERYTHING = AppManifest.everything()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def slack() -> Iterator[StandInSlack]:
    with StandInSlack(manifest=EVERYTHING, bot_in_new_channels=True) as server:
        yield server


@pytest.fixture
def client(slack: StandInSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5)


def api_error(call: Any, *args: Any, **kwargs: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value


# Basics: auth, posting, threads


def test_api_url_is_loopback_with_trailing_slash(slack: StandInSlack) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", slack.api_url)


def test_auth_test_names_the_bot(client: WebClient, slack: StandInSlack) -> None:
    answer = client.auth_test()
    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == ("U0BOT", "B0BOT", "T0STANDIN")


def test_bad_or_missing_token_is_refused(slack: StandInSlack) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert api_error(wrong.chat_postMessage, channel="C1", text="hi").response["error"] == "invalid_auth"
    anonymous = WebClient(base_url=slack.api_url)
    assert api_error(anonymous.auth_test).response["error"] == "not_authed"
    assert slack.messages("C1") == []


def test_post_message_is_recorded_with_increasing_slack_timestamps(client: WebClient, slack: StandInSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hello*"}}]
    first = client.chat_postMessage(channel="C1", text="hello", blocks=blocks)
    second = client.chat_postMessage(channel="C1", text="again")
    assert first["channel"] == "C1" and TS.match(first["ts"]) and first["ts"] < second["ts"]
    assert first["message"]["bot_id"] == "B0BOT" and first["message"]["blocks"] == blocks
    shown = slack.messages("C1")
    assert [(m.text, m.user, m.blocks) for m in shown] == [("hello", "U0BOT", blocks), ("again", "U0BOT", [])]
    assert [c.method for c in slack.calls_to("chat.postMessage")] == ["chat.postMessage"] * 2


def test_post_without_text_or_blocks_is_refused(client: WebClient) -> None:
    assert api_error(client.api_call, "chat.postMessage", json={"channel": "C1"}).response["error"] == "no_text"


def test_form_encoded_json_strings_are_decoded(client: WebClient, slack: StandInSlack) -> None:
    blocks = [{"type": "divider"}]
    client.api_call("chat.postMessage", params={"channel": "C1", "text": "form", "blocks": json.dumps(blocks)})
    assert slack.messages("C1")[0].blocks == blocks
    assert slack.calls[-1].params["blocks"] == blocks


def test_unknown_method(client: WebClient) -> None:
    assert api_error(client.api_call, "nonsense.method").response["error"] == "unknown_method"


def test_threads_and_broadcast_replies(client: WebClient, slack: StandInSlack) -> None:
    parent = client.chat_postMessage(channel="C1", text="question")["ts"]
    reply = client.chat_postMessage(channel="C1", text="answer", thread_ts=parent)["ts"]
    client.chat_postMessage(channel="C1", text="to all", thread_ts=parent, reply_broadcast=True)
    client.chat_postMessage(channel="C1", text="reply to a reply", thread_ts=reply)

    assert [m.text for m in slack.messages("C1")] == ["question", "to all"]
    replies = slack.replies("C1", parent)
    assert [m.text for m in replies] == ["answer", "to all", "reply to a reply"]
    assert all(m.thread_ts == parent for m in replies)

    thread = client.conversations_replies(channel="C1", ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["question", "answer", "to all", "reply to a reply"]
    assert thread[0]["reply_count"] == 3 and thread[0]["thread_ts"] == parent
    assert thread[2]["subtype"] == "thread_broadcast"


def test_ephemeral_is_seen_by_one_user_only(client: WebClient, slack: StandInSlack) -> None:
    answer = client.chat_postEphemeral(channel="C1", user="U0ALICE", text="just you")
    assert TS.match(answer["message_ts"])
    assert [e.text for e in slack.ephemerals("U0ALICE")] == ["just you"]
    assert slack.ephemerals("U0BOB") == [] and slack.messages("C1") == []


def test_update_keeps_omitted_blocks_and_delete_removes(client: WebClient, slack: StandInSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "v1"}}]
    ts = client.chat_postMessage(channel="C1", text="v1", blocks=blocks)["ts"]
    updated = client.chat_update(channel="C1", ts=ts, text="v2")
    assert updated["text"] == "v2" and updated["message"]["edited"]["user"] == "U0BOT"
    assert slack.messages("C1")[0].blocks == blocks
    client.chat_update(channel="C1", ts=ts, text="v3", blocks=[])
    assert (slack.messages("C1")[0].text, slack.messages("C1")[0].blocks) == ("v3", [])
    client.chat_delete(channel="C1", ts=ts)
    assert slack.messages("C1") == []
    assert api_error(client.chat_delete, channel="C1", ts=ts).response["error"] == "message_not_found"


def test_bot_cannot_edit_peoples_messages(client: WebClient, slack: StandInSlack) -> None:
    said = slack.post_as_user("C1", "U0ALICE", "mine")
    assert api_error(client.chat_update, channel="C1", ts=said.ts, text="x").response["error"] == "cant_update_message"
    assert api_error(client.chat_delete, channel="C1", ts=said.ts).response["error"] == "cant_delete_message"


def test_permalink(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="hi")["ts"]
    link = client.chat_getPermalink(channel="C1", message_ts=ts)["permalink"]
    assert link == f"https://standin.slack.invalid/archives/C1/p{ts.replace('.', '')}"
    reply = client.chat_postMessage(channel="C1", text="re", thread_ts=ts)["ts"]
    assert client.chat_getPermalink(channel="C1", message_ts=reply)["permalink"].endswith(f"?thread_ts={ts}&cid=C1")


def test_history_with_metadata_pagination_and_human_messages(client: WebClient, slack: StandInSlack) -> None:
    metadata = {"event_type": "question_posted", "event_payload": {"question_id": "q1"}}
    client.chat_postMessage(channel="C1", text="card", metadata=metadata)
    slack.post_as_user("C1", "U0ALICE", "hello bot")
    client.chat_postMessage(channel="C1", text="latest")

    plain = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in plain] == ["latest", "hello bot", "card"]
    assert all("metadata" not in m for m in plain)
    with_metadata = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert with_metadata[2]["metadata"] == metadata and with_metadata[1]["user"] == "U0ALICE"

    first = client.conversations_history(channel="C1", limit=2)
    assert [m["text"] for m in first["messages"]] == ["latest", "hello bot"] and first["has_more"]
    rest = client.conversations_history(channel="C1", limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["card"] and not rest["has_more"]


# Users


def test_users_info_with_time_zone(client: WebClient, slack: StandInSlack) -> None:
    slack.add_user("U0ALICE", "alice", real_name="Alice A", tz="Europe/Berlin", is_admin=True)
    user = client.users_info(user="U0ALICE")["user"]
    offset = datetime.now(ZoneInfo("Europe/Berlin")).utcoffset()
    assert offset is not None
    assert (user["id"], user["name"], user["real_name"], user["tz"]) == ("U0ALICE", "alice", "Alice A", "Europe/Berlin")
    assert user["tz_offset"] == int(offset.total_seconds())
    assert user["tz_label"] in {"Central European Time", "Central European Summer Time"}
    assert (user["is_admin"], user["is_owner"], user["is_bot"]) == (True, False, False)


def test_unknown_users_default_to_utc_people_or_fail() -> None:
    with StandInSlack(manifest=EVERYTHING, bot_in_new_channels=True) as lenient, StandInSlack(auto_users=False, manifest=EVERYTHING, bot_in_new_channels=True) as strict:
        user = WebClient(token=lenient.bot_token, base_url=lenient.api_url).users_info(user="U0NEW")["user"]
        assert (user["tz"], user["tz_offset"], user["is_bot"]) == ("UTC", 0, False)
        strict_client = WebClient(token=strict.bot_token, base_url=strict.api_url)
        assert api_error(strict_client.users_info, user="U0NEW").response["error"] == "user_not_found"


# Channels


def test_channel_errors(client: WebClient, slack: StandInSlack) -> None:
    slack.add_channel("C0OUT", "outside", is_member=False)
    slack.add_channel("C0OLD", "old")
    slack.archive("C0OLD")
    assert api_error(client.chat_postMessage, channel="C0OUT", text="x").response["error"] == "not_in_channel"
    assert api_error(client.conversations_history, channel="C0OUT").response["error"] == "not_in_channel"
    assert api_error(client.chat_postMessage, channel="C0OLD", text="x").response["error"] == "is_archived"
    assert api_error(client.chat_postMessage, channel="G0NOPE", text="x").response["error"] == "channel_not_found"
    slack.remove_channel("C0OUT")
    assert slack.messages("C0OUT") == []


def test_no_auto_channels() -> None:
    with StandInSlack(auto_channels=False, manifest=EVERYTHING, bot_in_new_channels=True) as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        assert api_error(client.chat_postMessage, channel="C1", text="x").response["error"] == "channel_not_found"
        with pytest.raises(ValueError, match="channel_not_found"):
            slack.post_as_user("C1", "U0ALICE", "hi")


def test_join_public_private_and_archived(client: WebClient, slack: StandInSlack) -> None:
    slack.add_channel("C0PUB", "public", is_member=False)
    slack.add_channel("C0PRIV", "secret", is_private=True, is_member=False)
    slack.add_channel("C0OLD", "old", is_member=False, is_archived=True)
    joined = client.conversations_join(channel="C0PUB")["channel"]
    assert joined["is_member"] and joined["name"] == "public"
    client.chat_postMessage(channel="C0PUB", text="now I can post")
    assert client.conversations_join(channel="C0PUB")["warning"] == "already_in_channel"
    error = api_error(client.conversations_join, channel="C0PRIV").response["error"]
    assert error == "method_not_supported_for_channel_type"
    assert api_error(client.conversations_join, channel="C0OLD").response["error"] == "is_archived"
    # A private channel the bot is not in is invisible to it (conversations.info's errors).
    assert api_error(client.conversations_info, channel="C0PRIV").response["error"] == "channel_not_found"
    slack.join("C0PRIV", slack.bot_user_id)
    info = client.conversations_info(channel="C0PRIV")["channel"]
    assert (info["is_private"], info["is_member"], info["name"]) == (True, True, "secret")


def test_posting_to_a_user_uses_the_dm(client: WebClient, slack: StandInSlack) -> None:
    answer = client.chat_postMessage(channel="U0ALICE", text="psst")
    assert answer["channel"].startswith("D")
    assert [m.text for m in slack.messages("U0ALICE")] == ["psst"]
    assert client.conversations_open(users="U0ALICE")["channel"]["id"] == answer["channel"]
    assert client.conversations_info(channel=answer["channel"])["channel"]["is_im"]


# Views


def test_views_open_update_push_and_publish(client: WebClient, slack: StandInSlack) -> None:
    opened = client.views_open(trigger_id=slack.new_trigger_id("U0ALICE"), view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "answer"
    assert [v.id for v in slack.views("U0ALICE")] == [opened["id"]]

    changed = dict(MODAL, blocks=[{"type": "divider"}])
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert slack.views("U0ALICE")[0].blocks == [{"type": "divider"}]
    stale = api_error(client.views_update, view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert stale.response["error"] == "hash_conflict"

    pushed = client.views_push(trigger_id=slack.new_trigger_id("U0ALICE"), view=dict(MODAL, external_id="ext-1"))
    assert pushed["view"]["previous_view_id"] == opened["id"]
    client.views_update(external_id="ext-1", view=dict(MODAL, external_id="ext-1", callback_id="second"))
    assert [v.callback_id for v in slack.views("U0ALICE")] == ["answer", "second"]

    home = {"type": "home", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Hi"}}]}
    published = client.views_publish(user_id="U0ALICE", view=home)["view"]
    home_view = slack.home("U0ALICE")
    assert home_view is not None and home_view.id == published["id"] and home_view.type == "home"
    assert slack.home("U0BOB") is None


def test_trigger_ids_are_single_use_and_must_be_real(client: WebClient, slack: StandInSlack) -> None:
    trigger = slack.new_trigger_id("U0ALICE")
    client.views_open(trigger_id=trigger, view=MODAL)
    assert api_error(client.views_open, trigger_id=trigger, view=MODAL).response["error"] == "exchanged_trigger_id"
    assert api_error(client.views_open, trigger_id="made-up", view=MODAL).response["error"] == "invalid_trigger_id"


# Faults


def test_injected_429_reaches_slack_sdk_with_retry_after(client: WebClient, slack: StandInSlack) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=7)
    error = api_error(client.chat_postMessage, channel="C1", text="x")
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response["error"] == "ratelimited"
    client.chat_postMessage(channel="C1", text="fine now")
    assert [m.text for m in slack.messages("C1")] == ["fine now"]
    assert [(c.status, c.error) for c in slack.calls] == [(429, "ratelimited"), (200, None)]


def test_injected_500_and_error_strings_with_times(client: WebClient, slack: StandInSlack) -> None:
    slack.fail("chat.postMessage", status=500)
    assert api_error(client.chat_postMessage, channel="C1", text="x").response.status_code == 500
    slack.fail("users.info", error="fatal_error", times=2)
    for _ in range(2):
        error = api_error(client.users_info, user="U1")
        assert (error.response.status_code, error.response["error"]) == (200, "fatal_error")
    assert client.users_info(user="U1")["ok"]


def test_forever_faults_and_channel_filter(client: WebClient, slack: StandInSlack) -> None:
    slack.fail("chat.postMessage", error="channel_not_found", times=-1, channel="C0GONE")
    for _ in range(3):
        assert api_error(client.chat_postMessage, channel="C0GONE", text="x").response["error"] == "channel_not_found"
    client.chat_postMessage(channel="C1", text="other channels work")
    slack.clear_faults()
    client.chat_postMessage(channel="C0GONE", text="back")
    assert [m.text for m in slack.messages("C0GONE")] == ["back"]
    with pytest.raises(ValueError):
        slack.fail("chat.postMessage")


def test_delay_times_out_the_client_but_the_post_still_lands(slack: StandInSlack) -> None:
    # slack_sdk annotates timeout as int but passes it to urllib, which takes seconds as a float.
    impatient = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=cast(int, 0.1), retry_handlers=[])
    slack.fail("chat.postMessage", delay=0.4)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C1", text="slow")
    assert slack.wait_for(lambda: slack.messages("C1"), timeout=3)[0].text == "slow"


# Rate limits


def test_rate_limit_per_channel() -> None:
    clock = FakeClock()
    with StandInSlack(clock=clock, manifest=EVERYTHING, bot_in_new_channels=True) as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        slack.set_rate_limits(per_channel_per_second=1)
        client.chat_postMessage(channel="C1", text="one")
        error = api_error(client.chat_postMessage, channel="C1", text="too soon")
        assert (error.response.status_code, error.response["error"]) == (429, "ratelimited")
        assert error.response.headers["Retry-After"] == "1"
        client.chat_postMessage(channel="C2", text="other channel is fine")
        clock.advance(1.0)
        client.chat_postMessage(channel="C1", text="two")
        assert [m.text for m in slack.messages("C1")] == ["one", "two"]
        assert slack.rate_limited_count == 1


def test_rate_limit_per_workspace_tells_when_a_slot_frees() -> None:
    clock = FakeClock()
    with StandInSlack(clock=clock, manifest=EVERYTHING, bot_in_new_channels=True) as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        slack.set_rate_limits(workspace_per_minute=3)
        for channel in ("C1", "C2", "C3"):
            client.chat_postMessage(channel=channel, text="burst")
        assert api_error(client.chat_postMessage, channel="C4", text="x").response.headers["Retry-After"] == "20"
        clock.advance(19.0)
        assert api_error(client.chat_postMessage, channel="C4", text="x").response.headers["Retry-After"] == "1"
        clock.advance(1.0)
        client.chat_postMessage(channel="C4", text="slot freed")
        assert slack.rate_limited_count == 2
        slack.set_rate_limits()
        for _ in range(5):
            client.chat_postMessage(channel="C5", text="unlimited")


# response_url


def test_response_url_ephemeral_replace_and_delete(slack: StandInSlack) -> None:
    url = slack.new_response_url(user_id="U0ALICE", channel_id="C1")
    hook = WebhookClient(url)
    answer = hook.send(text="thinking")
    assert (answer.status_code, answer.body) == (200, "ok")
    hook.send(text="second")
    hook.send(text="done", replace_original=True)
    assert [e.text for e in slack.ephemerals("U0ALICE")] == ["thinking", "done"]
    hook.send(delete_original=True)
    assert [e.text for e in slack.ephemerals("U0ALICE")] == ["thinking"]
    assert [p.body.get("text") for p in slack.response_posts(url)] == ["thinking", "second", "done", None]


def test_response_url_in_channel_and_original_message(client: WebClient, slack: StandInSlack) -> None:
    card = client.chat_postMessage(channel="C1", text="card")["ts"]
    url = slack.new_response_url(user_id="U0ALICE", channel_id="C1", message_ts=card)
    WebhookClient(url).send(text="posted for all", response_type="in_channel")
    assert [m.text for m in slack.messages("C1")] == ["card", "posted for all"]
    WebhookClient(url).send(text="card, answered", replace_original=True)
    assert [m.text for m in slack.messages("C1")] == ["card, answered", "posted for all"]
    WebhookClient(url).send(delete_original=True)
    assert [m.text for m in slack.messages("C1")] == ["posted for all"]
    assert slack.ephemerals("U0ALICE") == []


def test_response_url_replaces_an_ephemeral_it_came_from(client: WebClient, slack: StandInSlack) -> None:
    shown = client.chat_postEphemeral(channel="C1", user="U0ALICE", text="pick one")["message_ts"]
    url = slack.new_response_url(user_id="U0ALICE", channel_id="C1", message_ts=shown)
    WebhookClient(url).send(text="picked", replace_original=True)
    assert [e.text for e in slack.ephemerals("U0ALICE")] == ["picked"]


def test_unknown_response_url(slack: StandInSlack) -> None:
    assert WebhookClient(f"{slack.base_url}/respond/nope").send(text="x").status_code == 404


# Waiting, resetting, threads


def test_wait_for_sees_posts_from_other_threads(client: WebClient, slack: StandInSlack) -> None:
    poster = threading.Timer(0.05, lambda: client.chat_postMessage(channel="C1", text="later"))
    poster.start()
    try:
        assert slack.wait_for(lambda: slack.messages("C1"), timeout=3)[0].text == "later"
    finally:
        poster.join()


def test_wait_for_times_out_with_a_useful_message(client: WebClient, slack: StandInSlack) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"wait_for\(a reply\).*auth\.test"):
        slack.wait_for(lambda: slack.messages("C1"), timeout=0.1, message="a reply")


def test_reset_forgets_recordings_and_faults(client: WebClient, slack: StandInSlack) -> None:
    client.chat_postMessage(channel="C1", text="x")
    client.chat_postEphemeral(channel="C1", user="U0ALICE", text="y")
    slack.fail("auth.test", error="fatal_error")
    slack.reset()
    assert (slack.calls, slack.messages("C1"), slack.ephemerals("U0ALICE")) == ([], [], [])
    assert client.auth_test()["ok"]


def test_concurrent_posts_get_unique_ordered_timestamps(slack: StandInSlack) -> None:
    def post_ten(worker: int) -> list[str]:
        own = WebClient(token=slack.bot_token, base_url=slack.api_url)
        return [own.chat_postMessage(channel="C1", text=f"{worker}-{i}")["ts"] for i in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = [ts for batch in pool.map(post_ten, range(8)) for ts in batch]
    shown = [m.ts for m in slack.messages("C1")]
    assert len(set(stamps)) == 80 and sorted(stamps) == shown


# Signing


SLACK_DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_DOC_TIMESTAMP = 1531420618
SLACK_DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_signature_matches_slacks_documented_example() -> None:
    assert signature(SLACK_DOC_BODY, SLACK_DOC_SECRET, SLACK_DOC_TIMESTAMP) == SLACK_DOC_SIGNATURE
    assert sign(SLACK_DOC_BODY, SLACK_DOC_SECRET, SLACK_DOC_TIMESTAMP) == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": SLACK_DOC_SIGNATURE,
    }


def test_sign_is_accepted_by_slack_sdk_verifier() -> None:
    now = int(time.time())
    headers = sign(b'{"type":"event_callback"}', "s3cret", now)
    verifier = SignatureVerifier("s3cret")
    timestamp, signed = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert verifier.is_valid(b'{"type":"event_callback"}', timestamp, signed)
    assert not SignatureVerifier("other").is_valid_request(b'{"type":"event_callback"}', headers)


# Payload builders


def _form_payload(body: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(parse_qs(body.decode())["payload"][0])
    return payload


def test_slash_command_body() -> None:
    body, content_type = slash_command(
        text="tech", user_id="U0ALICE", team_id="T0STANDIN", channel_id="C1", response_url="http://127.0.0.1/r/1"
    )
    fields = {key: values[0] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert content_type == "application/x-www-form-urlencoded"
    picked = (fields["command"], fields["text"], fields["user_id"], fields["team_id"])
    assert picked == ("/prep", "tech", "U0ALICE", "T0STANDIN")
    assert fields["response_url"] == "http://127.0.0.1/r/1" and "U0ALICE" in fields["trigger_id"]


def test_block_actions_body() -> None:
    message = {"type": "message", "ts": "1700000000.000100", "text": "card"}
    body, content_type = block_actions(
        user_id="U0ALICE",
        team_id="T0STANDIN",
        channel_id="C1",
        actions=[{"action_id": "answer", "block_id": "b1", "value": "q1"}],
        message=message,
        response_url="http://127.0.0.1/r/2",
    )
    payload = _form_payload(body)
    assert content_type == "application/x-www-form-urlencoded" and payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0ALICE" and payload["team"]["id"] == "T0STANDIN"
    assert payload["container"] == {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    action = payload["actions"][0]
    assert (action["action_id"], action["value"], action["type"]) == ("answer", "q1", "button") and action["action_ts"]
    assert payload["message"] == message and payload["response_url"] == "http://127.0.0.1/r/2"


def test_view_submission_body() -> None:
    view = dict(MODAL, id="V0000001", hash="1.abc", private_metadata='{"q": 1}')
    body, _ = view_submission(
        user_id="U0ALICE",
        team_id="T0STANDIN",
        view=view,
        values={"answer": {"text": "my answer", "rating": {"type": "static_select", "selected_option": {"value": "3"}}}},
    )
    payload = _form_payload(body)
    submitted = payload["view"]
    assert payload["type"] == "view_submission" and payload["user"]["id"] == "U0ALICE"
    assert (submitted["id"], submitted["hash"], submitted["callback_id"]) == ("V0000001", "1.abc", "answer")
    assert submitted["private_metadata"] == '{"q": 1}'
    assert submitted["state"]["values"]["answer"]["text"] == {"type": "plain_text_input", "value": "my answer"}
    assert submitted["state"]["values"]["answer"]["rating"]["selected_option"] == {"value": "3"}
    assert "state" not in view


def test_event_callback_and_url_verification_bodies() -> None:
    event = {"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> hi", "channel": "C1", "ts": "1.000001"}
    body, content_type = event_callback(event=event, team_id="T0STANDIN", event_id="Ev1", event_time=1700000000)
    envelope = json.loads(body)
    assert content_type == "application/json" and envelope["type"] == "event_callback"
    assert (envelope["event"], envelope["event_id"], envelope["event_time"]) == (event, "Ev1", 1700000000)
    assert envelope["api_app_id"] == "A0STANDIN"
    assert envelope["authorizations"][0]["team_id"] == "T0STANDIN" and envelope["authorizations"][0]["is_bot"]
    challenge, _ = url_verification("abc123")
    handshake = json.loads(challenge)
    assert (handshake["type"], handshake["challenge"], bool(handshake["token"])) == ("url_verification", "abc123", True)


# SlackSender


SECRET = "sender-secret"


def echo_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A tiny WSGI app: checks Slack's signature the way Bolt does and echoes what it got."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    signed = environ.get("HTTP_X_SLACK_SIGNATURE")
    valid = SignatureVerifier(SECRET).is_valid(body, timestamp, signed)
    echoed = {
        "valid": valid,
        "path": environ["PATH_INFO"],
        "method": environ["REQUEST_METHOD"],
        "content_type": environ.get("CONTENT_TYPE"),
        "timestamp": timestamp,
        "retry_num": environ.get("HTTP_X_SLACK_RETRY_NUM"),
        "retry_reason": environ.get("HTTP_X_SLACK_RETRY_REASON"),
        "body": body.decode(),
    }
    start_response("200 OK" if valid else "401 Unauthorized", [("Content-Type", "application/json")])
    return [json.dumps(echoed).encode()]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def echo_url() -> Iterator[str]:
    server: WSGIServer = make_server("127.0.0.1", 0, echo_app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_sender_calls_a_wsgi_app_in_process() -> None:
    sender = SlackSender(echo_app, SECRET)
    body, content_type = url_verification("xyz")
    answer = sender.send(body, content_type)
    echoed = answer.json()
    assert answer.status == 200 and echoed["valid"] and echoed["body"] == body.decode()
    assert (echoed["path"], echoed["method"], echoed["content_type"]) == ("/slack/events", "POST", content_type)
    assert answer.header("content-type") == "application/json"


def test_sender_signing_options() -> None:
    sender = SlackSender(echo_app, SECRET)
    body, content_type = url_verification("xyz")
    assert sender.send(body, content_type).status == 200
    assert sender.send(body, content_type, sign=False).status == 401
    assert sender.send(body, content_type, secret="wrong").status == 401
    assert sender.send(body, content_type, timestamp=int(time.time()) - 3600).status == 401
    retried = sender.send(body, content_type, retry_num=1, retry_reason="http_timeout").json()
    assert (retried["retry_num"], retried["retry_reason"], retried["valid"]) == ("1", "http_timeout", True)
    stale_clock = SlackSender(echo_app, SECRET, clock=lambda: 1_700_000_000.0).send(body, content_type)
    assert (stale_clock.status, stale_clock.json()["timestamp"]) == (401, "1700000000")


def test_sender_over_http(echo_url: str) -> None:
    sender = SlackSender(echo_url, SECRET)
    body, content_type = slash_command(
        text="", user_id="U0ALICE", team_id="T0STANDIN", channel_id="C1", response_url="http://127.0.0.1/r"
    )
    answer = sender.send(body, content_type)
    assert answer.status == 200 and answer.json()["valid"] and answer.json()["body"] == body.decode()
    refused = sender.send(body, content_type, sign=False)
    assert refused.status == 401 and not refused.json()["valid"]


def test_sender_refuses_non_loopback_targets() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SlackSender("https://example.com/slack/events", SECRET)



# Bolt against the stand-in, end to end


def test_bolt_app_round_trip(slack: StandInSlack) -> None:
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=slack.bot_token, base_url=slack.api_url),
        process_before_response=True,
    )

    @app.command("/prep")
    def prep(ack: Ack, respond: Respond, body: dict[str, Any], client: WebClient) -> None:
        ack()
        respond(f"practising {body['text']}")
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("answer")
    def submitted(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(channel="C1", text=view["state"]["values"]["a"]["t"]["value"])

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="hello!")

    sender = SlackSender(SlackRequestHandler(app), SECRET)
    url = slack.new_response_url(user_id="U0ALICE", channel_id="C1")
    command = slash_command(text="tech", user_id="U0ALICE", team_id="T0STANDIN", channel_id="C1", response_url=url)
    assert sender.send(*command).status == 200
    assert [e.text for e in slack.ephemerals("U0ALICE")] == ["practising tech"]
    (modal,) = slack.views("U0ALICE")
    submission = view_submission(user_id="U0ALICE", team_id="T0STANDIN", view=modal.view, values={"a": {"t": "42"}})
    assert sender.send(*submission).status == 200
    assert [m.text for m in slack.messages("C1")] == ["42"]

    said = slack.post_as_user("C1", "U0ALICE", "<@U0BOT> hi")
    event = {"type": "app_mention", "user": "U0ALICE", "text": said.text, "channel": "C1", "ts": said.ts}
    assert sender.send(*event_callback(event=event, team_id="T0STANDIN", event_id="Ev1", event_time=1)).status == 200
    assert [m.text for m in slack.replies("C1", said.ts)] == ["hello!"]
    assert sender.send(*command, sign=False).status == 401


# Channel membership


def test_channel_members_from_set_up_joins_and_posts(client: WebClient, slack: StandInSlack) -> None:
    team = slack.add_channel("C0TEAM", "team", members=["U0ALICE", "U0BOB"])
    assert team.members == {"U0ALICE", "U0BOB"} and team.is_member
    slack.join("C0TEAM", "U0CAROL")
    assert slack.leave("C0TEAM", "U0ALICE").members == {"U0BOB", "U0CAROL"}
    assert slack.leave("C0TEAM", "U0ALICE").members == {"U0BOB", "U0CAROL"}
    assert slack.join("#team", "U0BOB").members == {"U0BOB", "U0CAROL"}

    client.chat_postMessage(channel="C0AUTO", text="bot only")
    channel = slack.channel("C0AUTO")
    assert channel is not None and channel.members == frozenset()
    slack.post_as_user("C0AUTO", "U0DAVE", "hello")
    slack.post_as_user("C0AUTO", "U0DAVE", "again")
    channel = slack.channel("C0AUTO")
    assert channel is not None and channel.members == {"U0DAVE"}
    assert slack.channel("C0NEVER") is None


def test_the_bots_membership_is_is_member_and_dms_are_fixed(client: WebClient, slack: StandInSlack) -> None:
    slack.add_channel("C0OUT", "outside", is_member=False, members=["U0ALICE"])
    assert slack.join("C0OUT", "U0BOT").is_member and slack.join("C0OUT", "U0BOT").members == {"U0ALICE"}
    client.chat_postMessage(channel="C0OUT", text="in now")
    assert not slack.leave("C0OUT", "U0BOT").is_member
    assert api_error(client.chat_postMessage, channel="C0OUT", text="x").response["error"] == "not_in_channel"
    with pytest.raises(ValueError, match="is_member"):
        slack.add_channel("C0BAD", members=["U0BOT"])
    with pytest.raises(TypeError):
        slack.add_channel("C0BAD", members="U0ALICE")
    dm = slack.dm_channel("U0ALICE")
    assert slack.channel("U0ALICE") == slack.channel(dm)
    dm_channel = slack.channel(dm)
    assert dm_channel is not None and dm_channel.members == {"U0ALICE"}
    with pytest.raises(ValueError, match="DM"):
        slack.join(dm, "U0BOB")
    slack.post_as_user(dm, "U0ALICE", "hi bot")
    dm_channel = slack.channel(dm)
    assert dm_channel is not None and dm_channel.members == {"U0ALICE"}


def test_joining_an_unknown_channel_without_auto_channels() -> None:
    with StandInSlack(auto_channels=False, manifest=EVERYTHING, bot_in_new_channels=True) as strict, \
            pytest.raises(ValueError, match="channel_not_found"):
        strict.join("C0NOPE", "U0ALICE")


# users.conversations


def _listed(answer: Any) -> list[str]:
    return [channel["id"] for channel in answer["channels"]]


@pytest.fixture
def memberships(slack: StandInSlack) -> str:
    """Channels around U0ALICE; returns the id of her DM with the bot."""
    slack.add_channel("C0PUB", "public", members=["U0ALICE", "U0BOB"])
    slack.add_channel("C0PRIV", "secret", is_private=True, members=["U0ALICE"])
    slack.add_channel("C0HIDDEN", "hidden", is_private=True, is_member=False, members=["U0ALICE"])
    slack.add_channel("C0OUT", "outside", is_member=False, members=["U0ALICE"])
    slack.add_channel("C0OLD", "old", is_archived=True, members=["U0ALICE"])
    slack.add_channel("C0BOBS", "bobs", members=["U0BOB"])
    return slack.dm_channel("U0ALICE")


def test_users_conversations_for_the_bot(client: WebClient, slack: StandInSlack, memberships: str) -> None:
    assert _listed(client.users_conversations()) == ["C0PUB", "C0OLD", "C0BOBS"]
    every = client.users_conversations(types="public_channel,private_channel,mpim,im", exclude_archived=True)
    assert _listed(every) == ["C0PUB", "C0PRIV", "C0BOBS", memberships]
    assert _listed(client.users_conversations(user="U0BOT", types="im")) == [memberships]
    assert every["response_metadata"] == {"next_cursor": ""}


def test_users_conversations_for_a_person(client: WebClient, slack: StandInSlack, memberships: str) -> None:
    answer = client.users_conversations(user="U0ALICE", types=["public_channel", "private_channel", "im"])
    assert _listed(answer) == ["C0PUB", "C0PRIV", "C0OUT", "C0OLD", memberships]
    public = answer["channels"][0]
    assert {key: public[key] for key in ("id", "name", "is_channel", "is_group", "is_private", "is_archived")} == {
        "id": "C0PUB",
        "name": "public",
        "is_channel": True,
        "is_group": False,
        "is_private": False,
        "is_archived": False,
    }
    assert answer["channels"][1]["is_private"] and answer["channels"][3]["is_archived"]
    assert answer["channels"][4]["is_im"] and answer["channels"][4]["user"] == "U0ALICE"
    assert _listed(client.users_conversations(user="U0ALICE", exclude_archived="true")) == ["C0PUB", "C0OUT"]
    assert _listed(client.users_conversations(user="U0ALICE", types="mpim")) == []
    assert _listed(client.users_conversations(user="U0CAROL", types="public_channel,im")) == []
    slack.leave("C0PUB", "U0ALICE")
    slack.post_as_user("C0BOBS", "U0ALICE", "hi bob")
    assert _listed(client.users_conversations(user="U0ALICE")) == ["C0OUT", "C0OLD", "C0BOBS"]
    assert [c.params.get("user") for c in slack.calls_to("users.conversations")][-1] == "U0ALICE"


def test_users_conversations_pages(client: WebClient, slack: StandInSlack) -> None:
    for number in range(5):
        slack.add_channel(f"C0P{number}", members=["U0ALICE"])
    first = client.users_conversations(user="U0ALICE", limit=2)
    assert _listed(first) == ["C0P0", "C0P1"] and first["response_metadata"]["next_cursor"]
    second = client.users_conversations(user="U0ALICE", limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert _listed(second) == ["C0P2", "C0P3"]
    last = client.users_conversations(user="U0ALICE", limit=2, cursor=second["response_metadata"]["next_cursor"])
    assert _listed(last) == ["C0P4"] and last["response_metadata"]["next_cursor"] == ""
    assert len(_listed(client.users_conversations(user="U0ALICE", limit=999))) == 5
    paged = [c.params.get("cursor") for c in slack.calls_to("users.conversations")]
    assert paged[0] is None and paged[1] == first["response_metadata"]["next_cursor"]


def test_users_conversations_errors(client: WebClient, slack: StandInSlack) -> None:
    assert api_error(client.users_conversations, user="nobody").response["error"] == "user_not_found"
    assert api_error(client.users_conversations, types="public_channel,dm").response["error"] == "invalid_types"
    assert api_error(client.users_conversations, limit="lots").response["error"] == "invalid_limit"
    assert api_error(client.users_conversations, cursor="!!not-a-cursor!!").response["error"] == "invalid_cursor"
    assert [c.error for c in slack.calls_to("users.conversations")] == [
        "user_not_found",
        "invalid_types",
        "invalid_limit",
        "invalid_cursor",
    ]
    slack.fail("users.conversations", error="ratelimited", status=429, retry_after=2)
    limited = api_error(client.users_conversations)
    assert (limited.response.status_code, limited.response.headers["Retry-After"]) == (429, "2")
    with StandInSlack(auto_users=False, manifest=EVERYTHING, bot_in_new_channels=True) as strict:
        strict_client = WebClient(token=strict.bot_token, base_url=strict.api_url)
        assert api_error(strict_client.users_conversations, user="U0NEW").response["error"] == "user_not_found"
        assert strict_client.users_conversations()["channels"] == []


# Reactions


def test_reaction_store(client: WebClient, slack: StandInSlack) -> None:
    ts = client.chat_postMessage(channel="C1", text="my answer")["ts"]
    slack.add_reaction("C1", ts, "U0ALICE", "thumbsup")
    slack.add_reaction("C1", ts, "U0BOB", ":thumbsup:")
    message = slack.add_reaction("C1", ts, "U0BOB", "tada")
    assert message.reactions == {"thumbsup": ["U0ALICE", "U0BOB"], "tada": ["U0BOB"]}
    assert slack.reactions("C1", ts) == {"thumbsup": ["U0ALICE", "U0BOB"], "tada": ["U0BOB"]}
    with pytest.raises(ValueError, match="already_reacted"):
        slack.add_reaction("C1", ts, "U0ALICE", "thumbsup")
    with pytest.raises(ValueError, match="message_not_found"):
        slack.add_reaction("C1", "1.000001", "U0ALICE", "thumbsup")
    with pytest.raises(ValueError, match="invalid_name"):
        slack.add_reaction("C1", ts, "U0ALICE", "::")

    history = client.conversations_history(channel="C1")["messages"][0]
    assert history["reactions"] == [
        {"name": "thumbsup", "users": ["U0ALICE", "U0BOB"], "count": 2},
        {"name": "tada", "users": ["U0BOB"], "count": 1},
    ]
    client.chat_update(channel="C1", ts=ts, text="edited")
    slack.remove_reaction("C1", ts, "U0BOB", "tada")
    assert slack.reactions("C1", ts) == {"thumbsup": ["U0ALICE", "U0BOB"]}
    with pytest.raises(ValueError, match="no_reaction"):
        slack.remove_reaction("C1", ts, "U0BOB", "tada")
    assert slack.reactions("C1", "9.000009") == {}
    slack.reset()
    assert slack.reactions("C1", ts) == {}


def test_reactions_in_a_dm_by_user_id(slack: StandInSlack) -> None:
    said = slack.post_as_user("U0ALICE", "U0ALICE", "hi")
    slack.add_reaction("U0ALICE", said.ts, "U0ALICE", "wave")
    assert slack.reactions(said.channel, said.ts) == {"wave": ["U0ALICE"]}


# Event builders


def test_reaction_event_builders() -> None:
    added = reaction_added("U0BOB", "thumbsup", "C1", "1700000000.000100", "U0ALICE", "1700000005.000200")
    assert added == {
        "type": "reaction_added",
        "user": "U0BOB",
        "reaction": "thumbsup",
        "item_user": "U0ALICE",
        "item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"},
        "event_ts": "1700000005.000200",
    }
    removed = reaction_removed(user="U0BOB", reaction=":tada:", channel="C1", ts="1.000001", item_user="U0ALICE")
    assert removed["type"] == "reaction_removed" and removed["reaction"] == "tada"
    assert removed["item"] == {"type": "message", "channel": "C1", "ts": "1.000001"} and TS.match(removed["event_ts"])
    assert "item_user" not in reaction_added("U0BOB", "x", "C1", "1.000001")
    body, _ = event_callback(event=added, team_id="T0STANDIN", event_id="Ev7", event_time=1700000005)
    envelope = json.loads(body)
    assert envelope["event"] == added and envelope["event_id"] == "Ev7"


def test_app_home_opened_builder() -> None:
    bare = app_home_opened("U0ALICE", "D0ALICE")
    assert set(bare) == {"type", "user", "channel", "tab", "event_ts"} and TS.match(bare["event_ts"])
    picked = (bare["type"], bare["user"], bare["channel"], bare["tab"])
    assert picked == ("app_home_opened", "U0ALICE", "D0ALICE", "home")
    view = {"id": "V01", "type": "home", "blocks": []}
    shown = app_home_opened("U0ALICE", "D0ALICE", tab="home", view=view, event_ts="1.000002")
    assert shown["view"] == view and shown["view"] is not view and shown["event_ts"] == "1.000002"
    assert app_home_opened("U0ALICE", "D0ALICE", "messages")["tab"] == "messages"


# SlackDriver: reactions and App Home


class RecordingApp:
    """A minimal WSGI target: checks Slack's signature, keeps each event delivery, answers 200.

    ``on_event`` runs inside the request, the way a Bolt listener would.
    """

    def __init__(self, on_event: Any = None) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.retry_nums: list[str | None] = []
        self.on_event = on_event

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if not SignatureVerifier(SECRET).is_valid(body, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE")):
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"invalid signature"]
        envelope = json.loads(body)
        self.deliveries.append(envelope)
        self.retry_nums.append(environ.get("HTTP_X_SLACK_RETRY_NUM"))
        if self.on_event is not None:
            self.on_event(envelope["event"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [delivery["event"] for delivery in self.deliveries]


def test_driver_react_and_unreact(client: WebClient, slack: StandInSlack) -> None:
    app = RecordingApp()
    driver = SlackDriver(slack, app, SECRET)
    ts = client.chat_postMessage(channel="C1", text="my answer")["ts"]
    message = slack.message("C1", ts)
    assert message is not None

    assert driver.react("U0BOB", message, ":thumbsup:").status == 200
    driver.react("U0CAROL", driver.seen_message(message), "thumbsup")
    driver.react("U0CAROL", "C1", "tada", ts=ts)
    assert slack.reactions("C1", ts) == {"thumbsup": ["U0BOB", "U0CAROL"], "tada": ["U0CAROL"]}
    assert driver.reactions(message) == slack.reactions("C1", ts)
    first = app.events[0]
    assert first == {
        "type": "reaction_added",
        "user": "U0BOB",
        "reaction": "thumbsup",
        "item_user": "U0BOT",
        "item": {"type": "message", "channel": "C1", "ts": ts},
        "event_ts": first["event_ts"],
    }
    assert app.deliveries[0]["type"] == "event_callback" and app.deliveries[0]["team_id"] == "T0STANDIN"
    assert len({delivery["event_id"] for delivery in app.deliveries}) == 3

    removed = driver.unreact("U0CAROL", message, "tada")
    assert removed.status == 200 and app.events[-1]["type"] == "reaction_removed"
    assert app.events[-1]["reaction"] == "tada" and app.events[-1]["item"]["ts"] == ts
    assert slack.reactions("C1", ts) == {"thumbsup": ["U0BOB", "U0CAROL"]}


def test_driver_react_refusals_send_nothing(client: WebClient, slack: StandInSlack) -> None:
    app = RecordingApp()
    driver = SlackDriver(slack, app, SECRET)
    said = slack.post_as_user("C1", "U0ALICE", "answer")
    driver.react("U0BOB", said, "fire")
    with pytest.raises(ValueError, match="already_reacted"):
        driver.react("U0BOB", said, "fire")
    with pytest.raises(ValueError, match="no_reaction"):
        driver.unreact("U0BOB", said, "tada")
    with pytest.raises(ValueError, match="needs ts"):
        driver.react("U0BOB", "C1", "fire")
    client.chat_postEphemeral(channel="C1", user="U0BOB", text="only you")
    with pytest.raises(ValueError, match="ephemerals"):
        driver.react("U0BOB", driver.wait_ephemeral("U0BOB"), "fire")
    assert len(app.deliveries) == 1 and app.events[0]["item_user"] == "U0ALICE"


def test_driver_react_retry_resends_the_same_event_once_recorded(slack: StandInSlack) -> None:
    app = RecordingApp()
    driver = SlackDriver(slack, app, SECRET)
    said = slack.post_as_user("C1", "U0ALICE", "answer")
    driver.react("U0BOB", said, "fire", event_id="Ev0REACT")
    driver.react("U0BOB", said, "fire", event_id="Ev0REACT", retry_num=1)
    driver.unreact("U0BOB", said, "fire", event_id="Ev0UNREACT")
    driver.unreact("U0BOB", said, "fire", event_id="Ev0UNREACT", retry_num=1)
    assert [d["event_id"] for d in app.deliveries] == ["Ev0REACT", "Ev0REACT", "Ev0UNREACT", "Ev0UNREACT"]
    assert app.retry_nums == [None, "1", None, "1"]
    assert app.events[0] == app.events[1] and app.deliveries[0]["event_time"] == app.deliveries[1]["event_time"]
    assert slack.reactions("C1", said.ts) == {}

    driver.open_home("U0ALICE", event_id="Ev0OPEN")
    WebClient(token=slack.bot_token, base_url=slack.api_url).views_publish(user_id="U0ALICE", view=HOME_VIEW)
    driver.open_home("U0ALICE", event_id="Ev0OPEN", retry_num=2)
    assert app.events[-1] == app.events[-2] and "view" not in app.events[-1] and app.retry_nums[-1] == "2"


HOME_VIEW = {"type": "home", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Your practice"}}]}


def test_driver_open_home_and_wait_home(client: WebClient, slack: StandInSlack) -> None:
    def publish(event: dict[str, Any]) -> None:
        if event["type"] == "app_home_opened":
            client.views_publish(user_id=event["user"], view=HOME_VIEW)

    app = RecordingApp(on_event=publish)
    driver = SlackDriver(slack, app, SECRET)
    assert slack.home_publishes("U0ALICE") == 0
    assert driver.open_home("U0ALICE").status == 200
    home = driver.wait_home("U0ALICE")
    assert home.type == "home" and render_view(home.view) == "=== Home ===\n## Your practice"
    opened = app.events[0]
    assert (opened["type"], opened["user"], opened["tab"]) == ("app_home_opened", "U0ALICE", "home")
    assert opened["channel"] == slack.dm_channel("U0ALICE") and "view" not in opened

    driver.open_home("U0ALICE", event_id="Ev0HOME")
    again = driver.wait_home("U0ALICE", count=2)
    assert again.id == home.id and again.hash != home.hash and slack.home_publishes("U0ALICE") == 2
    assert app.events[1]["view"]["id"] == home.id and app.deliveries[1]["event_id"] == "Ev0HOME"
    driver.open_home("U0ALICE", tab="messages")
    assert "view" not in app.events[2] and app.events[2]["tab"] == "messages"
    assert driver.seen_view(again).view == again.view
    slack.reset()
    assert slack.home_publishes("U0ALICE") == 0 and slack.home("U0ALICE") is None


def test_wait_home_times_out_when_nothing_is_published(slack: StandInSlack) -> None:
    driver = SlackDriver(slack, RecordingApp(), SECRET)
    driver.open_home("U0ALICE")
    with pytest.raises(AssertionError, match="App Home"):
        driver.wait_home("U0ALICE", timeout=0.1)


# Rendering dashboards and leaderboards


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _button(text: str, action_id: str) -> dict[str, Any]:
    return {"type": "button", "text": _plain(text), "action_id": action_id}


def test_render_an_app_home_dashboard() -> None:
    confirm = {
        "title": _plain("Leave?"),
        "text": _mrkdwn("You will stop getting questions."),
        "confirm": _plain("Leave"),
        "deny": _plain("Stay"),
    }
    home = {
        "type": "home",
        "blocks": [
            {"type": "header", "text": _plain("Your practice :fire:")},
            {
                "type": "section",
                "text": _mrkdwn("*Streak:* 5 days"),
                "fields": [_mrkdwn("*Answered*\n12"), _mrkdwn("*Reactions*\n30")],
            },
            {
                "type": "section",
                "text": _mrkdwn("Today's question &amp; more"),
                "accessory": dict(_button("Answer", "a"), style="primary", value="q1"),
            },
            {
                "type": "context",
                "elements": [
                    {"type": "image", "image_url": "https://x.test/a.png", "alt_text": "alice"},
                    _mrkdwn("asked by <@U1>"),
                    _plain("3 min ago"),
                ],
            },
            {"type": "divider"},
            {
                "type": "actions",
                "elements": [
                    dict(_button("Leave", "l"), style="danger", confirm=confirm),
                    dict(_button("Docs", "d"), url="https://x.test/docs"),
                    {"type": "workflow_button", "text": _plain("Run"), "action_id": "w"},
                ],
            },
        ],
    }
    assert render_view(home, users={"U1": "alice"}) == (
        "=== Home ===\n"
        "## Your practice :fire:\n"
        "*Streak:* 5 days\n"
        "*Answered*: 12\n"
        "*Reactions*: 30\n"
        "Today's question & more  [ Answer ]\n"
        "alice  asked by @alice  3 min ago\n"
        "---\n"
        "[ Leave ]  [ Docs ]  [ Run ]"
    )


def test_render_a_rich_text_leaderboard() -> None:
    def row(*elements: dict[str, Any]) -> dict[str, Any]:
        return {"type": "rich_text_section", "elements": list(elements)}

    leaderboard = {
        "type": "rich_text",
        "elements": [
            row({"type": "text", "text": "Leaderboard", "style": {"bold": True}}),
            {
                "type": "rich_text_list",
                "style": "ordered",
                "elements": [
                    row(
                        {"type": "user", "user_id": "U1"},
                        {"type": "text", "text": " 12 "},
                        {"type": "emoji", "name": "trophy"},
                    ),
                    row({"type": "user", "user_id": "U2"}, {"type": "text", "text": " 9"}),
                ],
            },
            {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "week 48\nteam total 21"}]},
            row(
                {"type": "text", "text": "Updated "},
                {"type": "date", "timestamp": 1700000000, "format": "{date_short}", "fallback": "Nov 14, 2023"},
                {"type": "text", "text": " in "},
                {"type": "color", "value": "#36a64f"},
            ),
        ],
    }
    fields = {"type": "section", "fields": [_mrkdwn("*1.* <@U1>\n12"), _mrkdwn("*2.* <@U2|bob>\n9")]}
    assert render_blocks([leaderboard, fields], users={"U1": "alice"}) == (
        "Leaderboard\n"
        "1. @alice 12 :trophy:\n"
        "2. @U2 9\n"
        "week 48\n"
        "team total 21\n"
        "Updated Nov 14, 2023 in #36a64f\n"
        "*1.* @alice: 12\n"
        "*2.* @bob: 9"
    )


# delay_after: the call lands and is recorded at once, the answer comes late


def test_delay_after_records_the_post_before_answering(slack: StandInSlack) -> None:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5)
    slack.fail("chat.postMessage", delay_after=1.0, channel="C1")
    answers: list[Any] = []
    started = time.monotonic()
    poster = threading.Thread(target=lambda: answers.append(client.chat_postMessage(channel="C1", text="landed")))
    poster.start()
    try:
        # Slack has the post (and the call) while the client still waits for the answer.
        landed = slack.wait_for(lambda: slack.messages("C1"), timeout=3)
        assert [m.text for m in landed] == ["landed"] and answers == []
        assert [(c.method, c.status, c.error) for c in slack.calls] == [("chat.postMessage", 200, None)]
    finally:
        poster.join(timeout=5)
    assert time.monotonic() - started >= 0.9
    assert answers[0]["ts"] == landed[0].ts
    client.chat_postMessage(channel="C2", text="other channels answer at once")  # fault was for C1 only
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_delay_after_a_client_that_gives_up_still_leaves_the_post(slack: StandInSlack) -> None:
    impatient = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=cast(int, 0.1), retry_handlers=[])
    slack.fail("chat.postMessage", delay_after=0.5, times=2)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C1", text="accepted, unanswered")
    assert [m.text for m in slack.messages("C1")] == ["accepted, unanswered"]  # no waiting: already there


def test_delay_after_with_an_error_and_its_validation(slack: StandInSlack) -> None:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5, retry_handlers=[])
    slack.fail("chat.postMessage", error="channel_not_found", delay_after=0.2)
    started = time.monotonic()
    assert api_error(client.chat_postMessage, channel="C1", text="x").response["error"] == "channel_not_found"
    assert time.monotonic() - started >= 0.15 and slack.messages("C1") == []
    with pytest.raises(ValueError):
        slack.fail("chat.postMessage", delay_after=-1)
    with pytest.raises(ValueError):
        slack.fail("chat.postMessage", delay_after=0)


def test_stop_cuts_delay_after_short() -> None:
    slack = StandInSlack(manifest=EVERYTHING, bot_in_new_channels=True).start()
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=10)
    slack.fail("chat.postMessage", delay_after=30)
    worker = threading.Thread(target=lambda: client.chat_postMessage(channel="C1", text="x"), daemon=True)
    worker.start()
    slack.wait_for(lambda: slack.messages("C1"), timeout=3)
    started = time.monotonic()
    slack.stop()
    worker.join(timeout=5)
    assert time.monotonic() - started < 5 and not worker.is_alive()
