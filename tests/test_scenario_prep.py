"""/prep end to end: signed requests through the real app, a stand-in Slack,
and assertions on what each person sees and what was stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from coachbot import blocks
from coachbot.bank import load_bank
from coachbot.storage.models import Answer
from tests.scenario import SECRET, Bot, text_of, view_text

STORY = (
    "Last year our team kept missing sprint goals because two senior engineers disagreed about the review "
    "process. My goal was to get the team shipping again within a month. I met each of them one to one, "
    "I proposed a trial of pair reviews for two weeks, and I wrote down the rules we agreed. As a result, "
    "review time dropped from 3 days to 1 day and we hit the next four sprint goals."
)


def answers(bot: Bot) -> list[Answer]:
    with bot.services.db.session() as session:
        return list(session.scalars(select(Answer).order_by(Answer.id)))


def ask(bot: Bot, user: str, text: str, channel: str = "C0GENERAL"):
    before = len(bot.slack.ephemerals(user))
    response = bot.driver.slash(user, text, channel)
    assert response.status == 200
    return bot.driver.wait_ephemeral(user, before + 1)


def test_help_is_the_ack_itself(bot: Bot):
    for text in ("", "help"):
        response = bot.driver.slash("U1", text)
        assert response.status == 200
        shown = text_of(response.json()["blocks"])
        assert "/prep leadership" in shown and "/prep technical system-design" in shown
        assert response.json().get("response_type", "ephemeral") == "ephemeral"


def test_leadership_card_has_everything_and_three_buttons(bot: Bot):
    card = ask(bot, "U1", "leadership")
    shown = text_of(card.blocks)
    assert shown.startswith("Leadership · ")
    assert "What interviewers look for" in shown and "Follow-ups to expect" in shown and "Tip:" in shown
    assert "[ Answer ]" in shown and "[ Another ]" in shown and "[ Share with channel ]" in shown
    question_id = blocks_question_id(card.blocks)
    question = bot.services.bank.get(question_id)
    assert question is not None and question.track == "leadership"


def blocks_question_id(card_blocks: list[dict]) -> str:
    from coachbot.standin.driver import find_button

    return find_button(card_blocks, blocks.ACTION_ANSWER)[1]["value"]


@pytest.mark.parametrize(
    "text, track, category",
    [("tech sd", "technical", "system-design"), ("Technical System Design", "technical", "system-design"),
     ("lead dm", "leadership", "decision-making"), ("coding", "technical", "coding")],
)
def test_prefixes_and_aliases(bot: Bot, text: str, track: str, category: str):
    card = ask(bot, "U1", text)
    question = bot.services.bank.get(blocks_question_id(card.blocks))
    assert (question.track, question.category) == (track, category)


def test_another_replaces_the_card_with_a_new_question_of_the_same_kind(bot: Bot):
    card = ask(bot, "U1", "technical coding")
    first = blocks_question_id(card.blocks)
    assert bot.driver.click("U1", card, blocks.ACTION_ANOTHER).status == 200
    bot.slack.wait_for(lambda: blocks_question_id(bot.slack.ephemerals("U1")[-1].blocks) != first)
    now_shown = bot.slack.ephemerals("U1")
    assert len(now_shown) == 1  # replaced, not added
    question = bot.services.bank.get(blocks_question_id(now_shown[-1].blocks))
    assert question.category == "coding"


def test_no_repeat_until_the_category_is_exhausted(bot: Bot):
    size = len(bot.services.bank.select(category="vision-strategy"))
    seen = []
    for _ in range(size):
        card = ask(bot, "U1", "lead vision")
        seen.append(blocks_question_id(card.blocks))
    assert len(set(seen)) == size


def test_answer_in_the_modal_gets_feedback_and_counts(bot: Bot):
    card = ask(bot, "U1", "leadership team-management")
    question_id = blocks_question_id(card.blocks)
    assert bot.driver.click("U1", card, blocks.ACTION_ANSWER).status == 200
    modal = bot.driver.wait_modal("U1")
    shown = view_text(modal.view)
    assert "Your answer" in shown and "Share my answer in the channel" in shown

    response = bot.driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: STORY}})
    assert response.status == 200
    reply = response.json()
    assert reply["response_action"] == "update"
    feedback = view_text(reply["view"])
    # One headline, the fix first, what worked with the sentences that earned it, the question's
    # look-for points as a checklist, and what the coach could not judge; the word count once.
    assert feedback.count("checks passed") == 1 and feedback.count("*Fix this first:*") + feedback.count("*To go further:*") == 1
    assert "*Result* and *Measured outcome*: “As a result, review time dropped from 3 days to 1 day" in feedback
    assert "*Did you cover these?*" in feedback
    assert all(point in feedback for point in bot.services.bank.get(question_id).look_for)
    assert "not whether your decisions were good ones" in feedback and feedback.count(" words") == 1

    stored = answers(bot)
    assert [(a.user_id, a.question_id, a.source, a.visibility, a.text) for a in stored] == [
        ("U1", question_id, "modal", "private", STORY)
    ]
    assert stored[0].team_id == bot.slack.team_id
    assert stored[0].question_text == bot.services.bank.get(question_id).text

    stats = ask(bot, "U1", "stats")
    shown = text_of(stats.blocks)
    assert "*1* answer ·" in shown
    assert "Team management: 1" in shown and "Current streak:* 1 day" in shown


@pytest.mark.parametrize("typed", ["", "    \n  "])
def test_empty_answer_is_refused_in_the_modal(bot: Bot, typed: str):
    card = ask(bot, "U1", "leadership")
    bot.driver.click("U1", card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U1")
    response = bot.driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: typed}})
    assert response.json() == {
        "response_action": "errors",
        "errors": {blocks.BLOCK_ANSWER: "Write an answer before submitting: even a few lines get you feedback."},
    }
    assert answers(bot) == []


def test_share_question_then_answer_shared_in_its_thread(bot: Bot):
    card = ask(bot, "U1", "technical system-design", channel="C0TEAM")
    bot.driver.click("U1", card, blocks.ACTION_SHARE)
    posted = bot.driver.wait_message("C0TEAM")
    shown = text_of(posted.blocks)
    assert "@U1 shared a practice question" in shown and "[ Answer ]" in shown

    # A teammate answers from the shared question and shares the answer.
    bot.driver.click("U2", bot.driver.seen_message(posted), blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U2")
    text = "Assuming 10k writes per second, I would shard by user id and cache reads; the trade-off is ..."
    response = bot.driver.submit("U2", modal, {
        blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: text},
        blocks.BLOCK_SHARE: {blocks.INPUT_SHARE: {"type": "checkboxes", "selected_options": [{"value": "share"}]}},
    })
    assert response.json()["response_action"] == "update"
    reply = bot.slack.wait_for(lambda: (bot.slack.replies("C0TEAM", posted.ts) or None))[-1]
    assert reply.thread_ts == posted.ts
    assert "@U2 answered" in text_of(reply.blocks) and "shard by user id" in text_of(reply.blocks)
    stored = bot.slack.wait_for(lambda: [a for a in answers(bot) if a.message_ts] or None)
    assert [(a.user_id, a.visibility, a.channel_id, a.message_ts) for a in stored] == [
        ("U2", "channel", "C0TEAM", reply.ts)
    ]


def test_share_into_a_private_channel_without_the_bot_explains_how_to_invite(bot: Bot):
    bot.slack.add_channel("G0SECRET", "secret", is_private=True, is_member=False)
    card = ask(bot, "U1", "leadership", channel="G0SECRET")
    bot.driver.click("U1", card, blocks.ACTION_SHARE)
    notice = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals("U1") if "/invite" in e.text] or None)
    assert "not in this channel" in notice[-1].text
    assert bot.slack.messages("G0SECRET") == []


def test_unknown_command_suggests_and_shows_usage(bot: Bot):
    response = bot.driver.slash("U1", "leadrship")
    shown = text_of(response.json()["blocks"])
    assert "I didn't understand `leadrship`. Did you mean `/prep leadership`?" in shown
    assert "/prep categories" in shown


def test_categories_and_compare(bot: Bot):
    shown = text_of(bot.driver.slash("U1", "categories").json()["blocks"])
    for category in ("Coding", "System design", "Team management", "Decision making"):
        assert category in shown
    coding = load_bank().counts()[("technical", "coding")]
    assert f"(`coding`, {coding} questions)" in shown
    compared = text_of(bot.driver.slash("U1", "compare").json()["blocks"])
    assert "Hard skills" in compared and "Soft skills" in compared
    assert "A technical question" in compared and "A leadership question" in compared


@pytest.mark.parametrize(
    "how", ["unsigned", "wrong secret", "stale timestamp", "body changed"],
)
def test_forged_requests_get_401_and_change_nothing(bot: Bot, how: str):
    from coachbot.standin import requests as slack_requests
    from coachbot.standin.signing import sign

    url = bot.slack.new_response_url(user_id="U1", channel_id="C0GENERAL")
    body, content_type = slack_requests.slash_command(
        text="leadership", user_id="U1", team_id=bot.slack.team_id, channel_id="C0GENERAL", response_url=url
    )
    sender = bot.driver.sender
    if how == "unsigned":
        response = sender.send(body, content_type, sign=False)
    elif how == "wrong secret":
        response = sender.send(body, content_type, secret="not-" + SECRET)
    elif how == "stale timestamp":
        import time

        response = sender.send(body, content_type, timestamp=int(time.time()) - 301)
    else:
        import time

        headers = sign(body, SECRET, int(time.time()))
        response = sender.send(body.replace(b"leadership", b"technical"), content_type, sign=False, headers=headers)
    assert response.status == 401
    assert bot.slack.response_posts() == [] and bot.slack.calls == []
    assert answers(bot) == []


def test_tampered_metadata_is_refused_in_the_modal(bot: Bot):
    card = ask(bot, "U1", "leadership")
    bot.driver.click("U1", card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U1")
    forged = dict(modal.view, private_metadata=json.dumps({"team": "T0OTHER", "q": "coding-001"}))
    from coachbot.standin.model import View

    response = bot.driver.submit("U1", View(modal.id, "U1", modal.hash, forged),
                                 {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: STORY}})
    assert response.json()["response_action"] == "errors"
    assert "another workspace" in response.json()["errors"][blocks.BLOCK_ANSWER]
    assert answers(bot) == []


def test_a_database_fault_keeps_the_typed_answer_in_the_modal(bot: Bot, monkeypatch: pytest.MonkeyPatch):
    from coachbot.errors import StorageUnavailableError

    card = ask(bot, "U1", "leadership")
    bot.driver.click("U1", card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U1")

    def down(**_: object):
        raise StorageUnavailableError("the database is unavailable")

    monkeypatch.setattr(bot.services.practice, "record_answer", down)
    response = bot.driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: STORY}})
    assert response.json()["response_action"] == "errors"
    assert "Your text is still here" in response.json()["errors"][blocks.BLOCK_ANSWER]


def test_a_slash_command_during_a_database_fault_gets_a_try_again_reply(bot: Bot, monkeypatch: pytest.MonkeyPatch):
    from coachbot.errors import StorageUnavailableError

    def down(*_: object, **__: object):
        raise StorageUnavailableError("the database is unavailable")

    monkeypatch.setattr(bot.services.practice, "next_question", down)
    reply = ask(bot, "U1", "leadership")
    assert "try again in a minute" in text_of(reply.blocks)


def test_healthz_reports_the_database(bot: Bot):
    seen: dict = {}

    def start_response(status: str, headers: list) -> None:
        seen["status"] = status

    body = b"".join(bot.web({"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz"}, start_response))
    assert seen["status"] == "200 OK"
    assert json.loads(body) == {"status": "ok", "database": "ok"}
