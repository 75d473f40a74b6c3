"""Socket Mode end to end: ``coachbot socket`` against the Socket Mode stand-in.

The first test runs the command as a person would and drives everything the HTTP scenario
tests drive through it (slash commands, buttons, a modal submitted with an error and then
with an answer, the scheduler's daily prompt, a thread reply, a reaction, App Home). The
others run the same runtime in-process to put faults on the connection, or run two
processes on one stand-in that delivers each envelope to both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update

from coachbot import blocks
from coachbot.config import SOCKET, Config
from coachbot.socketmode.runner import SocketRuntime, build_runtime
from coachbot.standin.driver import SlackDriver
from coachbot.standin.server import StandInSlack
from coachbot.standin.socket_mode import StandInSocketMode
from coachbot.slackapi import SlackPromptPoster
from coachbot.storage.models import Answer, Prompt, Reaction, Schedule
from tests.scenario import text_of, view_text

CHANNEL = "C0DAILY"
STORY = ("Last year our team kept missing sprint goals. My goal was to get us shipping again within a month. "
         "I met each engineer one to one and I proposed pair reviews. As a result, review time dropped from 3 "
         "days to 1 day.")
REPLY = ("Assuming the list fits in memory, I would sort it first and then merge overlapping intervals in one "
         "pass, O(n log n) time. Edge cases: empty input, a single interval, intervals that only touch.")


@pytest.fixture
def socket_mode(slack: StandInSlack) -> Iterator[StandInSocketMode]:
    server = StandInSocketMode(slack).start()
    try:
        yield server
    finally:
        server.stop()


def socket_env(slack: StandInSlack, socket_mode: StandInSocketMode, url: str, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "COACHBOT_")) and k not in ("DATABASE_URL", "LOG_LEVEL")}
    return {**keep, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": socket_mode.app_token,
            "SLACK_API_URL": slack.api_url, "DATABASE_URL": url, "LOG_LEVEL": "INFO", **extra}


def start_socket(env: dict[str, str], cwd: Path, log: Path, *args: str) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "coachbot", "socket", *args], env=env, cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def count(url: str, model) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def wait_until(condition, timeout: float = 10.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen, log: Path) -> str:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0, log.read_text()
    return log.read_text()


@pytest.mark.slow
def test_coachbot_socket_runs_the_whole_product(slack: StandInSlack, socket_mode: StandInSocketMode,
                                                database_url: str, tmp_path: Path):
    """Slash commands, buttons, a modal with an error, the scheduler's daily prompt, a thread reply,
    a reaction and App Home, all over Socket Mode, from one command with no signing secret."""
    log = tmp_path / "socket.log"
    process = start_socket(socket_env(slack, socket_mode, database_url), tmp_path, log)
    try:
        socket_mode.wait_connections(1, timeout=30)
        driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused: Socket Mode is not signed")

        help_reply = driver.slash("U1", "help")  # answered in the ack's payload
        assert help_reply.status == 200 and "/prep leadership" in text_of(help_reply.json()["blocks"])

        assert driver.slash("U1", "leadership").status == 200
        card = driver.wait_ephemeral("U1", 2)  # after the help reply, shown from its ack
        assert text_of(card.blocks).startswith("Leadership · ")
        first, shown = card.blocks, len(slack.ephemerals("U1"))  # the help reply and the card
        assert driver.click("U1", card, blocks.ACTION_ANOTHER).status == 200
        slack.wait_for(lambda: slack.ephemerals("U1")[-1].blocks != first or None)
        assert len(slack.ephemerals("U1")) == shown  # replaced, not added

        card = driver.wait_ephemeral("U1")
        assert driver.click("U1", card, blocks.ACTION_ANSWER).status == 200
        modal = driver.wait_modal("U1")
        refused = driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: "   "}})
        assert refused.json()["response_action"] == "errors" and blocks.BLOCK_ANSWER in refused.json()["errors"]
        assert count(database_url, Answer) == 0
        coached = driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: STORY}}).json()
        assert coached["response_action"] == "update" and "The coach checks how" in view_text(coached["view"])
        assert count(database_url, Answer) == 1

        # A daily prompt and a weekly digest due this minute, set up as if an hour ago (so their
        # slots are still to come then), posted by the scheduler that coachbot socket runs.
        # Killing that scheduler shows it is supervised: the new one ticks at once and posts both.
        now = datetime.now(timezone.utc)
        assert driver.slash("U1", f"daily technical {now:%H:%M} daily UTC", CHANNEL).status == 200
        driver.wait_message(CHANNEL)  # the announcement
        assert driver.slash("U1", f"digest {now:%a} {now:%H:%M}".lower(), CHANNEL).status == 200
        driver.wait_message(CHANNEL, 2)
        engine = create_engine(database_url)
        with engine.begin() as connection:
            earlier = now - timedelta(hours=1)
            # A Core UPDATE keeps no next-due instant by itself (the ORM does): set it to this minute's slot.
            due = now.replace(second=0, microsecond=0)
            connection.execute(update(Schedule).values(checked_through=earlier, digest_checked_through=earlier,
                                                       next_due=due, digest_next_due=due))
        engine.dispose()
        scheduler = wait_until(lambda: children_of(process.pid), what="the scheduler process")
        os.kill(scheduler[0], signal.SIGKILL)

        def posted(kind: str) -> list:
            return [m for m in slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") == kind]

        prompt = slack.wait_for(lambda: posted(SlackPromptPoster.METADATA_TYPE) or None, timeout=30,
                                message="the scheduler's daily prompt")[0]
        slack.wait_for(lambda: posted(SlackPromptPoster.DIGEST_TYPE) or None, timeout=10,
                       message="the scheduler's weekly digest")
        assert children_of(process.pid) and children_of(process.pid) != scheduler

        reply = slack.post_as_user(CHANNEL, "U2", REPLY, thread_ts=prompt.ts)
        event = {"type": "message", "channel": CHANNEL, "user": "U2", "text": REPLY, "ts": reply.ts,
                 "thread_ts": prompt.ts, "channel_type": "channel"}
        assert driver.event(event, event_id="EvS1").status == 200
        assert driver.event(event, event_id="EvS1", retry_num=1).status == 200  # Slack's retry: stored once
        feedback = slack.wait_for(lambda: slack.ephemerals("U2") or None)[-1]
        assert feedback.thread_ts == prompt.ts and "The coach checks how" in text_of(feedback.blocks)
        wait_until(lambda: count(database_url, Answer) == 2, what="the thread reply stored")

        stored_reply = slack.message(CHANNEL, reply.ts)
        assert driver.react("U3", stored_reply, "tada").status == 200
        wait_until(lambda: count(database_url, Reaction) == 1, what="the reaction stored")

        assert driver.open_home("U2").status == 200
        home = view_text(driver.wait_home("U2").view)
        assert "*Answers:* 1 · *Reactions received:* 1" in home and ":tada: 1" in home
        assert count(database_url, Answer) == 2 and count(database_url, Prompt) == 1
    finally:
        if process.poll() is None:
            output = stop(process, log)
        else:
            output = log.read_text()
    assert "Traceback" not in output and "SLACK_SIGNING_SECRET" not in output


# --- in-process: the same runtime, with faults on the connection -------------------------------


class InProcess:
    """``coachbot socket``'s runtime in this process, on a thread, connected to the stand-in."""

    def __init__(self, slack: StandInSlack, socket_mode: StandInSocketMode, url: str) -> None:
        config = Config.from_env({"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": socket_mode.app_token,
                                  "SLACK_API_URL": slack.api_url, "DATABASE_URL": url}, mode=SOCKET)
        self.runtime: SocketRuntime = build_runtime(config)
        self.thread = threading.Thread(target=self.runtime.client.run, name="socket-mode-test", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.runtime.client.request_stop()
        self.thread.join(10)
        self.runtime.close()


@pytest.fixture
def running(slack: StandInSlack, socket_mode: StandInSocketMode, database_url: str) -> Iterator[InProcess]:
    app = InProcess(slack, socket_mode, database_url)
    socket_mode.wait_connections(1)
    try:
        yield app
    finally:
        app.close()


def card_count(slack: StandInSlack, user: str) -> int:
    return len(slack.ephemerals(user))


def settled(seconds: float = 0.3) -> None:
    time.sleep(seconds)  # room for a wrongly doubled delivery to land before counting


FAULTS = {
    # fault: (how to cause it, the longest the app may be deaf afterwards)
    "close frame": (lambda sm: sm.close(), 1.0),
    "refresh_requested": (lambda sm: sm.disconnect("refresh_requested"), 1.0),
    "warning": (lambda sm: sm.disconnect("warning"), 1.0),
    "TCP drop": (lambda sm: sm.drop(), 5.0),
    "silent connection": (lambda sm: sm.silence(), 8.0),
}


@pytest.mark.parametrize("fault", [pytest.param(f, marks=pytest.mark.slow) if f == "silent connection" else f
                                   for f in FAULTS])
def test_after_each_kind_of_drop_the_next_command_is_answered_soon_and_once(
        running: InProcess, slack: StandInSlack, socket_mode: StandInSocketMode, fault: str):
    cause, deaf_at_most = FAULTS[fault]
    driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused")
    started = time.monotonic()
    cause(socket_mode)
    response = driver.slash("U1", "leadership")
    deaf = time.monotonic() - started
    assert response.status == 200 and deaf < deaf_at_most, f"{fault}: answered after {deaf:.2f} s"
    driver.wait_ephemeral("U1")
    settled()
    assert card_count(slack, "U1") == 1
    assert len(socket_mode.connections("open")) == 1  # one live connection, the old one gone


def test_an_envelope_lost_with_its_connection_is_delivered_again_and_handled_once(
        running: InProcess, slack: StandInSlack, socket_mode: StandInSocketMode):
    user = "U7"
    url = slack.new_response_url(user_id=user, channel_id="C0GENERAL")
    payload = {"command": "/prep", "text": "leadership", "user_id": user, "team_id": slack.team_id,
               "channel_id": "C0GENERAL", "response_url": url, "trigger_id": slack.new_trigger_id(user)}
    for _ in range(5):  # the drop races the envelope: before, during or after the app acknowledges it
        delivery = socket_mode.send("slash_commands", payload)
        socket_mode.drop()
        assert delivery.wait(10) is not None
    slack.wait_for(lambda: len(slack.ephemerals(user)) >= 5 or None)
    settled(0.5)
    assert len(slack.ephemerals(user)) == 5  # one card per envelope, whatever was redelivered


def test_a_redelivered_envelope_is_acknowledged_but_not_handled_again(
        running: InProcess, slack: StandInSlack, socket_mode: StandInSocketMode, database_url: str):
    driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused")
    driver.slash("U1", "leadership")
    card = driver.wait_ephemeral("U1")
    driver.click("U1", card, blocks.ACTION_ANSWER)
    modal = driver.wait_modal("U1")
    submission = {"type": "view_submission", "team": {"id": slack.team_id}, "user": {"id": "U1"},
                  "view": {**modal.view, "state": {"values": {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: {
                      "type": "plain_text_input", "value": STORY}}}}}}
    first = socket_mode.send("interactive", submission)
    assert first.wait(5).payload["response_action"] == "update"
    again = socket_mode.send_envelope(first.envelope)  # the same envelope_id, as Slack redelivers it
    assert again.wait(5) is not None and again.ack.payload is None
    assert count(database_url, Answer) == 1


