"""Request signatures, through the WSGI entry point (``coachbot.web.WebApp``) and so
Bolt's verification: forged requests get 401 and change nothing, on SQLite and
PostgreSQL; and secrets and answers stay out of the logs.

One app per backend serves the whole module (building one costs ~0.7 s); each
check compares what Slack recorded and what the database holds before and
after itself.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import pytest
from sqlalchemy import select

from coachbot import blocks
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.standin import requests as slack_requests
from coachbot.standin.driver import Seen, find_button
from coachbot.standin.model import Message, View
from coachbot.standin.server import StandInSlack
from coachbot.standin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signature
from coachbot.storage.models import Answer
from tests.harness import AppHarness, module_app
from tests.scenario import SECRET, Bot, start_bot

BACKENDS = ("sqlite", "postgresql")
SIGNER = "U0SIGNER"  # the person in every request; forgeries swap in FORGER (same length)
FORGER = "U0FORGER"
CHANNEL = "C0SIGNED"
DAILY = "C0SIGNDAILY"
SLOT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)  # tests.scenario.START is 09:00 that day
FIVE_MINUTES = 5 * 60


class Harness(AppHarness):
    """The real app on one backend and a stand-in Slack; waits for listeners still working after their ack."""

    def seen(self) -> dict[str, Any]:
        """Everything a request could have caused, outside the database."""
        users = (SIGNER, FORGER)
        return {
            "calls": len(self.slack.calls),
            "response posts": len(self.slack.response_posts()),
            "ephemerals": {u: len(self.slack.ephemerals(u)) for u in users},
            "modals": {u: len(self.slack.views(u)) for u in users},
            "messages": {c: len(self.slack.messages(c)) for c in (CHANNEL, DAILY)},
        }


@dataclass
class Screens:
    card: Seen
    modal: View
    prompt: Message


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with module_app(request, tmp_path_factory, Harness) as harness:
        yield harness  # type: ignore[misc]


@pytest.fixture(scope="module")
def screens(app: Harness) -> Screens:
    """A question card, its answer modal and a posted daily prompt, made with properly signed requests."""
    driver = app.bot.driver
    assert driver.slash(SIGNER, "leadership", CHANNEL).status == 200
    card = driver.wait_ephemeral(SIGNER)
    assert driver.click(SIGNER, card, blocks.ACTION_ANSWER).status == 200
    modal = driver.wait_modal(SIGNER)
    assert driver.slash(SIGNER, "daily technical 09:30 daily UTC", DAILY).status == 200
    driver.wait_message(DAILY)
    app.settle()
    app.bot.services.prompts.send_due(SlackPromptPoster(prompt_client(app.bot.web.bolt.client)), SLOT)
    prompt = app.slack.wait_for(lambda: [m for m in app.slack.messages(DAILY) if (m.metadata or {}).get(
        "event_type") == SlackPromptPoster.METADATA_TYPE] or None)[-1]
    return Screens(card, modal, prompt)


# --- the four kinds of request, each fresh (new response_url, trigger_id, event id) ---------------

_numbers = iter(range(1, 10**9))


def slash(app: Harness, s: Screens) -> tuple[bytes, str]:
    url = app.slack.new_response_url(user_id=SIGNER, channel_id=CHANNEL)
    return slack_requests.slash_command(text="leadership", user_id=SIGNER, team_id=app.slack.team_id,
                                        channel_id=CHANNEL, response_url=url,
                                        trigger_id=app.slack.new_trigger_id(SIGNER))


def block_action(app: Harness, s: Screens) -> tuple[bytes, str]:
    block_id, element = find_button(s.card.blocks, blocks.ACTION_ANOTHER)
    url = app.slack.new_response_url(user_id=SIGNER, channel_id=CHANNEL, message_ts=s.card.ts)
    return slack_requests.block_actions(
        user_id=SIGNER, team_id=app.slack.team_id,
        actions=[{"action_id": blocks.ACTION_ANOTHER, "block_id": block_id, "value": element.get("value", "")}],
        channel_id=CHANNEL, message={"type": "message", "ts": s.card.ts, "blocks": s.card.blocks, "text": ""},
        container={"type": "message", "message_ts": s.card.ts, "channel_id": CHANNEL, "is_ephemeral": True},
        response_url=url, trigger_id=app.slack.new_trigger_id(SIGNER),
    )


def view_submission(app: Harness, s: Screens, answer: str | None = None) -> tuple[bytes, str]:
    typed = answer or (f"Answer {next(_numbers)}: our deploys kept failing, so I added canaries and, as a "
                       "result, failed deploys dropped from 5 a month to 1.")
    return slack_requests.view_submission(user_id=SIGNER, team_id=app.slack.team_id, view=s.modal.view,
                                          values={blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: typed}},
                                          trigger_id=app.slack.new_trigger_id(SIGNER))


def event_callback(app: Harness, s: Screens, text: str | None = None) -> tuple[bytes, str]:
    n = next(_numbers)
    event = {"type": "message", "channel": DAILY, "user": SIGNER, "ts": f"1795500000.{n:06d}",
             "text": text or f"Reply {n}: I would sort the intervals and merge them in one pass, O(n log n).",
             "thread_ts": s.prompt.ts, "channel_type": "channel"}
    return slack_requests.event_callback(event=event, team_id=app.slack.team_id, event_id=f"EvSigned{n:08d}",
                                         event_time=int(time.time()))


KINDS: dict[str, Callable[[Harness, Screens], tuple[bytes, str]]] = {
    "slash command": slash,
    "block action": block_action,
    "view submission": view_submission,
    "event callback": event_callback,
}


def forge(how: str, body: bytes) -> tuple[bytes, dict[str, Any]]:
    """The body to send and SlackSender.send's keyword arguments for one kind of forgery."""
    now = int(time.time())
    if how == "unsigned":
        return body, {"sign": False}
    if how == "wrong secret":
        return body, {"secret": "not-" + SECRET}
    if how == "stale timestamp":
        return body, {"timestamp": now - FIVE_MINUTES - 60}
    if how == "future timestamp":
        return body, {"timestamp": now + FIVE_MINUTES + 60}
    if how == "body changed after signing":
        assert SIGNER.encode() in body
        return body.replace(SIGNER.encode(), FORGER.encode()), {"sign": False, "headers": sign(body, SECRET, now)}
    if how == "wrong version prefix":
        headers = sign(body, SECRET, now)
        headers[SIGNATURE_HEADER] = "v1=" + headers[SIGNATURE_HEADER].split("=", 1)[1]
        return body, {"sign": False, "headers": headers}
    raise AssertionError(how)


