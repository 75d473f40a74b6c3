"""Exactly-once across real OS processes: a sender SIGKILLed in the middle of a fan-out,
two senders or two schedulers racing for the same slots, and two web processes
handling the same (retried) Slack events.

Every process here is a real ``python -m coachbot ...`` subprocess; Slack is the
stand-in on loopback in the test process. PostgreSQL only: these tests are about
several processes sharing one database server, and SQLite is an embedded,
single-file database for a single-process install (its locking would serialise the
processes instead of exercising the unique keys and claims under contention).
The ``postgres_url`` fixture fails in CI when TEST_DATABASE_URL is missing, and
skips only outside CI, like every PostgreSQL test.

Every wait is bounded in time, and every process is ended in a ``finally``.

The last test is in-process on purpose: it needs a fan-out longer than the two-minute
claim lease, so it moves an injected clock instead of waiting.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import func, select

from coachbot.app import slack_services, web_client
from coachbot.config import Config
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.standin.driver import SlackDriver
from coachbot.standin.requests import reaction_added
from coachbot.standin.server import StandInSlack
from coachbot.storage.db import Database
from coachbot.storage.models import Answer, ProcessedEvent, Prompt, Reaction, Schedule
from tests.scenario import SECRET

pytestmark = pytest.mark.slow

SLOT = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)  # a Wednesday: no weekly digest is due near it
SLOT_KEY = "2026-11-25"
CHANNELS = [f"C0PROC{i:04d}" for i in range(200)]
KILL_AT = 60  # posts Slack has accepted when the first sender is killed
PROMPT = "coachbot_prompt"


# --- set-up -------------------------------------------------------------------


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.dispose()


def add_schedules(db: Database, slack: StandInSlack, channels: list[str], *, local_time: str,
                  checked_through: datetime, digest: bool = True) -> None:
    """One daily technical prompt per channel, every day at ``local_time`` UTC, in channels the bot
    is in (as /prep daily leaves them: it joins the channel when the schedule is set)."""
    team_id = slack.team_id
    for channel in channels:
        slack.add_channel(channel)
    with db.session() as session:
        for channel in channels:
            session.add(Schedule(team_id=team_id, channel_id=channel, mode="technical", local_time=local_time,
                                 weekdays="0,1,2,3,4,5,6", tz="UTC", created_by="U0OWNER", enabled=True,
                                 checked_through=checked_through, posted_count=0, created_at=checked_through,
                                 updated_at=checked_through, digest_enabled=digest))


def cli_env(slack: StandInSlack, url: str, log_level: str = "WARNING") -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "COACHBOT_")) and k not in ("DATABASE_URL", "LOG_LEVEL", "PORT")}
    return {**keep, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url, "DATABASE_URL": url, "LOG_LEVEL": log_level}


def start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "coachbot", *args], env=env, cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"coachbot serve exited with {process.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"coachbot serve on port {port} did not become healthy: {log.read_text()}")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def send_due(slack: StandInSlack, url: str, now: datetime, cwd: Path) -> "Outcome":
    """``coachbot prompts send-due --now ...`` to completion (at most 90 s)."""
    done = subprocess.run([sys.executable, "-m", "coachbot", "prompts", "send-due", "--now", now.isoformat()],
                          env=cli_env(slack, url), cwd=cwd, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    return Outcome.parse(done.stdout)


@dataclass
class Outcome:
    """What ``send-due`` printed, by channel."""

    posted: set[str]
    recovered: set[str]
    other: list[str]
    summary: str

    @classmethod
    def parse(cls, stdout: str) -> "Outcome":
        posted, recovered, other, summary = set(), set(), [], ""
        for line in stdout.splitlines():
            if line.startswith("posted "):
                posted.add(_channel(line[len("posted "):]))
            elif line.startswith("already posted "):
                recovered.add(_channel(line[len("already posted "):]))
            elif line.endswith("stopped") and " posted, " in line:
                summary = line
            else:
                other.append(line)
        return cls(posted, recovered, other, summary)


def _channel(label: str) -> str:
    team, channel, slot = label.split("/")
    assert slot == SLOT_KEY, label
    return channel


def prompt_messages(slack: StandInSlack, channel: str) -> list:
    return [m for m in slack.messages(channel) if (m.metadata or {}).get("event_type") == PROMPT]


def landed(slack: StandInSlack, channels: list[str]) -> dict[str, list[str]]:
    """Channel -> the ts of every prompt Slack holds there (only channels that have one)."""
    found = {c: [m.ts for m in prompt_messages(slack, c)] for c in channels}
    return {c: ts for c, ts in found.items() if ts}


def post_calls(slack: StandInSlack) -> list[str]:
    """The channel of every chat.postMessage call Slack has received."""
    return [str(c.params.get("channel")) for c in slack.calls_to("chat.postMessage")]


def rows(db: Database) -> dict[str, Prompt]:
    with db.session() as session:
        return {p.channel_id: p for p in session.scalars(select(Prompt))}


def settle(slack: StandInSlack, quiet: float = 0.3, limit: float = 5.0) -> None:
    """Wait (at most ``limit`` s) until no call has reached the stand-in for ``quiet`` s:
    requests a killed process had already sent are handled before we look."""
    deadline = time.monotonic() + limit
    seen, since = len(slack.calls), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        count = len(slack.calls)
        if count != seen:
            seen, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise AssertionError(f"the stand-in kept receiving calls for {limit}s after the kill")


def assert_exactly_once(slack: StandInSlack, db: Database, channels: list[str], slot_key: str = SLOT_KEY) -> None:
    """Every channel has one prompt in Slack, and its row is posted with that message's ts."""
    by_channel = rows(db)
    problems = []
    for channel in channels:
        messages = prompt_messages(slack, channel)
        row = by_channel.get(channel)
        if len(messages) != 1:
            problems.append(f"{channel}: {len(messages)} prompts in Slack")
        elif messages[0].metadata["event_payload"]["slot"] != slot_key:
            problems.append(f"{channel}: prompt for slot {messages[0].metadata['event_payload']['slot']}")
        elif row is None or row.status != "posted" or row.message_ts != messages[0].ts:
            problems.append(f"{channel}: row {None if row is None else (row.status, row.message_ts)} "
                            f"!= posted {messages[0].ts}")
    assert problems == [], f"{len(problems)} channels not posted exactly once: {problems[:10]}"
    assert len(by_channel) == len(channels)
    counts: dict[str, int] = {}
    for channel in post_calls(slack):
        counts[channel] = counts.get(channel, 0) + 1
    assert {c: n for c, n in counts.items() if n != 1} == {}, "a channel was sent chat.postMessage twice"