def test_malformed_envelopes_are_dropped_with_one_line_and_the_app_keeps_answering(
        running: InProcess, slack: StandInSlack, socket_mode: StandInSocketMode, database_url: str,
        caplog: pytest.LogCaptureFixture):
    driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused")
    socket_mode.send_raw("not json at all")
    socket_mode.send_raw('{"type": "slash_commands", "payload": {}}')  # no envelope_id
    socket_mode.send_raw("[1, 2, 3]")
    bad = [socket_mode.send("events_api", "not an object"),  # type: ignore[arg-type]
           socket_mode.send("interactive", {"type": "block_actions", "actions": "click"}),
           socket_mode.send("slash_commands", {"command": "/prep", "text": ["a", "list"]}),
           socket_mode.send("events_api", {"type": "event_callback", "event": {"type": "message"}})]
    for delivery in bad:
        ack = delivery.wait(5)
        assert ack is not None and ack.payload is None  # acknowledged, so Slack doesn't send it again
    assert driver.slash("U1", "help").status == 200
    assert count(database_url, Answer) == 0
    warnings = [r for r in caplog.records if r.name == "coachbot.socketmode" and r.levelname == "WARNING"]
    assert len(warnings) == 7 and all(r.exc_info is None for r in warnings)


def test_a_slow_web_api_never_delays_an_ack(running: InProcess, slack: StandInSlack,
                                            socket_mode: StandInSocketMode):
    driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused")
    slack.fail("response_url", delay=2.0, times=2)  # the card is posted through the response_url after the ack
    for user in ("U1", "U2"):
        started = time.monotonic()
        assert driver.slash(user, "leadership").status == 200
        assert time.monotonic() - started < 1.0
    for user in ("U1", "U2"):
        driver.wait_ephemeral(user, timeout=10)
    settled()
    assert card_count(slack, "U1") == card_count(slack, "U2") == 1


