"""``coachbot socket``: the whole product over Socket Mode, in one command.

It runs the same Bolt app as HTTP mode over a Socket Mode connection (``client``), with the
same job runner for the work after an ack (``coachbot.jobs``: a pool in this process on
SQLite; the queue on PostgreSQL, with a ``coachbot worker`` child to run it) and the prompt
scheduler as child processes, each restarted if it dies, as ``coachbot serve`` does. On SIGTERM or SIGINT it stops taking envelopes (Slack gives them to another
connection), finishes and acknowledges those already taken, closes the connection, lets the
work that follows an ack finish, stops the scheduler and exits.
"""

from __future__ import annotations

import logging
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coachbot.app import ALL, build_bolt_app, job_runner, pools_of, slack_services, web_client
from coachbot.config import Config
from coachbot.socketmode.client import BACKOFF, REFUSED, SocketModeClient, SocketModeRefused, quiet_log, wait_sliced
from coachbot.handlers.replies import Replies
from coachbot.socketmode.front import GatedBackground, SocketModeFront
from coachbot.storage.db import Database

log = logging.getLogger("coachbot.socketmode")

ENVELOPE_WORKERS = 16  # envelopes handled at once; each listener acks at once and hands slow work on
SCHEDULER_COMMAND = (sys.executable, "-m", "coachbot", "scheduler")
WORKER_COMMAND = (sys.executable, "-m", "coachbot", "worker")


class ChildProcess:
    """A child process kept running: restarted when it exits (waiting longer each time it dies
    young, up to a minute), stopped with SIGTERM, then SIGKILL after ``stop_timeout``."""

    def __init__(self, command: Sequence[str], *, name: str, stop_timeout: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.command = list(command)
        self.name = name
        self.stop_timeout = stop_timeout
        self.monotonic = monotonic
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._started_at = 0.0
        self._delay = 1.0
        self._down_since: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)
        self._started_at = self.monotonic()

    def check(self) -> None:
        """Restart the process if it has exited (call it often)."""
        if self.process is None or self.process.poll() is None:
            return
        now = self.monotonic()
        if self._down_since is None:
            self._down_since = now
            lived = now - self._started_at
            self._delay = 1.0 if lived > 60 else min(self._delay * 2, 60.0) if self.restarts else 1.0
            log.warning("the %s exited with code %s; restarting it in %.0f s", self.name, self.process.returncode,
                        self._delay)
        if now - self._down_since >= self._delay:
            self._down_since = None
            self.restarts += 1
            self.start()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            log.warning("the %s did not stop within %.0f s; killing it", self.name, self.stop_timeout)
            process.kill()
            process.wait()


@dataclass
class SocketRuntime:
    """What ``coachbot socket`` runs, put together (tests build it to reach inside)."""

    config: Config
    db: Database
    client: SocketModeClient
    bot_client: WebClient  # the app's own, for the listeners
    check_client: WebClient  # the same token, for auth.test at start, logging only through us
    envelope_workers: ThreadPoolExecutor
    pools: tuple[Executor, ...]
    services: Any
    worker: "ChildProcess | None" = None  # runs the job queue on PostgreSQL

    def tick(self) -> None:
        """Keep the job worker running (call it often)."""
        if self.worker is not None:
            self.worker.check()

    def close(self) -> None:
        """Finish and acknowledge what was taken, close the connection, finish the work after acks."""
        self.client.stop_accepting()
        self.envelope_workers.shutdown(wait=True)
        self.client.stop()
        for pool in self.pools:  # listeners first: they may still hand work to the next pool
            pool.shutdown(wait=True)
        if self.worker is not None:
            self.worker.stop()  # SIGTERM: it finishes the jobs it holds; the rest stay queued
        self.db.dispose()