def kill_mid_fan_out(slack: StandInSlack, pg_url: str, tmp_path: Path) -> None:
    """Start ``send-due --now SLOT`` with Slack answering each post 0.25 s after accepting it,
    and SIGKILL it once Slack has accepted KILL_AT posts."""
    slack.fail("chat.postMessage", delay_after=0.25, times=-1)
    process = start(["prompts", "send-due", "--now", SLOT.isoformat()], cli_env(slack, pg_url), tmp_path,
                    tmp_path / "killed.log")
    try:
        slack.wait_for(lambda: process.poll() is not None or len(slack.calls_to("chat.postMessage")) >= KILL_AT,
                       timeout=60, message=f"{KILL_AT} posts from the first sender")
        assert process.poll() is None, f"the sender ended before the kill: {(tmp_path / 'killed.log').read_text()}"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
    finally:
        stop(process)
    settle(slack)
    slack.clear_faults()


@dataclass
class AfterKill:
    posted: set[str]  # recorded as posted in the database
    claimed: set[str]  # claimed, not recorded
    accepted: set[str]  # Slack has the prompt
    in_window: set[str]  # Slack accepted it, the database never heard: claimed and accepted

    @classmethod
    def look(cls, slack: StandInSlack, db: Database) -> "AfterKill":
        by_channel = rows(db)
        accepted = set(landed(slack, CHANNELS))
        posted = {c for c, p in by_channel.items() if p.status == "posted"}
        claimed = {c for c, p in by_channel.items() if p.status == "claimed"}
        assert set(by_channel) == posted | claimed
        assert posted <= accepted, "a row says posted but Slack has no prompt"
        assert all(len(ts) == 1 for ts in landed(slack, CHANNELS).values())
        return cls(posted, claimed, accepted, claimed & accepted)

    def report(self) -> str:
        return (f"{len(self.accepted)} accepted by Slack before the kill, {len(self.posted)} recorded, "
                f"{len(self.claimed)} claimed but unrecorded ({len(self.in_window)} of them accepted by Slack)")