def test_too_many_websockets_backs_off_instead_of_hammering(slack: StandInSlack, database_url: str,
                                                             caplog: pytest.LogCaptureFixture):
    with StandInSocketMode(slack, max_connections=1) as socket_mode:
        first = InProcess(slack, socket_mode, database_url)
        socket_mode.wait_connections(1)
        second = InProcess(slack, socket_mode, database_url)
        try:
            wait_until(lambda: socket_mode.refused, what="the second connection to be refused")
            time.sleep(2.0)
            assert socket_mode.refused == ["too_many_websockets"]  # it waits (8 s) before trying again
            assert any("too many open" in r.getMessage() for r in caplog.records)
            driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused")
            assert driver.slash("U1", "help").status == 200  # the first keeps serving
        finally:
            second.close()
            first.close()


@pytest.mark.slow
def test_an_outage_of_apps_connections_open_is_retried_with_back_off(
        slack: StandInSlack, socket_mode: StandInSocketMode, database_url: str, caplog: pytest.LogCaptureFixture):
    slack.fail("apps.connections.open", status=503, times=3)
    app = InProcess(slack, socket_mode, database_url)
    try:
        socket_mode.wait_connections(1, timeout=15)
        attempts = slack.calls_to("apps.connections.open")
        assert [c.status for c in attempts] == [503, 503, 503, 200]
        gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
        assert gaps[1] > 0.7 and gaps[2] > 1.5  # 0, then about 1 s, then about 2 s
        lines = [r for r in caplog.records if "cannot connect to Slack" in r.getMessage()]
        assert len(lines) == 3 and all(r.exc_info is None for r in lines)
    finally:
        app.close()


