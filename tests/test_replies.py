"""Time to visible: a reply in the ack when the work is quick, after it when the database is slow
(``coachbot.handlers.replies``), through the real Bolt app and the stand-in Slack, on both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from coachbot import blocks
from coachbot.handlers.replies import Race
from coachbot.standin.server import StandInSlack
from tests.scenario import Bot, start_bot, text_of, view_text

BUDGET_MS = 300  # short, so the slow cases cost the suite little
SLOW_S = 0.25  # added to every statement while the database is "slow": a card takes several


@pytest.fixture
def bot(slack: StandInSlack, database_url: str) -> Iterator[Bot]:
    bot = start_bot(slack, database_url, COACHBOT_ACK_BUDGET_MS=str(BUDGET_MS))
    try:
        yield bot
    finally:
        bot.web.close()


@contextmanager
def slow_database(bot: Bot) -> Iterator[None]:
    """Every statement the app runs waits SLOW_S first, as on an overloaded database."""

    def wait(*_: object) -> None:
        time.sleep(SLOW_S)

    engine = bot.services.db.engine
    event.listen(engine, "before_cursor_execute", wait)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", wait)


def settle(bot: Bot) -> None:
    for pool in bot.web.executors:  # shutdown waits for what is running; then nothing more runs
        pool.shutdown(wait=True)


def test_a_quick_card_arrives_in_the_ack_and_nothing_follows(bot: Bot):
    response = bot.driver.slash("U1", "leadership")
    assert response.status == 200
    assert "What interviewers look for" in text_of(response.json()["blocks"])
    [card] = bot.slack.ephemerals("U1")  # Slack shows the ack's message as the reply
    assert "What interviewers look for" in text_of(card.blocks)
    settle(bot)
    assert bot.slack.response_posts() == []  # one round trip: nothing through the response_url


def test_with_a_slow_database_the_ack_is_empty_within_3_s_and_the_card_follows_once(bot: Bot):
    with slow_database(bot):
        started = time.monotonic()
        response = bot.driver.slash("U1", "leadership")
        took = time.monotonic() - started
        assert response.status == 200 and response.body == b""
        assert took < 3.0 and took < BUDGET_MS / 1000 + 1.0, f"the ack took {took:.2f} s"
        card = bot.driver.wait_ephemeral("U1", timeout=15)
        settle(bot)
    assert "What interviewers look for" in text_of(card.blocks)
    assert len(bot.slack.response_posts()) == 1 and bot.slack.ack_replies() == []
    assert len(bot.slack.ephemerals("U1")) == 1


def test_a_schedule_change_is_announced_to_the_channel_from_the_ack(bot: Bot):
    response = bot.driver.slash("U1", "daily leadership 09:30 weekdays Europe/Berlin")
    assert response.json()["response_type"] == "in_channel"
    [announced] = bot.slack.messages("C0GENERAL")
    assert "U1" in text_of(announced.blocks)


def test_another_question_with_a_slow_database_replaces_the_card_once(bot: Bot):
    bot.driver.slash("U1", "leadership")
    first = bot.driver.wait_ephemeral("U1")
    with slow_database(bot):
        started = time.monotonic()
        response = bot.driver.click("U1", first, blocks.ACTION_ANOTHER)
        assert response.status == 200 and time.monotonic() - started < 1.0  # a button's ack is at once
        bot.slack.wait_for(lambda: bot.slack.response_posts(), 15)
        settle(bot)
    [post] = bot.slack.response_posts()
    assert post.body.get("replace_original") is True
    [shown] = bot.slack.ephemerals("U1")  # replaced, not added
    assert shown.blocks != first.blocks


def test_a_slow_answer_submission_shows_saving_then_the_feedback_once(bot: Bot):
    bot.driver.slash("U1", "leadership")
    card = bot.driver.wait_ephemeral("U1")
    bot.driver.click("U1", card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U1")
    with slow_database(bot):
        started = time.monotonic()
        reply = bot.driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: "I led the migration."}})
        took = time.monotonic() - started
        assert took < 3.0, f"the ack took {took:.2f} s"
        assert reply.json()["response_action"] == "update"
        assert reply.json()["view"]["callback_id"] == "answer_saving"
        bot.slack.wait_for(lambda: bot.slack.calls_to("views.update"), 15)
        settle(bot)
    [update] = bot.slack.calls_to("views.update")
    assert update.status == 200
    assert len(bot.services.progress.history(bot.slack.team_id, "U1")) == 1  # stored once
    [shown] = [v for v in bot.slack.views("U1") if v.type == "modal"]
    assert shown.view["callback_id"] == "answer_feedback" and "saved" in view_text(shown.view)


def test_app_home_is_acknowledged_before_slack_is_asked_anything(bot: Bot):
    bot.slack.fail("users.conversations", delay=2.0)  # a slow Slack, at the first call the dashboard makes
    started = time.monotonic()
    response = bot.driver.open_home("U1")
    took = time.monotonic() - started
    assert response.status == 200 and took < 1.0, f"the ack took {took:.2f} s"
    home = bot.driver.wait_home("U1", timeout=10)
    assert home is not None and bot.slack.home_publishes("U1") == 1


# --- the race between the ack and the late reply, without a clock ---------------------------


def test_work_done_before_the_budget_goes_in_the_ack_only():
    race = Race()
    assert race.finish("card") is False  # the listener takes it
    assert race.wait(0) == (True, "card")


def test_work_done_after_the_budget_is_delivered_by_the_worker_only():
    race = Race()
    assert race.wait(0) == (False, None)  # the ack went without it
    assert race.finish("card") is True  # so the worker delivers it


def test_work_finishing_while_the_budget_runs_out_is_delivered_once():
    for _ in range(200):
        race = Race()
        outcomes: list[bool] = []
        worker = threading.Thread(target=lambda: outcomes.append(race.finish("card")))
        worker.start()
        in_ack, _ = race.wait(0)
        worker.join()
        assert in_ack != outcomes[0]  # exactly one of the two delivers it