# --- 1. SIGKILL mid-fan-out --------------------------------------------------------


def test_sigkill_mid_fan_out_then_a_run_past_the_lease_finishes_exactly_once(
        slack: StandInSlack, db: Database, pg_url: str, tmp_path: Path):
    add_schedules(db, slack, CHANNELS, local_time="09:30", checked_through=SLOT - timedelta(minutes=1))
    started = time.monotonic()
    kill_mid_fan_out(slack, pg_url, tmp_path)
    before = AfterKill.look(slack, db)
    assert 40 <= len(before.accepted) <= 120, before.report()
    assert before.claimed, "no claim was in flight when the sender was killed"

    calls_before = len(post_calls(slack))
    rerun = send_due(slack, pg_url, SLOT + timedelta(minutes=3), tmp_path)
    # Claimed slots whose post Slack had accepted are found by their metadata and recorded; the
    # claimed ones Slack never got are posted; nothing recorded is touched again.
    assert rerun.recovered == before.in_window
    assert rerun.posted == set(CHANNELS) - before.posted - before.in_window
    assert rerun.other == [] and rerun.summary == f"{len(rerun.posted)} posted, 0 to retry, 0 stopped"
    assert set(post_calls(slack)[calls_before:]) == rerun.posted
    assert_exactly_once(slack, db, CHANNELS)
    print(f"\nkill past the lease: {before.report()}; the rerun recovered {len(rerun.recovered)} by metadata, "
          f"posted {len(rerun.posted)} ({len(before.claimed - before.accepted)} of them claimed before the kill); "
          f"{time.monotonic() - started:.1f}s")


def test_sigkill_then_a_run_within_the_lease_leaves_claims_alone_and_a_later_one_finishes(
        slack: StandInSlack, db: Database, pg_url: str, tmp_path: Path):
    add_schedules(db, slack, CHANNELS, local_time="09:30", checked_through=SLOT - timedelta(minutes=1))
    started = time.monotonic()
    kill_mid_fan_out(slack, pg_url, tmp_path)
    before = AfterKill.look(slack, db)
    assert 40 <= len(before.accepted) <= 120 and before.claimed, before.report()

    calls_before, history_before = len(post_calls(slack)), len(slack.calls_to("conversations.history"))
    within = send_due(slack, pg_url, SLOT + timedelta(seconds=30), tmp_path)
    assert within.recovered == set()
    assert within.posted == set(CHANNELS) - before.posted - before.claimed
    assert not set(post_calls(slack)[calls_before:]) & before.claimed, "a slot under a live claim was posted"
    assert len(slack.calls_to("conversations.history")) == history_before
    still = rows(db)
    assert {c for c in before.claimed if still[c].status == "claimed"} == before.claimed
    assert set(landed(slack, CHANNELS)) == set(CHANNELS) - (before.claimed - before.accepted)

    calls_before = len(post_calls(slack))
    after = send_due(slack, pg_url, SLOT + timedelta(minutes=3), tmp_path)
    assert after.recovered == before.in_window
    assert after.posted == before.claimed - before.accepted
    assert set(post_calls(slack)[calls_before:]) == after.posted
    assert_exactly_once(slack, db, CHANNELS)
    print(f"\nrestart within the lease: {before.report()}; within the lease {len(within.posted)} posted and "
          f"{len(before.claimed)} claims left alone; past it {len(after.recovered)} recovered, "
          f"{len(after.posted)} posted; {time.monotonic() - started:.1f}s")