FORGERIES = ("unsigned", "wrong secret", "stale timestamp", "future timestamp", "body changed after signing",
             "wrong version prefix")


def send(app: Harness, body: bytes, content_type: str, **kwargs: Any):
    return send_to(app.bot, body, content_type, **kwargs)


def send_to(bot: Bot, body: bytes, content_type: str, **kwargs: Any):
    return bot.driver.sender.send(body, content_type, **kwargs)


@pytest.mark.parametrize("how", FORGERIES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_forged_request_gets_401_and_changes_nothing(app: Harness, screens: Screens, kind: str, how: str):
    body, content_type = KINDS[kind](app, screens)
    app.settle()
    before, seen = app.snapshot(), app.seen()
    forged, kwargs = forge(how, body)
    response = send(app, forged, content_type, **kwargs)
    app.settle()
    assert response.status == 401, f"{how} {kind}: HTTP {response.status} {response.text[:200]!r}"
    assert "Traceback" not in response.text
    assert app.seen() == seen, "a forged request reached Slack: a reply, an ephemeral, a modal or a message"
    assert app.snapshot() == before, "a forged request changed the database"


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_properly_signed_request_works(app: Harness, screens: Screens, kind: str):
    """The control: the same requests, signed with the app's secret just now, do what they are for."""
    app.settle()
    before, seen, answers = app.snapshot(), app.seen(), len(app.answers())
    body, content_type = KINDS[kind](app, screens)
    response = send(app, body, content_type)
    assert response.status == 200, response.text[:300]
    if kind == "slash command":  # the question card, in the ack itself when the database is quick
        assert "blocks" in response.json() or app.slack.wait_for(
            lambda: len(app.slack.ephemerals(SIGNER)) > seen["ephemerals"][SIGNER] or None)
    elif kind == "block action":
        app.slack.wait_for(lambda: len(app.slack.response_posts()) > seen["response posts"] or None)
    elif kind == "view submission":
        assert response.json()["response_action"] == "update"
    app.settle()
    if kind in ("view submission", "event callback"):
        assert len(app.answers()) == answers + 1 and app.answers()[-1].user_id == SIGNER
    else:
        assert app.snapshot()["seen_questions"] != before["seen_questions"]  # a question was shown


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_timestamp_that_is_not_a_number_gets_401(app: Harness, screens: Screens, kind: str):
    body, content_type = KINDS[kind](app, screens)
    before, seen = app.snapshot(), app.seen()
    headers = {TIMESTAMP_HEADER: "soon", SIGNATURE_HEADER: signature(body, SECRET, int(time.time()))}
    response = send(app, body, content_type, sign=False, headers=headers)
    app.settle()
    assert response.status == 401, f"HTTP {response.status}"
    assert app.seen() == seen and app.snapshot() == before


# --- secrets and answers stay out of the logs --------------------------------------------------------

class LogTrap(logging.Handler):
    """Every record at INFO and above, from the root logger and any logger that does not propagate."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[logging.LogRecord] = []
        self._attached: list[logging.Logger] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Self:
        loggers = [logging.getLogger()] + [logger for logger in logging.root.manager.loggerDict.values()
                                           if isinstance(logger, logging.Logger) and not logger.propagate]
        for logger in loggers:
            logger.addHandler(self)
            self._attached.append(logger)
        return self

    def __exit__(self, *_: object) -> None:
        for logger in self._attached:
            logger.removeHandler(self)



def leaks(records: list[logging.LogRecord], secrets: dict[str, str]) -> list[str]:
    """Where any of ``secrets`` shows in a record: its formatted message, its args, its traceback, its fields."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    found = []
    for record in records:
        seen_as = "\n".join([record.getMessage(), repr(record.args), formatter.format(record), repr(vars(record))])
        found += [f"{what} in a {record.levelname} record from {record.name}: {record.getMessage()[:200]!r}"
                  for what, secret in secrets.items() if secret in seen_as]
    return found


TOKEN = "xoxb-4242-4242-SIGNTESTtokenNEVERlogged"  # distinctive, so any leak of it is unmistakable


@pytest.fixture
def bot_logging_at_info(database_url: str, caplog: pytest.LogCaptureFixture) -> Iterator[Bot]:
    """A bot built the way ``coachbot serve`` builds it with LOG_LEVEL=INFO: logging is configured first.

    (Bolt copies the root logger's level into its own loggers when the App is made, so an app built while
    the root logger is at WARNING would hide Bolt's INFO records from any capture set up later.)"""
    caplog.set_level(logging.INFO)
    with StandInSlack(bot_token=TOKEN) as slack:
        bot = start_bot(slack, database_url)
        try:
            yield bot
        finally:
            bot.web.close()


def test_the_token_the_secret_and_answers_never_reach_the_logs(bot_logging_at_info: Bot,
                                                               caplog: pytest.LogCaptureFixture):
    bot = bot_logging_at_info
    driver, slack = bot.driver, bot.slack
    modal_answer = "ZEBRA-modal-answer-7f3a: I led the migration and, as a result, latency fell by 35%."
    thread_answer = "QUOKKA-thread-answer-91c2: shard by user id, cache hot keys, test the failover."
    with LogTrap() as trap:
        logging.getLogger("coachbot.handlers").info("canary: the capture sees coachbot's INFO records")
        assert driver.slash(SIGNER, "leadership", CHANNEL).status == 200
        card = driver.wait_ephemeral(SIGNER)
        assert driver.click(SIGNER, card, blocks.ACTION_ANSWER).status == 200
        modal = driver.wait_modal(SIGNER)
        submitted = driver.submit(SIGNER, modal, {
            blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: modal_answer},
            blocks.BLOCK_SHARE: {blocks.INPUT_SHARE: {"type": "checkboxes", "selected_options": [{"value": "share"}]}},
        })
        assert submitted.json()["response_action"] == "update"
        assert driver.slash(SIGNER, "daily technical 09:30 daily UTC", DAILY).status == 200
        driver.wait_message(DAILY)
        bot.services.prompts.send_due(SlackPromptPoster(prompt_client(bot.web.bolt.client)), SLOT)
        prompt = slack.wait_for(lambda: [m for m in slack.messages(DAILY) if (m.metadata or {}).get(
            "event_type") == SlackPromptPoster.METADATA_TYPE] or None)[-1]
        reply = slack.post_as_user(DAILY, SIGNER, thread_answer, thread_ts=prompt.ts)
        assert driver.event({"type": "message", "channel": DAILY, "user": SIGNER, "text": thread_answer,
                             "ts": reply.ts, "thread_ts": prompt.ts, "channel_type": "channel"}).status == 200
        slack.wait_for(lambda: len(slack.ephemerals(SIGNER)) >= 2 or None)  # the card and the thread feedback
        bot.web.close()  # waits for every listener still working after its ack
    with bot.services.db.session() as session:
        assert sorted(a.text for a in session.scalars(select(Answer))) == sorted([modal_answer, thread_answer])
    records = trap.records + [r for r in caplog.records if r not in trap.records]
    assert any(r.getMessage().startswith("canary") for r in records), "the capture is not working"
    secrets = {"the bot token": TOKEN, "the signing secret": SECRET, "the modal answer": modal_answer[:20],
               "the thread answer": thread_answer[:20]}
    assert leaks(records, secrets) == []


