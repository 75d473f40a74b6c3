"""`coachbot serve` for real: gunicorn in a subprocess, the stand-in Slack on
loopback, signed HTTP requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from coachbot import blocks
from coachbot.standin.driver import SlackDriver
from tests.scenario import SECRET, text_of, view_text

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"coachbot serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError("coachbot serve did not become healthy")


def serve_env(slack, database_url: str) -> dict[str, str]:
    """The environment ``coachbot serve`` gets in these tests: this one's, with the stand-in's Slack settings."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }


def test_serve_answers_signed_requests(slack, database_url: str, tmp_path: Path):
    port = free_port()
    env = serve_env(slack, database_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "coachbot", "serve", "--port", str(port), "--host", "127.0.0.1", "--workers", "1"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert wait_healthy(port, process) == {"status": "ok", "database": "ok"}
        driver = SlackDriver(slack, f"http://127.0.0.1:{port}/slack/events", SECRET)
        started = time.monotonic()
        response = driver.slash("U1", "leadership")
        assert response.status == 200 and time.monotonic() - started < 3
        card = driver.wait_ephemeral("U1")
        assert "What interviewers look for" in text_of(card.blocks)
        driver.click("U1", card, blocks.ACTION_ANSWER)
        modal = driver.wait_modal("U1")
        reply = driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: "I led it and we shipped."}})
        assert reply.json()["response_action"] == "update"
        # Work after an ack: on SQLite the web worker's own pool, on PostgreSQL the job queue and the
        # coachbot worker that serve runs beside gunicorn. Either way serve alone runs it.
        assert driver.open_home("U1").status == 200
        home = driver.wait_home("U1", timeout=20)
        assert "practice" in view_text(home.view).lower()
        assert driver.sender.send(b"x=1", "application/x-www-form-urlencoded", sign=False).status == 401
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        finally:
            process.stderr.close()