# --- 2. two senders, two schedulers --------------------------------------------------


def test_two_send_due_processes_at_once_post_each_prompt_once(
        slack: StandInSlack, db: Database, pg_url: str, tmp_path: Path):
    add_schedules(db, slack, CHANNELS, local_time="09:30", checked_through=SLOT - timedelta(minutes=1))
    slack.fail("chat.postMessage", delay_after=0.05, times=-1)  # keep both fan-outs in flight together
    started = time.monotonic()
    command = ["prompts", "send-due", "--now", SLOT.isoformat()]
    processes = [start(command, cli_env(slack, pg_url), tmp_path, tmp_path / f"sender{n}.log") for n in (1, 2)]
    try:
        for process in processes:
            process.wait(timeout=90)
    finally:
        for process in processes:
            stop(process)
    outcomes = []
    for n, process in enumerate(processes, start=1):
        output = (tmp_path / f"sender{n}.log").read_text()
        assert process.returncode == 0, output
        outcomes.append(Outcome.parse(output))
    first, second = outcomes
    assert len(first.posted) + len(second.posted) == 200
    assert first.posted | second.posted == set(CHANNELS) and not first.posted & second.posted
    assert first.recovered == second.recovered == set()
    assert_exactly_once(slack, db, CHANNELS)
    print(f"\ntwo senders: {len(first.posted)} + {len(second.posted)} posted; {time.monotonic() - started:.1f}s")


def test_two_scheduler_processes_post_each_prompt_once(slack: StandInSlack, db: Database, pg_url: str,
                                                       tmp_path: Path):
    # The clock process uses the real time: every channel's slot is this minute, in UTC, every day.
    now = datetime.now(timezone.utc)
    minute = now.replace(second=0, microsecond=0)
    add_schedules(db, slack, CHANNELS, local_time=minute.strftime("%H:%M"),
                  checked_through=minute - timedelta(minutes=1), digest=False)
    started = time.monotonic()
    env = cli_env(slack, pg_url, log_level="INFO")
    processes = [start(["scheduler"], env, tmp_path, tmp_path / f"clock{n}.log") for n in (1, 2)]
    try:
        slack.wait_for(lambda: any(p.poll() is not None for p in processes)
                       or len(landed(slack, CHANNELS)) == len(CHANNELS), timeout=60,
                       message="the schedulers to post in every channel")
        time.sleep(0.5)  # room for a duplicate to land
        assert all(p.poll() is None for p in processes), "a scheduler exited: " + "".join(
            (tmp_path / f"clock{n}.log").read_text() for n in (1, 2))
    finally:
        for process in processes:
            stop(process)
    logs = [(tmp_path / f"clock{n}.log").read_text() for n in (1, 2)]
    assert all("Traceback" not in log for log in logs), logs
    assert_exactly_once(slack, db, CHANNELS, slot_key=minute.date().isoformat())
    split = [sum(int(line.split("prompts: ")[1].split(" posted")[0]) for line in log.splitlines()
                 if "prompts: " in line and " posted, " in line) for log in logs]
    assert sum(split) == 200, logs
    print(f"\ntwo schedulers: {split[0]} + {split[1]} posted; {time.monotonic() - started:.1f}s")


