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
        card = driver.wait_ephemeral("U1")
        assert text_of(card.blocks).startswith("Leadership · ")
        first = card.blocks
        assert driver.click("U1", card, blocks.ACTION_ANOTHER).status == 200
        slack.wait_for(lambda: slack.ephemerals("U1")[-1].blocks != first or None)
        assert len(slack.ephemerals("U1")) == 1  # replaced, not added

        card = driver.wait_ephemeral("U1")
        assert driver.click("U1", card, blocks.ACTION_ANSWER).status == 200
        modal = driver.wait_modal("U1")
        refused = driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: "   "}})
        assert refused.json()["response_action"] == "errors" and blocks.BLOCK_ANSWER in refused.json()["errors"]
        assert count(database_url, Answer) == 0
        coached = driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: STORY}}).json()
        assert coached["response_action"] == "update" and "STAR check: " in view_text(coached["view"])
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
            connection.execute(update(Schedule).values(checked_through=earlier, digest_checked_through=earlier))
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
        assert feedback.thread_ts == prompt.ts and "Technical answer check" in text_of(feedback.blocks)
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
