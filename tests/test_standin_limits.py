"""Every Web API argument rule the stand-in models: the largest documented value works, one past it
is refused with Slack's error (or, where Slack documents no error, capped)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coachbot.standin import StandInSlack
from coachbot.standin.manifest import AppManifest
from coachbot.standin.limits import ARG_RULES


@pytest.fixture()
def slack() -> Iterator[StandInSlack]:
    # The stand-in's own rules under test: every scope, and the bot in every channel it is handed.
    with StandInSlack(manifest=AppManifest.everything(), bot_in_new_channels=True) as running:
        yield running


@pytest.fixture()
def client(slack: StandInSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def test_every_rule_is_tested_here() -> None:
    tested = {"users.conversations.limit.max", "conversations.history.limit.max", "conversations.replies.limit.max",
              "chat.postMessage.text.max", "chat.postEphemeral.text.max", "chat.update.text.max"}
    assert {rule.id for rule in ARG_RULES} == tested
    assert all(rule.source for rule in ARG_RULES)


def test_users_conversations_limit_is_at_most_999(client: WebClient, slack: StandInSlack) -> None:
    slack.add_channel("C0ONE", members=["U0ALICE"])
    assert [c["id"] for c in client.users_conversations(user="U0ALICE", limit=999)["channels"]] == ["C0ONE"]
    with pytest.raises(SlackApiError) as refused:
        client.users_conversations(user="U0ALICE", limit=1000)
    assert refused.value.response["error"] == "invalid_limit"
    assert [call.error for call in slack.calls_to("users.conversations")] == [None, "invalid_limit"]


@pytest.mark.parametrize("method", ["conversations.history", "conversations.replies"])
def test_history_and_replies_cap_limit_at_999(method: str, client: WebClient, slack: StandInSlack) -> None:
    slack.add_channel("C0BUSY", members=["U0ALICE"])
    parent = slack.post_as_user("C0BUSY", "U0ALICE", "parent")
    thread = parent.ts if method == "conversations.replies" else None
    for number in range(1000):
        slack.post_as_user("C0BUSY", "U0ALICE", f"message {number}", thread_ts=thread)
    args = {"channel": "C0BUSY", "limit": 1000, **({"ts": thread} if thread else {})}
    page = client.api_call(method, http_verb="GET", params=args)
    assert len(page["messages"]) == 999 and page["has_more"] is True


@pytest.mark.parametrize(("method", "most"), [("chat.postMessage", 40_000), ("chat.postEphemeral", 40_000),
                                              ("chat.update", 4_000)])
def test_message_text_length(method: str, most: int, client: WebClient, slack: StandInSlack) -> None:
    ts = client.chat_postMessage(channel="C0TEXT", text="original")["ts"]
    args = {"channel": "C0TEXT", "user": "U0ALICE", "ts": ts}
    assert client.api_call(method, json={**args, "text": "a" * most})["ok"] is True
    with pytest.raises(SlackApiError) as refused:
        client.api_call(method, json={**args, "text": "a" * (most + 1)})
    assert refused.value.response["error"] == "msg_too_long"
    shown = [m.text for m in slack.messages("C0TEXT")] + [e.text for e in slack.ephemerals("U0ALICE")]
    assert "a" * (most + 1) not in shown