# --- two processes, one stand-in that delivers every envelope to both ---------------------------


def slash_payload(slack: StandInSlack, user: str, text: str, channel: str = "C0GENERAL") -> dict:
    return {"command": "/prep", "text": text, "user_id": user, "team_id": slack.team_id, "channel_id": channel,
            "response_url": slack.new_response_url(user_id=user, channel_id=channel),
            "trigger_id": slack.new_trigger_id(user)}


def event_payload(slack: StandInSlack, event: dict, event_id: str) -> dict:
    return {"type": "event_callback", "team_id": slack.team_id, "api_app_id": slack.app_id, "event": event,
            "event_id": event_id, "event_time": int(time.time())}


@pytest.mark.slow
def test_two_processes_never_handle_one_envelope_or_one_event_twice(
        slack: StandInSlack, socket_mode: StandInSocketMode, database_url: str, tmp_path: Path):
    from coachbot.app import slack_services, web_client
    from coachbot.config import CLOCK
    from coachbot.scheduler import tick
    from coachbot.slackapi import scheduled_poster
    from coachbot.storage.db import Database

    env = socket_env(slack, socket_mode, database_url)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [start_socket(env, tmp_path, log, "--no-scheduler") for log in logs]
    try:
        socket_mode.wait_connections(2, timeout=30)
        driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused")

        # Slash commands, each delivered to both processes at once: one card, one answer in the ack.
        card = socket_mode.send("slash_commands", slash_payload(slack, "U1", "leadership"), copies=2)
        assert card.wait(5) is not None and len(card.sent_on) == 2
        help_ = socket_mode.send("slash_commands", slash_payload(slack, "U5", "help"), copies=2)
        assert help_.wait(5) is not None
        slack.wait_for(lambda: slack.ephemerals("U1") or None)

        # A modal submission delivered to both: one answer stored.
        seen = driver.wait_ephemeral("U1")
        driver.click("U1", seen, blocks.ACTION_ANSWER)
        modal = driver.wait_modal("U1")
        submission = {"type": "view_submission", "team": {"id": slack.team_id}, "user": {"id": "U1"},
                      "view": {**modal.view, "state": {"values": {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: {
                          "type": "plain_text_input", "value": STORY}}}}}}
        assert socket_mode.send("interactive", submission, copies=2).wait(5) is not None

        # A daily prompt (posted here by one tick), then a thread reply, a reaction and App Home,
        # each delivered to both.
        now = datetime.now(timezone.utc)
        driver.slash("U1", f"daily technical {now:%H:%M} daily UTC", CHANNEL)
        driver.wait_message(CHANNEL)  # the announcement: the schedule is stored
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(update(Schedule).values(checked_through=now - timedelta(hours=1),
                                                       next_due=now.replace(second=0, microsecond=0)))
        engine.dispose()
        config = Config.from_env(env, mode=CLOCK)
        services = slack_services(config, Database(database_url), web_client(config))
        assert len(tick(services, scheduled_poster(web_client(config), 300)).posted) == 1
        services.db.dispose()
        prompt = [m for m in slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") == "coachbot_prompt"][0]
        reply = slack.post_as_user(CHANNEL, "U2", REPLY, thread_ts=prompt.ts)
        message = {"type": "message", "channel": CHANNEL, "user": "U2", "text": REPLY, "ts": reply.ts,
                   "thread_ts": prompt.ts, "channel_type": "channel"}
        assert socket_mode.send("events_api", event_payload(slack, message, "EvTwo1"), copies=2).wait(5)
        slack.add_reaction(CHANNEL, reply.ts, "U3", "tada")
        reaction = {"type": "reaction_added", "user": "U3", "reaction": "tada", "item_user": "U2",
                    "item": {"type": "message", "channel": CHANNEL, "ts": reply.ts}, "event_ts": reply.ts}
        assert socket_mode.send("events_api", event_payload(slack, reaction, "EvTwo2"), copies=2).wait(5)
        home = {"type": "app_home_opened", "user": "U2", "channel": slack.dm_channel("U2"), "tab": "home",
                "event_ts": reply.ts}
        assert socket_mode.send("events_api", event_payload(slack, home, "EvTwo3"), copies=2).wait(5)
        # And the same events again later in new envelopes, as Slack's retries come.
        for event, event_id in ((message, "EvTwo1"), (reaction, "EvTwo2")):
            assert socket_mode.send("events_api", event_payload(slack, event, event_id), retry_attempt=1,
                                    retry_reason="timeout", copies=2).wait(5)

        driver.wait_home("U2")
        wait_until(lambda: slack.ephemerals("U2"), what="the thread reply's feedback")
        settled(1.0)
        assert len(slack.ephemerals("U1")) == 1 and len(slack.ephemerals("U2")) == 1
        # /prep help is answered in the ack from the command alone, so both may answer: Slack shows the
        # first ack's payload, and both are the same.
        shown = [a.payload for a in socket_mode.acks_for(help_.envelope_id) if a.payload]
        assert shown and all(p == shown[0] for p in shown) and "/prep leadership" in text_of(shown[0]["blocks"])
        assert count(database_url, Answer) == 2 and count(database_url, Reaction) == 1
        assert slack.home_publishes("U2") == 1
        assert not socket_mode.pending()
    finally:
        outputs = [stop(process, log) if process.poll() is None else log.read_text()
                   for process, log in zip(processes, logs)]
    assert all("Traceback" not in output for output in outputs)
    # Each doubled envelope whose handling does anything (all but /prep help) was turned away by one process.
    turned_away = ("not handled again", "left to it", "not done twice", "acknowledged again")
    assert sum(output.count(phrase) for output in outputs for phrase in turned_away) == 7


# --- the command line: one line per failure, a graceful stop ------------------------------------


def test_socket_help_says_it_runs_the_scheduler():
    from click.testing import CliRunner

    from coachbot.cli import main

    shown = CliRunner().invoke(main, ["socket", "--help"]).output
    assert "--no-scheduler" in shown and "scheduler beside it" in shown and "SLACK_APP_TOKEN" in shown


@pytest.mark.parametrize("setting, value, line", [
    ("SLACK_APP_TOKEN", "xapp-1-revoked", "Error: Slack refused SLACK_APP_TOKEN (invalid_auth): check it is the "
                                          "app-level token"),
    ("SLACK_BOT_TOKEN", "xoxb-revoked", "Error: Slack refused SLACK_BOT_TOKEN (invalid_auth): check it is the "
                                        "Bot User OAuth Token"),
])
def test_a_refused_token_stops_with_one_line(slack: StandInSlack, socket_mode: StandInSocketMode, tmp_path: Path,
                                             setting: str, value: str, line: str):
    env = socket_env(slack, socket_mode, f"sqlite:///{tmp_path}/c.db", LOG_LEVEL="ERROR", **{setting: value})
    log = tmp_path / "socket.log"
    process = start_socket(env, tmp_path, log, "--no-scheduler")
    assert process.wait(timeout=30) == 1
    output = log.read_text()
    assert output.strip().splitlines()[-1].startswith(line) and "Traceback" not in output


@pytest.mark.slow
def test_unreachable_slack_is_retried_with_one_line_each_while_the_process_waits(tmp_path: Path):
    import socket as sockets

    with sockets.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env = {**keep, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "LOG_LEVEL": "WARNING",
           "SLACK_API_URL": f"http://127.0.0.1:{port}/api/", "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    log = tmp_path / "socket.log"
    process = start_socket(env, tmp_path, log, "--no-scheduler")
    try:
        wait_until(lambda: log.read_text().count("cannot check SLACK_BOT_TOKEN") >= 2, timeout=20,
                   what="two retries")
        assert process.poll() is None  # still waiting for Slack
    finally:
        output = stop(process, log)
    lines = [line for line in output.splitlines() if "cannot check SLACK_BOT_TOKEN" in line]
    assert all("(Slack unreachable: URLError); trying again in" in line for line in lines)
    # One line each, from coachbot: no traceback, no line of slack_sdk's own about each failed request.
    assert "Traceback" not in output and "slack_sdk" not in output and "URLError" in lines[0]


@pytest.mark.slow
def test_sigterm_finishes_what_was_taken_then_exits(slack: StandInSlack, socket_mode: StandInSocketMode,
                                                    database_url: str, tmp_path: Path):
    log = tmp_path / "socket.log"
    # No ack budget: the card always follows the ack, through the response_url.
    env = {**socket_env(slack, socket_mode, database_url), "COACHBOT_ACK_BUDGET_MS": "0"}
    process = start_socket(env, tmp_path, log, "--no-scheduler")
    try:
        socket_mode.wait_connections(1, timeout=30)
        driver = SlackDriver(slack, socket_mode.wsgi_target(), "unused")
        slack.fail("response_url", delay=5.0)  # the card goes out after the ack, slowly
        assert driver.slash("U1", "leadership").status == 200
        assert slack.ephemerals("U1") == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert len(slack.ephemerals("U1")) == 1  # posted before the process left
        assert socket_mode.connections("open") == []
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in log.read_text()


def test_the_delivery_ledger_hands_each_envelope_to_one_claimant_and_takes_over_from_a_dead_one(database):
    from coachbot.clock import FixedClock
    from coachbot.services.deliveries import LEASE, Claim, DeliveryLedger

    clock = FixedClock(datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc))
    one, other = DeliveryLedger(database, clock), DeliveryLedger(database, clock)
    assert one.claim("T1", "env-1") is Claim.HANDLE
    assert other.claim("T1", "env-1") is Claim.BUSY  # the first is still on it: no ack from here
    assert other.claim("T2", "env-1") is Claim.HANDLE  # scoped by workspace
    one.handled("T1", "env-1")
    assert other.claim("T1", "env-1") is Claim.DUPLICATE
    clock.set(clock.now() + LEASE * 3)
    assert other.claim("T1", "env-1") is Claim.DUPLICATE  # handled stays handled

    assert one.claim("T1", "env-2") is Claim.HANDLE  # ... and then that process dies
    clock.set(clock.now() + LEASE / 2)
    assert other.claim("T1", "env-2") is Claim.BUSY
    clock.set(clock.now() + LEASE)
    assert other.claim("T1", "env-2") is Claim.HANDLE  # taken over once the lease has run out
    assert one.claim("T1", "env-2") is Claim.BUSY  # and only by one

    assert one.claim("T1", "env-3") is Claim.HANDLE
    one.release("T1", "env-3")  # handling failed before the ack
    assert other.claim("T1", "env-3") is Claim.HANDLE
    assert one.claim("T1", "x" * 200) is Claim.HANDLE and other.claim("T1", "x" * 200) is Claim.BUSY  # long ids fit