def test_two_scheduler_processes_spend_one_workspace_budget_between_them(
        slack: StandInSlack, db: Database, pg_url: str, tmp_path: Path):
    """Each scheduler is paced at the workspace's whole budget (120 posts a minute, a bucket of a
    minute's worth); with a pacer per process they would post twice that and draw 429s. The budget
    is one row in the database they both take tokens from."""
    now = datetime.now(timezone.utc)
    minute = now.replace(second=0, microsecond=0)
    channels = [f"C0PACE{i:04d}" for i in range(130)]  # a burst of 114 (95% of the bucket), then 1.9 a second
    add_schedules(db, slack, channels, local_time=minute.strftime("%H:%M"),
                  checked_through=minute - timedelta(minutes=1), digest=False)
    slack.set_rate_limits(per_channel_per_second=1, workspace_per_minute=120)
    started = time.monotonic()
    env = {**cli_env(slack, pg_url, log_level="INFO"), "COACHBOT_POSTS_PER_MINUTE": "120"}
    processes = [start(["scheduler"], env, tmp_path, tmp_path / f"paced{n}.log") for n in (1, 2)]
    try:
        slack.wait_for(lambda: any(p.poll() is not None for p in processes)
                       or len(landed(slack, channels)) == len(channels), timeout=60,
                       message="the schedulers to post in every channel")
        time.sleep(0.5)
        assert all(p.poll() is None for p in processes), "a scheduler exited"
    finally:
        for process in processes:
            stop(process)
    logs = [(tmp_path / f"paced{n}.log").read_text() for n in (1, 2)]
    assert all("Traceback" not in log for log in logs), logs
    assert slack.rate_limited_count == 0, logs
    assert_exactly_once(slack, db, channels, slot_key=minute.date().isoformat())
    split = [sum(int(line.split("prompts: ")[1].split(" posted")[0]) for line in log.splitlines()
                 if "prompts: " in line and " posted, " in line) for log in logs]
    assert sum(split) == 130 and min(split) > 0, split  # both posted, and together kept to one budget
    print(f"\ntwo paced schedulers: {split[0]} + {split[1]} posted, no 429; {time.monotonic() - started:.1f}s")


# --- 3. two web processes --------------------------------------------------------


REPLY = ("Assuming the list fits in memory, I would sort it first and then merge overlapping intervals in one "
         "pass, O(n log n) time. Edge cases: empty input, a single interval, intervals that only touch.")


def deliver_everywhere(send: list[Callable[[], object]]) -> list[int]:
    """Run the deliveries at the same moment, one thread each; their HTTP statuses."""
    barrier = threading.Barrier(len(send), timeout=10)

    def go(deliver: Callable[[], object]) -> int:
        barrier.wait()
        return deliver().status  # type: ignore[attr-defined]

    with ThreadPoolExecutor(max_workers=len(send)) as pool:
        return list(pool.map(go, send))


def count(db: Database, statement) -> int:
    with db.session() as session:
        return int(session.scalar(statement) or 0)