def build_runtime(config: Config, *, services: Any = None, bot_client: WebClient | None = None,
                  rng: random.Random | None = None, worker_process: bool = True,
                  **client_options: Any) -> SocketRuntime:
    assert config.app_token is not None
    db = services.db if services is not None else Database(config.database_url)
    bot_client = bot_client or web_client(config)
    services = services or slack_services(config, db, bot_client)
    listeners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="listener")
    # As over HTTP: interactive work runs on its own pool while its listener waits up to the ack
    # budget, and what is left after the ack goes to the job runner.
    reply_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="reply")
    jobs = job_runner(config, services, bot_client)
    # A slash command's reply always follows its ack here, through the response_url: an ack's payload
    # is lost with its connection, and the redelivered envelope is (rightly) not handled again, so a
    # card in the ack could reach nobody. Modal submissions keep their response_action in the ack.
    # And a command is claimed by that work, not before its ack, so no database write delays the ack.
    replies = Replies(GatedBackground(reply_pool, services), config.ack_budget_ms / 1000, command_budget_s=0.0)
    bolt = build_bolt_app(config, services, bot_client, listeners, kind=ALL, jobs=jobs, replies=replies)
    marks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="handled")
    front = SocketModeFront(bolt, services, marks)  # marking handled is quick: kept in this process
    workers = ThreadPoolExecutor(max_workers=ENVELOPE_WORKERS, thread_name_prefix="envelope")
    client = SocketModeClient(config.app_token, config.slack_api_url, front.handle, workers, rng=rng,
                              **client_options)
    check_client = WebClient(token=config.bot_token, base_url=config.slack_api_url, timeout=10, logger=quiet_log)
    worker = None
    if worker_process and db.is_postgresql:
        worker = ChildProcess(WORKER_COMMAND, name="job worker")
        worker.start()
    pools = tuple(dict.fromkeys((listeners, reply_pool, *pools_of(jobs), marks)))
    return SocketRuntime(config, db, client, bot_client, check_client, workers, pools, services, worker)


def check_bot_token(client: WebClient, stop: threading.Event, *, on_tick: Callable[[], None] = lambda: None,
                    rng: random.Random | None = None) -> bool:
    """auth.test until Slack answers: True if the bot token works, False if stopped first.
    A refused token raises SocketModeRefused; an outage is retried with back-off."""
    rng = rng or random.Random()
    attempt = 0
    while not stop.is_set():
        try:
            client.auth_test()
            return True
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            if error in REFUSED:
                raise SocketModeRefused(
                    f"Slack refused SLACK_BOT_TOKEN ({error}): check it is the Bot User OAuth Token (xoxb-...) "
                    "from OAuth & Permissions, and that the app is installed in the workspace.") from None
            reason = f"auth.test: {error or f'HTTP {exc.response.status_code}'}"
        except (URLError, OSError, TimeoutError) as exc:
            reason = f"Slack unreachable: {type(exc).__name__}"
        attempt += 1
        delay = BACKOFF[min(attempt, len(BACKOFF) - 1)] * rng.uniform(0.8, 1.2)
        log.warning("cannot check SLACK_BOT_TOKEN with Slack (%s); trying again in %.0f s", reason, delay)
        wait_sliced(stop, delay, on_tick)
    return False


def run(config: Config, *, scheduler: bool = True) -> None:
    """Run until SIGTERM or SIGINT. Raises SocketModeRefused when Slack refuses a token."""
    runtime = build_runtime(config)
    clock = ChildProcess(SCHEDULER_COMMAND, name="scheduler") if scheduler else None
    stop = threading.Event()

    def on_signal(number: int, _frame: Any) -> None:
        if not stop.is_set():
            log.info("%s: finishing what was taken, then stopping", signal.Signals(number).name)
        stop.set()
        runtime.client.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    def on_tick() -> None:
        runtime.tick()
        if clock is not None:
            clock.check()

    try:
        if clock is not None:
            clock.start()
        if check_bot_token(runtime.check_client, stop, on_tick=on_tick) and not stop.is_set():
            runtime.client.run(on_connected=lambda: log.info("connected to Slack over Socket Mode"),
                               on_tick=on_tick)
    finally:
        runtime.close()
        if clock is not None:
            clock.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")