def test_a_request_that_fails_verification_does_not_log_its_body(bot_logging_at_info: Bot):
    bot = bot_logging_at_info
    answer = "PANGOLIN-private-answer-5d1e: I disagreed with my manager about the launch date."
    view = {"id": "V0STALE", "type": "modal", "callback_id": blocks.VIEW_ANSWER,
            "private_metadata": json.dumps({"team": bot.slack.team_id, "q": "coding-001"})}
    body, content_type = slack_requests.view_submission(user_id=SIGNER, team_id=bot.slack.team_id, view=view,
                                                        values={blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: answer}})
    with LogTrap() as trap:
        response = send_to(bot, body, content_type, timestamp=int(time.time()) - FIVE_MINUTES - 60)
    assert response.status == 401
    assert leaks(trap.records, {"the answer": answer[:24]}) == []


def test_a_database_error_does_not_quote_the_values_it_was_storing(database):
    """A failed statement's message (which the error handler logs with its traceback) quotes no
    parameter values: those hold people's answers. Here a reaction on an answer that does not exist."""
    from sqlalchemy.exc import IntegrityError

    from coachbot.storage.models import Reaction

    marker = "NARWHAL-3b7e-not-in-logs"
    with pytest.raises(IntegrityError) as failed:
        with database.session() as session:
            session.add(Reaction(team_id="T1", answer_id=999_999, author_id="U1", user_id="U2", emoji=marker,
                                 is_self=False, created_at=datetime.now(UTC)))
    assert marker not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