def test_two_web_processes_store_a_retried_reply_and_reaction_once(
        slack: StandInSlack, db: Database, pg_url: str, tmp_path: Path):
    started = time.monotonic()
    ports = [free_port(), free_port()]
    env = cli_env(slack, pg_url)
    processes = [start(["serve", "--no-scheduler", "--workers", "1", "--host", "127.0.0.1", "--port", str(port)],
                       env, tmp_path, tmp_path / f"web{n}.log") for n, port in enumerate(ports, start=1)]
    try:
        # Meanwhile, the test process posts today's prompt through the services and the real poster.
        channel, team = "C0WEB", slack.team_id
        config = Config.from_env(env)
        client = web_client(config)
        services = slack_services(config, db, client)
        add_schedules(db, slack, [channel], local_time="09:30", checked_through=SLOT - timedelta(minutes=1))
        assert len(services.prompts.send_due(SlackPromptPoster(prompt_client(client)), SLOT).posted) == 1
        prompt = prompt_messages(slack, channel)[0]

        for n, (port, process) in enumerate(zip(ports, processes), start=1):
            assert wait_healthy(port, process, tmp_path / f"web{n}.log") == {"status": "ok", "database": "ok"}
        drivers = [SlackDriver(slack, f"http://127.0.0.1:{port}/slack/events", SECRET) for port in ports]

        # U2 replies in the thread; Slack delivers it, then retries it, to either process, all at once.
        reply = slack.post_as_user(channel, "U2", REPLY, thread_ts=prompt.ts)
        event = {"type": "message", "channel": channel, "user": "U2", "text": REPLY, "ts": reply.ts,
                 "thread_ts": prompt.ts, "channel_type": "channel"}
        deliveries = [(drivers[n % 2], None if n == 0 else n) for n in range(6)]
        statuses = deliver_everywhere([lambda d=d, r=r: d.event(event, event_id="Ev0REPLY", retry_num=r)
                                       for d, r in deliveries])
        assert statuses == [200] * 6
        answers = select(func.count()).select_from(Answer)
        slack.wait_for(lambda: count(db, answers) >= 1, timeout=15, message="the reply to be stored")
        slack.wait_for(lambda: slack.ephemerals("U2"), timeout=15, message="U2's feedback")
        time.sleep(0.5)  # room for a duplicate to land
        assert count(db, answers) == 1
        assert count(db, select(func.count()).select_from(ProcessedEvent)
                     .where(ProcessedEvent.event_id == "Ev0REPLY")) == 1
        assert len(slack.ephemerals("U2")) == 1  # coached once
        with db.session() as session:
            answer = session.scalar(select(Answer))
            assert (answer.user_id, answer.source, answer.message_ts, answer.thread_ts) == \
                ("U2", "thread", reply.ts, prompt.ts)

        # U3 reacts on the answer; the event and its retries reach both processes at once.
        slack.add_reaction(channel, reply.ts, "U3", "tada")
        reaction = reaction_added("U3", "tada", channel, reply.ts, item_user="U2")
        statuses = deliver_everywhere([lambda d=d, r=r: d.event(reaction, event_id="Ev0TADA", retry_num=r)
                                       for d, r in deliveries])
        assert statuses == [200] * 6
        reactions = select(func.count()).select_from(Reaction)
        slack.wait_for(lambda: count(db, reactions) >= 1, timeout=15, message="the reaction to be stored")
        time.sleep(0.5)
        assert count(db, reactions) == 1
        with db.session() as session:
            assert session.scalar(select(Answer.reaction_count)) == 1
        assert services.progress.stats(team, "U2").reactions_received == 1
    finally:
        for process in processes:
            stop(process)
    logs = [(tmp_path / f"web{n}.log").read_text() for n in (1, 2)]
    assert all("Traceback" not in log for log in logs), logs
    print(f"\ntwo web processes: 6 deliveries each of a reply and a reaction, stored once; "
          f"{time.monotonic() - started:.1f}s")


# --- a tick that outlasts the lease ------------------------------------------------


def test_a_claim_taken_late_in_a_long_tick_is_not_taken_over(slack: StandInSlack, db: Database, pg_url: str):
    """In-process, with an injected clock, because the lease is two real minutes: the first
    scheduler's posts each take 50 s (its pace, or Slack's Retry-After), and the second
    scheduler ticks while the first is posting its third channel, 50 s after claiming it."""
    from coachbot.clock import FixedClock

    channels = [f"C0LONG{i}" for i in range(4)]
    add_schedules(db, slack, channels, local_time="09:30", checked_through=SLOT - timedelta(minutes=1))
    clock = FixedClock(SLOT)
    config = Config.from_env(cli_env(slack, pg_url))
    client = web_client(config)
    first, second = slack_services(config, db, client, clock=clock), slack_services(config, db, client, clock=clock)

    class SlowPoster(SlackPromptPoster):
        calls = 0
        overlapped: str | None = None

        def post_prompt(self, team_id: str, channel_id: str, *args, **kwargs) -> str:
            SlowPoster.calls += 1
            clock.advance(timedelta(seconds=50))
            if SlowPoster.calls == 3:  # claimed at SLOT+100s; the other scheduler ticks at SLOT+150s
                SlowPoster.overlapped = channel_id
                second.prompts.send_due(SlackPromptPoster(prompt_client(client)), clock.now())
            return super().post_prompt(team_id, channel_id, *args, **kwargs)

    first.prompts.send_due(SlowPoster(prompt_client(client)), workers=1)
    assert SlowPoster.overlapped is not None
    assert len(prompt_messages(slack, SlowPoster.overlapped)) == 1, "posted twice"
    assert_exactly_once(slack, db, channels)
