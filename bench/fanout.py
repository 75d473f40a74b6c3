"""Daily fan-out: one slot due in many channels, posted under Slack's posting limits.

    python -m bench.fanout                 # SQLite: 1,000 channels at 600/min, a mismatched run, a projection run
    python -m bench.fanout --quick         # a smoke run (about a minute)
    python -m bench.fanout --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.fanout --cases matched --channels 2000 --workspace-per-minute 1200

A stand-in Slack (in this process) enforces chat.postMessage limits: one post
per second per channel and a workspace-wide budget per minute (a token
bucket holding one minute's budget, as ``StandInSlack.set_rate_limits``
does). Schedule rows due at one slot are inserted straight into a new
database, one per channel, and coachbot's scheduler wiring
(``coachbot.cli._runtime``: the services and ``scheduled_poster`` paced at
COACHBOT_POSTS_PER_MINUTE) posts them through ``PromptService.send_due``,
in this process. A pass that leaves slots to retry is followed by the next
pass at the scheduler's next tick (every 30 s), as ``coachbot scheduler``
would run it.

Cases:

- ``matched``: coachbot paced at the workspace budget (``--posts-per-minute``,
  default equal to ``--workspace-per-minute``). Reported against the floor the
  limits allow: the bucket's first minute of budget at once, then the budget's
  rate, ``max(0, (N - budget) / (budget / 60))`` seconds.
- ``two-schedulers``: the matched case run by two ``coachbot prompts send-due`` processes at once,
  each paced at the whole budget: they share one budget per workspace through the database
  (``posting_pace``), so together they stay within it. Same floor.
- ``workspaces``: ``--workspaces`` workspaces of ``--workspace-channels`` channels, each workspace
  a stand-in of its own with its own budget (``--per-workspace-per-minute``), posted by one
  scheduler routing each workspace's posts to its stand-in. Workspaces post in parallel, each at
  its own pace, so the floor is one workspace's: ``floor(channels per workspace, its budget)``.
- ``mismatched``: coachbot paced faster than the workspace allows
  (``--mismatch-posts-per-minute``, default 2x the budget): shows the 429
  handling (every posting thread pauses for Retry-After) and that nothing is
  lost or doubled.
- ``projection``: how fast coachbot itself posts with no Slack limit
  (``coachbot prompts send-due`` as a subprocess, paced far above anything,
  ``--projection-channels``), and what one scheduler tick costs when nothing is
  due with ``--idle-schedules`` schedules: the inputs of the projection to
  10,000 channels.

Goals (matched, two-schedulers, workspaces): wall time within 1.2x of the floor, no channel posted
twice, none missed, no 429.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from bench.common import SECRET, bench_database, child_env, machine, workdir

SLOT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # a Wednesday; the weekly digest is not due
GOAL_RATIO = 1.2
SHARED_CASES = ("projection", "two-schedulers", "workspaces")  # rendered apart from the per-pass table
PROJECT_TO = 10_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout", description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--cases", default="matched,two-schedulers,workspaces,mismatched,projection",
                        help="comma-separated: matched, two-schedulers, workspaces, mismatched, projection")
    parser.add_argument("--workspaces", type=int, default=10, help="workspaces in the workspaces case")
    parser.add_argument("--workspace-channels", type=int, default=100,
                        help="channels per workspace in the workspaces case")
    parser.add_argument("--per-workspace-per-minute", type=int, default=60,
                        help="each workspace's chat.postMessage budget per minute in the workspaces case")
    parser.add_argument("--channels", type=int, default=1000, help="channels with a schedule due at the slot")
    parser.add_argument("--workspace-per-minute", type=int, default=600,
                        help="the stand-in's workspace-wide chat.postMessage budget per minute")
    parser.add_argument("--per-channel-per-second", type=float, default=1.0,
                        help="the stand-in's per-channel chat.postMessage limit")
    parser.add_argument("--posts-per-minute", type=int, default=None,
                        help="coachbot's pace (COACHBOT_POSTS_PER_MINUTE) in the matched case; default: the budget")
    parser.add_argument("--mismatch-channels", type=int, default=None, help="channels in the mismatched case; "
                        "default: --channels")
    parser.add_argument("--mismatch-posts-per-minute", type=int, default=None,
                        help="coachbot's pace in the mismatched case; default: twice the workspace budget")
    parser.add_argument("--projection-channels", type=int, default=2000,
                        help="channels posted with no Slack limit in the projection case")
    parser.add_argument("--idle-schedules", type=int, default=PROJECT_TO,
                        help="schedules in the idle-tick measurement of the projection case (none due)")
    parser.add_argument("--workers", type=int, default=8, help="send_due's posting threads (its default is 8)")
    parser.add_argument("--tick-seconds", type=float, default=None,
                        help="seconds between scheduler ticks (default: coachbot.scheduler.TICK_SECONDS)")
    parser.add_argument("--max-passes", type=int, default=6, help="passes (ticks) allowed per case")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to use (a scratch database per case is made on it and dropped "
                             "after); default: a new SQLite file per case")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds allowed for the whole benchmark")
    parser.add_argument("--log-level", default="WARNING", help="log level of coachbot's loggers")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run (about a minute): 150 channels at 100/min, 70 channels at 60/min against "
                             "a pace of 120/min, 300 unlimited, 1,000 idle schedules, 10 s ticks")
    args = parser.parse_args(argv)
    if args.quick:
        args.channels, args.workspace_per_minute = 150, 100
        args.mismatch_channels, args.mismatch_posts_per_minute = 70, 120
        args.mismatch_workspace_per_minute = 60
        args.projection_channels, args.idle_schedules = 300, 1000
        args.workspaces, args.workspace_channels, args.per_workspace_per_minute = 3, 40, 30
        args.tick_seconds = args.tick_seconds or 10.0
        args.time_limit = min(args.time_limit, 110.0)
    else:
        args.mismatch_workspace_per_minute = args.workspace_per_minute
    if args.tick_seconds is None:
        from coachbot.scheduler import TICK_SECONDS

        args.tick_seconds = float(TICK_SECONDS)
    args.posts_per_minute = args.posts_per_minute or args.workspace_per_minute
    args.mismatch_channels = args.mismatch_channels or args.channels
    args.mismatch_posts_per_minute = args.mismatch_posts_per_minute or 2 * args.mismatch_workspace_per_minute
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for case in args.cases:
        if case not in ("matched", "two-schedulers", "workspaces", "mismatched", "projection"):
            parser.error(f"unknown case {case!r}")
    for name in ("channels", "workspace_per_minute", "projection_channels", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def floor_seconds(channels: int, per_minute: float) -> float:
    """The fastest the workspace bucket allows: a minute's budget at once, then its rate."""
    return max(0.0, (channels - per_minute) / (per_minute / 60.0))


def paced_seconds(channels: int, posts_per_minute: float) -> float:
    """What coachbot's pacer alone allows: a burst of 95% of a minute's budget, then 95% of its rate."""
    from coachbot.slackapi import PACE_MARGIN

    rate = posts_per_minute * PACE_MARGIN
    burst = max(1, int(posts_per_minute * PACE_MARGIN))
    return max(0.0, (channels - burst) / (rate / 60.0))


# --- the database ----------------------------------------------------------------------


def channel_ids(n: int, prefix: str = "C0FAN") -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(n)]


def joined(slack: Any, channels: list[str]) -> None:
    """The channels as /prep daily leaves them: the bot is a member (it joins when a schedule is set)."""
    for channel in channels:
        slack.add_channel(channel)


def seed_schedules(url: str, team_id: str | list[str], channels: list[str], *, checked_through: datetime) -> float:
    """Migrate, then insert one enabled daily schedule per channel at the slot's time (``team_id``:
    one workspace, or one per channel); returns seconds."""
    from sqlalchemy import insert

    from coachbot.storage.db import Database
    from coachbot.storage.models import Schedule, digest_due, prompt_due

    class Row:
        def __init__(self, values: dict[str, Any]) -> None:
            self.__dict__.update(values, paused_until=None, digest_enabled=True, digest_weekday=4,
                                 digest_time="16:00", digest_checked_through=None)

    teams = team_id if isinstance(team_id, list) else [team_id] * len(channels)
    began = time.monotonic()
    db = Database(url)
    try:
        db.upgrade()
        rows = [{"team_id": team, "channel_id": c, "mode": "technical", "local_time": SLOT.strftime("%H:%M"),
                 "weekdays": "0,1,2,3,4,5,6", "tz": "UTC", "created_by": "U0OWNER", "enabled": True,
                 "checked_through": checked_through, "posted_count": 0, "created_at": checked_through,
                 "updated_at": checked_through} for team, c in zip(teams, channels)]
        for row in rows:  # a bulk insert skips the mapper event that keeps the due instants
            row["next_due"], row["digest_next_due"] = prompt_due(Row(row)), digest_due(Row(row))
        with db.session() as session:
            for start in range(0, len(rows), 1000):
                session.execute(insert(Schedule), rows[start:start + 1000])
    finally:
        db.dispose()
    return time.monotonic() - began


class SqlCounter:
    """Counts statements and commits on every SQLAlchemy engine in this process while active."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "after_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "after_cursor_execute", self._statement)
        event.remove(Engine, "commit", self._commit)

    def _statement(self, *args: Any) -> None:
        with self._lock:
            self.statements += 1

    def _commit(self, *args: Any) -> None:
        with self._lock:
            self.commits += 1


def runtime(slack: Any, url: str, posts_per_minute: int, log_level: str):
    """coachbot's scheduler wiring (``coachbot.cli._runtime``) against the stand-in."""
    from coachbot.cli import _runtime
    from coachbot.config import Config

    config = Config(bot_token=slack.bot_token, signing_secret=SECRET, database_url=url,
                    slack_api_url=slack.api_url, posts_per_minute=posts_per_minute, log_level=log_level)
    return _runtime(config)


# --- one posting case ---------------------------------------------------------------------


def prompt_counts(slack: Any, channels: list[str]) -> list[int]:
    return [sum(1 for m in slack.messages(c) if (m.metadata or {}).get("event_type") == "coachbot_prompt")
            for c in channels]


def posted_rows(url: str) -> Counter[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return Counter({row[0]: int(row[1]) for row in connection.execute(
                text("SELECT status, count(*) FROM prompts GROUP BY status"))})
    finally:
        engine.dispose()


def run_case(args: argparse.Namespace, slack: Any, tmp: Path, *, name: str, channels: int, workspace_per_minute: int,
             posts_per_minute: int, deadline: float) -> dict[str, Any]:
    ids = channel_ids(channels)
    slack.reset()
    slack.set_rate_limits(per_channel_per_second=args.per_channel_per_second,
                          workspace_per_minute=workspace_per_minute)
    entry: dict[str, Any] = {
        "case": name, "channels": channels, "workspace_per_minute": workspace_per_minute,
        "per_channel_per_second": args.per_channel_per_second, "posts_per_minute": posts_per_minute,
        "floor_s": floor_seconds(channels, workspace_per_minute),
        "pacer_alone_s": paced_seconds(channels, posts_per_minute),
        "workers": args.workers,
    }
    with bench_database(args.database_url, tmp / name) as database:
        entry["database"] = database.kind
        joined(slack, ids)
        entry["seed_s"] = seed_schedules(database.url, slack.team_id, ids, checked_through=SLOT - timedelta(minutes=1))
        services, poster = runtime(slack, database.url, posts_per_minute, args.log_level)
        passes = []
        try:
            with SqlCounter() as sql:
                began = time.monotonic()
                now = SLOT
                for number in range(1, args.max_passes + 1):
                    pass_began = time.monotonic()
                    report = services.prompts.send_due(poster, now, workers=args.workers)
                    passes.append({
                        "pass": number, "now": now.isoformat(), "started_s": pass_began - began,
                        "took_s": time.monotonic() - pass_began, "posted": len(report.posted),
                        "recovered": len(report.recovered), "retry_later": len(report.retry_later),
                        "stopped": len(report.stopped), "missed": len(report.missed),
                        "rate_limited_so_far": slack.rate_limited_count,
                    })
                    print(f"{name}: pass {number}: {len(report.posted)} posted, {len(report.retry_later)} to retry "
                          f"in {passes[-1]['took_s']:.1f} s ({slack.rate_limited_count} 429s so far)", file=sys.stderr)
                    if not report.retry_later:
                        break
                    # The scheduler's next tick: ticks are every tick_seconds from the first; one still running
                    # when its successor is due makes that successor skip (max_instances=1).
                    elapsed = time.monotonic() - began
                    next_tick = math.floor(elapsed / args.tick_seconds + 1) * args.tick_seconds
                    if time.monotonic() + (next_tick - elapsed) > deadline - 10:
                        entry["incomplete"] = "time limit reached before the next pass"
                        break
                    time.sleep(max(0.0, next_tick - elapsed))
                    now = SLOT + timedelta(seconds=next_tick)
                wall = time.monotonic() - began
        finally:
            services.db.dispose()
        counts = prompt_counts(slack, ids)
        calls = slack.calls_to("chat.postMessage")
        ok_times = sorted(c.at for c in calls if c.status == 200 and c.error is None)
        statuses = Counter(c.status for c in calls)
        rows = posted_rows(database.url)
    entry.update({
        "passes": passes, "wall_s": wall,
        "ratio_to_floor": (wall / entry["floor_s"]) if entry["floor_s"] > 0 else None,
        "posted_channels": sum(1 for c in counts if c >= 1),
        "duplicates": sum(1 for c in counts if c > 1), "misses": sum(1 for c in counts if c == 0),
        "rate_limited": slack.rate_limited_count,
        "post_calls": len(calls), "post_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "first_to_last_post_s": (ok_times[-1] - ok_times[0]) if len(ok_times) > 1 else 0.0,
        "prompt_rows": dict(rows),
        "sql_statements_per_slot": sql.statements / max(1, channels),
        "sql_commits_per_slot": sql.commits / max(1, channels),
    })
    # The burst (the first minute's budget) and the steady pace after it (over the last quarter of the posts).
    if len(ok_times) > workspace_per_minute:
        entry["burst_s"] = ok_times[workspace_per_minute - 1] - ok_times[0]
    last = ok_times[len(ok_times) * 3 // 4:]
    if len(last) > 1 and last[-1] > last[0]:
        entry["steady_posts_per_s"] = (len(last) - 1) / (last[-1] - last[0])
    entry["goal_met"] = (entry["duplicates"] == 0 and entry["misses"] == 0 and not entry.get("incomplete")
                         and (entry["ratio_to_floor"] is None or entry["ratio_to_floor"] <= GOAL_RATIO))
    return entry


# --- two schedulers, many workspaces --------------------------------------------------------------


def outcome(entry: dict[str, Any], slacks: list[Any], ids: list[list[str]], began: float, wall: float, *,
            from_first_post: bool = False) -> None:
    """Duplicates, misses, 429s and timings over every stand-in, into ``entry``. ``from_first_post``:
    the time judged is from the first post to the last (processes started for the run spend their
    start-up before it; a scheduler process is long-running, so that is not per slot)."""
    counts = [n for slack, chans in zip(slacks, ids) for n in prompt_counts(slack, chans)]
    ok_times = sorted(c.at for slack in slacks for c in slack.calls_to("chat.postMessage")
                      if c.status == 200 and c.error is None)
    if from_first_post:
        entry["process_wall_s"] = wall
        wall = (ok_times[-1] - ok_times[0]) if len(ok_times) > 1 else wall
    entry.update({
        "wall_s": wall, "ratio_to_floor": (wall / entry["floor_s"]) if entry["floor_s"] > 0 else None,
        "posted_channels": sum(1 for c in counts if c >= 1), "duplicates": sum(1 for c in counts if c > 1),
        "misses": sum(1 for c in counts if c == 0), "rate_limited": sum(s.rate_limited_count for s in slacks),
        "first_to_last_post_s": (ok_times[-1] - ok_times[0]) if len(ok_times) > 1 else 0.0,
    })
    entry["goal_met"] = (entry["duplicates"] == 0 and entry["misses"] == 0 and entry["rate_limited"] == 0
                         and not entry.get("incomplete")
                         and (entry["ratio_to_floor"] is None or entry["ratio_to_floor"] <= GOAL_RATIO))


def run_two_schedulers(args: argparse.Namespace, slack: Any, tmp: Path, deadline: float) -> dict[str, Any]:
    """The matched slot posted by two ``coachbot prompts send-due`` processes at once, each paced at
    the whole workspace budget: they share it through the database."""
    channels, budget = args.channels, args.workspace_per_minute
    ids = channel_ids(channels)
    slack.reset()
    slack.set_rate_limits(per_channel_per_second=args.per_channel_per_second, workspace_per_minute=budget)
    entry: dict[str, Any] = {"case": "two-schedulers", "channels": channels, "workspace_per_minute": budget,
                             "posts_per_minute": budget, "floor_s": floor_seconds(channels, budget),
                             "pacer_alone_s": paced_seconds(channels, budget), "processes": 2, "passes": []}
    with bench_database(args.database_url, tmp / "two-schedulers") as database:
        entry["database"] = database.kind
        joined(slack, ids)
        seed_schedules(database.url, slack.team_id, ids, checked_through=SLOT - timedelta(minutes=1))
        env = child_env(slack.api_url, slack.bot_token, database.url, args.log_level)
        env["COACHBOT_POSTS_PER_MINUTE"] = str(budget)
        began = time.monotonic()
        now = SLOT
        for number in range(1, args.max_passes + 1):
            command = [sys.executable, "-m", "coachbot", "prompts", "send-due", "--now", now.isoformat()]
            processes = [subprocess.Popen(command, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True) for _ in range(2)]
            outputs = [p.communicate(timeout=max(10.0, deadline - time.monotonic() - 10)) for p in processes]
            lines = [line for out, _err in outputs for line in out.splitlines()]
            posted = [sum(1 for line in out.splitlines() if line.startswith("posted ")) for out, _err in outputs]
            retry = sum(1 for line in lines if line.startswith("retry later"))
            entry["passes"].append({"pass": number, "posted_per_process": posted, "retry_later": retry,
                                    "exit_codes": [p.returncode for p in processes],
                                    "started_s": 0.0 if number == 1 else time.monotonic() - began})
            print(f"two-schedulers: pass {number}: {posted} posted, {retry} to retry, "
                  f"{slack.rate_limited_count} 429s", file=sys.stderr)
            if not retry:
                break
            elapsed = time.monotonic() - began
            next_tick = math.floor(elapsed / args.tick_seconds + 1) * args.tick_seconds
            time.sleep(max(0.0, next_tick - elapsed))
            now = SLOT + timedelta(seconds=next_tick)
        wall = time.monotonic() - began
        outcome(entry, [slack], [ids], began, wall, from_first_post=True)
    return entry


class RoutedPoster:
    """One scheduler posting to many workspaces: each workspace's calls go to its own Slack (a
    stand-in each here), all paced by one per-workspace pacer kept in the database."""

    def __init__(self, posters: dict[str, Any]) -> None:
        self.posters = posters

    def ready(self, team_id: str) -> None:
        self.posters[team_id].ready(team_id)

    def __getattr__(self, name: str) -> Any:  # post_prompt, find_prompt, post_digest, ...: routed by team
        def routed(team_id: str, *rest: Any, **kw: Any) -> Any:
            return getattr(self.posters[team_id], name)(team_id, *rest, **kw)
        return routed


def run_workspaces(args: argparse.Namespace, tmp: Path, deadline: float) -> dict[str, Any]:
    """``--workspaces`` workspaces, each its own stand-in with its own budget, in one slot."""
    from slack_sdk import WebClient

    from coachbot.slackapi import PostingTeam, SlackPromptPoster, prompt_client, workspace_pacer
    from coachbot.standin.server import StandInSlack

    n, per, budget = args.workspaces, args.workspace_channels, args.per_workspace_per_minute
    entry: dict[str, Any] = {"case": "workspaces", "workspaces": n, "channels": n * per, "channels_per_workspace": per,
                             "workspace_per_minute": budget, "posts_per_minute": budget,
                             "floor_s": floor_seconds(per, budget), "pacer_alone_s": paced_seconds(per, budget),
                             "passes": []}
    with ExitStack() as stack:
        slacks = []
        for j in range(n):
            one = StandInSlack(team_id=f"T0WS{j:03d}").start()
            stack.callback(one.stop)
            one.set_rate_limits(per_channel_per_second=args.per_channel_per_second, workspace_per_minute=budget)
            slacks.append(one)
        ids = [channel_ids(per, f"C0W{j:03d}") for j in range(n)]
        with bench_database(args.database_url, tmp / "workspaces") as database:
            entry["database"] = database.kind
            for one, chans in zip(slacks, ids):
                joined(one, chans)
            # Interleaved, as workspaces set up their channels over time, not one workspace after another.
            order = [(slacks[j].team_id, ids[j][i]) for i in range(per) for j in range(n)]
            seed_schedules(database.url, [t for t, _ in order], [c for _, c in order],
                           checked_through=SLOT - timedelta(minutes=1))
            services, _ = runtime(slacks[0], database.url, budget, args.log_level)
            pacer = workspace_pacer(budget, services.db)
            posting = PostingTeam()
            poster = RoutedPoster({one.team_id: SlackPromptPoster(prompt_client(
                WebClient(token=one.bot_token, base_url=one.api_url), pacer, posting), pacer, posting)
                for one in slacks})
            try:
                began = time.monotonic()
                now = SLOT
                for number in range(1, args.max_passes + 1):
                    report = services.prompts.send_due(poster, now, workers=args.workers)
                    entry["passes"].append({"pass": number, "posted": len(report.posted),
                                            "retry_later": len(report.retry_later)})
                    print(f"workspaces: pass {number}: {len(report.posted)} posted, {len(report.retry_later)} to "
                          f"retry", file=sys.stderr)
                    if not report.retry_later:
                        break
                    elapsed = time.monotonic() - began
                    next_tick = math.floor(elapsed / args.tick_seconds + 1) * args.tick_seconds
                    time.sleep(max(0.0, next_tick - elapsed))
                    now = SLOT + timedelta(seconds=next_tick)
                wall = time.monotonic() - began
            finally:
                services.db.dispose()
            outcome(entry, slacks, ids, began, wall)
            per_ws = []
            for one in slacks:
                times = sorted(c.at for c in one.calls_to("chat.postMessage") if c.status == 200 and c.error is None)
                per_ws.append((times[-1] - times[0]) if len(times) > 1 else 0.0)
            entry["per_workspace_first_to_last_s"] = per_ws
    return entry


# --- projection -------------------------------------------------------------------------------


def run_projection(args: argparse.Namespace, slack: Any, tmp: Path, deadline: float) -> dict[str, Any]:
    """coachbot's own posting rate with no Slack limit, and the cost of an idle tick."""
    entry: dict[str, Any] = {"case": "projection", "channels": args.projection_channels}
    ids = channel_ids(args.projection_channels, "C0PRJ")
    slack.reset()
    slack.set_rate_limits(per_channel_per_second=None, workspace_per_minute=None)
    pace = 1_000_000  # far above anything: the pacer never waits
    with bench_database(args.database_url, tmp / "projection") as database:
        entry["database"] = database.kind
        joined(slack, ids)
        seed_schedules(database.url, slack.team_id, ids, checked_through=SLOT - timedelta(minutes=1))
        env = child_env(slack.api_url, slack.bot_token, database.url, args.log_level)
        env["COACHBOT_POSTS_PER_MINUTE"] = str(pace)
        import resource

        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.monotonic()
        done = subprocess.run(  # noqa: PLW1510 (the exit code is reported, not raised)
            [sys.executable, "-m", "coachbot", "prompts", "send-due", "--now", SLOT.isoformat()],
            env=env, cwd=tmp, capture_output=True, text=True,
            timeout=max(10.0, min(600.0, deadline - time.monotonic() - 30)),
        )
        entry["process_s"] = time.monotonic() - began
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        entry["process_cpu_s"] = (children_after.ru_utime - children_before.ru_utime
                                  + children_after.ru_stime - children_before.ru_stime)
        entry["exit_code"] = done.returncode
        entry["summary_line"] = (done.stdout.strip().splitlines() or [""])[-1]
        if done.returncode != 0:
            entry["stderr_tail"] = done.stderr[-2000:]
        calls = slack.calls_to("chat.postMessage")
        ok_times = sorted(c.at for c in calls if c.status == 200 and c.error is None)
        entry["posted"] = len(ok_times)
        entry["first_to_last_post_s"] = (ok_times[-1] - ok_times[0]) if len(ok_times) > 1 else 0.0
        entry["own_posts_per_s"] = (len(ok_times) - 1) / entry["first_to_last_post_s"] \
            if entry["first_to_last_post_s"] > 0 else None
        counts = prompt_counts(slack, ids)
        entry["duplicates"] = sum(1 for c in counts if c > 1)
        entry["misses"] = sum(1 for c in counts if c == 0)
    print(f"projection: {entry['posted']} posts in {entry['first_to_last_post_s']:.1f} s "
          f"({entry['own_posts_per_s'] or 0:.0f}/s) with no Slack limit", file=sys.stderr)
    # An idle tick: every schedule checked, none due (the state between slots, every tick_seconds).
    if args.idle_schedules > 0 and deadline - time.monotonic() > 30:
        from coachbot.scheduler import tick

        idle_ids = channel_ids(args.idle_schedules, "C0IDL")
        with bench_database(args.database_url, tmp / "idle") as database:
            seed_schedules(database.url, slack.team_id, idle_ids, checked_through=SLOT)
            services, poster = runtime(slack, database.url, pace, args.log_level)
            try:
                with SqlCounter() as sql:
                    began, cpu = time.monotonic(), time.process_time()
                    prompts = services.prompts.send_due(poster, SLOT + timedelta(seconds=30), workers=args.workers)
                    prompts_s, prompts_cpu = time.monotonic() - began, time.process_time() - cpu
                    prompt_sql = sql.statements
                    began, cpu = time.monotonic(), time.process_time()
                    tick(services, poster, SLOT + timedelta(seconds=60))
                    tick_s, tick_cpu = time.monotonic() - began, time.process_time() - cpu
            finally:
                services.db.dispose()
        entry["idle"] = {
            "schedules": args.idle_schedules, "prompts_send_due_s": prompts_s,
            "prompts_sql_statements": prompt_sql, "prompts_posted": len(prompts.posted),
            "tick_s": tick_s, "tick_sql_statements": sql.statements - prompt_sql,
            "prompts_cpu_s": prompts_cpu, "tick_cpu_s": tick_cpu,
            "tick_seconds": args.tick_seconds,
        }
        print(f"projection: idle tick over {args.idle_schedules:,} schedules: prompts {prompts_s:.1f} s, "
              f"prompts + digests {tick_s:.1f} s", file=sys.stderr)
    return entry


def project(entry: dict[str, Any], budgets: list[int], channels: int = PROJECT_TO) -> list[dict[str, Any]]:
    """Wall time for ``channels`` channels at each workspace budget, from the measured inputs."""
    own = entry.get("own_posts_per_s") or 0.0
    idle = entry.get("idle") or {}
    scan_per_schedule = (idle.get("tick_s", 0.0) / idle["schedules"]) if idle.get("schedules") else 0.0
    out = []
    for budget in budgets:
        floor = floor_seconds(channels, budget)
        paced = paced_seconds(channels, budget)
        own_s = channels / own if own else None
        out.append({
            "channels": channels, "budget_per_minute": budget, "floor_s": floor, "paced_s": paced,
            "coachbot_capacity_s": own_s, "projected_s": max(paced, own_s or 0.0),
            "idle_tick_s": scan_per_schedule * channels if scan_per_schedule else None,
        })
    return out


# --- rendering -------------------------------------------------------------------------------


def fmt_s(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def render(report: dict[str, Any]) -> str:
    cfg = report["config"]
    m = cfg["machine"]
    lines = [
        "## Daily fan-out",
        "",
        (f"Database: {cfg['database']}; send_due with {cfg['workers']} posting threads; stand-in limits: "
         f"{cfg['per_channel_per_second']:g} post/s per channel and the workspace budget below (a bucket holding "
         f"one minute's budget); scheduler ticks every {cfg['tick_seconds']:g} s; {m['cpus']} CPUs, load average at "
         f"start {', '.join(str(x) for x in m['load_average_at_start'])}."),
        "",
        ("| case | channels | workspace budget /min | coachbot pace /min | floor s | wall s | ratio | passes | "
         "duplicates | misses | 429s | first minute's budget posted in s | posts/s over the last quarter | "
         "SQL statements / commits per slot |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in report["cases"]:
        if c["case"] in SHARED_CASES:
            continue
        ratio = "n/a (floor 0)" if c["ratio_to_floor"] is None else f"{c['ratio_to_floor']:.2f}"
        steady = c.get("steady_posts_per_s")
        lines.append(
            f"| {c['case']} | {c['channels']:,} | {c['workspace_per_minute']:,} | {c['posts_per_minute']:,} | "
            f"{fmt_s(c['floor_s'])} | {fmt_s(c['wall_s'])} | {ratio} | {len(c['passes'])} | {c['duplicates']} | "
            f"{c['misses']} | {c['rate_limited']:,} | {fmt_s(c.get('burst_s'))} | "
            f"{'n/a' if steady is None else f'{steady:.2f}'} | "
            f"{c['sql_statements_per_slot']:.1f} / {c['sql_commits_per_slot']:.1f} |"
        )
    lines.append("")
    for c in report["cases"]:
        if c["case"] in SHARED_CASES:
            continue
        verdict = ""
        if c["case"] == "matched":
            verdict = (f" Goal (within {GOAL_RATIO}x of the floor, no duplicates, no misses): "
                       f"**{'met' if c['goal_met'] else 'NOT met'}**.")
        per_pass = "; ".join(
            f"pass {p['pass']} at +{p['started_s']:.0f} s: {p['posted']} posted, {p['retry_later']} left to retry, "
            f"took {p['took_s']:.1f} s" for p in c["passes"])
        lines.append(f"- {c['case']}: {per_pass}. Pacer alone would take {fmt_s(c['pacer_alone_s'])} s; first to "
                     f"last post {fmt_s(c['first_to_last_post_s'])} s; chat.postMessage answers "
                     f"{c['post_statuses']}; prompt rows {c['prompt_rows']}.{verdict}"
                     + (f" **Incomplete:** {c['incomplete']}." if c.get("incomplete") else ""))
    shared = [c for c in report["cases"] if c["case"] in ("two-schedulers", "workspaces")]
    if shared:
        lines += ["", ("| case | workspaces x channels | budget /min per workspace | floor s | wall s | ratio | "
                       "duplicates | misses | 429s | verdict (within 1.2x, no duplicate, miss or 429) |"),
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for c in shared:
            shape = f"{c.get('workspaces', 1)} x {c.get('channels_per_workspace', c['channels']):,}"
            ratio = "n/a" if c["ratio_to_floor"] is None else f"{c['ratio_to_floor']:.2f}"
            lines.append(f"| {c['case']} | {shape} | {c['workspace_per_minute']:,} | {fmt_s(c['floor_s'])} | "
                         f"{fmt_s(c['wall_s'])} | {ratio} | {c['duplicates']} | {c['misses']} | {c['rate_limited']} | "
                         f"**{'met' if c['goal_met'] else 'NOT met'}** |")
        for c in shared:
            if c["case"] == "two-schedulers":
                lines.append(f"- two-schedulers: two `coachbot prompts send-due` processes, each paced at the whole "
                             f"budget; passes {c['passes']}; wall s is from the first post to the last; from "
                             f"starting the processes to both exiting {fmt_s(c.get('process_wall_s'))} s "
                             f"(ratio {c.get('process_wall_s', 0) / c['floor_s']:.2f} with their start-up).")
            else:
                per_ws = c.get("per_workspace_first_to_last_s") or []
                lines.append(f"- workspaces: one scheduler, each workspace its own stand-in; passes {c['passes']}; "
                             f"first to last post per workspace {min(per_ws, default=0):.1f}-{max(per_ws, default=0):.1f}"
                             f" s, all workspaces {fmt_s(c['first_to_last_post_s'])} s.")
    proj = next((c for c in report["cases"] if c["case"] == "projection"), None)
    if proj:
        own = proj.get("own_posts_per_s")
        lines += ["", (f"Projection inputs: `coachbot prompts send-due` with no Slack limit posted {proj['posted']:,} "
                       f"prompts to {proj['channels']:,} channels in {fmt_s(proj['first_to_last_post_s'])} s from "
                       f"first to last post (**{'n/a' if own is None else f'{own:.0f}'} posts/s**, coachbot's own "
                       f"ceiling here; process {fmt_s(proj['process_s'])} s incl. start-up, "
                       f"{proj.get('process_cpu_s', 0) * 1000 / max(1, proj['posted']):.1f} ms of its CPU per post; "
                       f"duplicates {proj['duplicates']}, misses {proj['misses']}).")]
        idle = proj.get("idle")
        if idle:
            lines.append(
                f"An idle tick (nothing due) over {idle['schedules']:,} schedules: PromptService.send_due "
                f"{fmt_s(idle['prompts_send_due_s'])} s ({idle['prompts_sql_statements']:,} SQL statements, "
                f"{fmt_s(idle['prompts_cpu_s'])} s of coachbot's CPU); the scheduler's whole tick (prompts + digests) "
                f"{fmt_s(idle['tick_s'])} s ({idle['tick_sql_statements']:,} statements, {fmt_s(idle['tick_cpu_s'])} s "
                f"of CPU), against a tick every {idle['tick_seconds']:g} s.")
        lines += ["", (f"| {PROJECT_TO:,} channels, one slot | floor s | coachbot paced s | coachbot capacity s "
                       "| projected wall s | idle tick s (scaled to these schedules) |"), "|---|---:|---:|---:|---:|---:|"]
        for p in report.get("projection", []):
            lines.append(f"| budget {p['budget_per_minute']:,}/min | {fmt_s(p['floor_s'])} | {fmt_s(p['paced_s'])} | "
                         f"{fmt_s(p['coachbot_capacity_s'])} | {fmt_s(p['projected_s'])} "
                         f"({p['projected_s'] / 60:.1f} min) | {fmt_s(p['idle_tick_s'])} |")
        lines += ["", ("Projected wall = the larger of coachbot's paced time (its pacer runs at 95% of the budget "
                       "after a burst of 95% of a minute's budget) and its own capacity (channels / measured posts/s).")]
    if report.get("incomplete"):
        lines += ["", f"**Incomplete:** {report['incomplete']}"]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import logging

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    began = time.monotonic()
    deadline = began + args.time_limit
    from coachbot.standin.server import StandInSlack

    report: dict[str, Any] = {"benchmark": "fanout", "date": time.strftime("%Y-%m-%d"), "argv": sys.argv[1:]}
    cases: list[dict[str, Any]] = []
    with ExitStack() as stack:
        tmp = stack.enter_context(workdir("coachbot-bench-fanout-"))
        for sub in ("matched", "mismatched", "projection", "idle", "two-schedulers", "workspaces"):
            (tmp / sub).mkdir()
        slack = StandInSlack().start()
        stack.callback(slack.stop)
        report["config"] = {
            "cases": args.cases, "database": "postgresql" if args.database_url else "sqlite",
            "workers": args.workers, "per_channel_per_second": args.per_channel_per_second,
            "tick_seconds": args.tick_seconds, "quick": args.quick, "machine": machine(),
        }
        plan = []
        if "matched" in args.cases:
            plan.append(("matched", args.channels, args.workspace_per_minute, args.posts_per_minute))
        if "mismatched" in args.cases:
            plan.append(("mismatched", args.mismatch_channels, args.mismatch_workspace_per_minute,
                         args.mismatch_posts_per_minute))
        for name, channels, budget, pace in plan:
            expected = max(floor_seconds(channels, budget), paced_seconds(channels, pace))
            if deadline - time.monotonic() < expected + 10:
                report["incomplete"] = f"not enough time left for the {name} case (needs about {expected:.0f} s)"
                break
            cases.append(run_case(args, slack, tmp, name=name, channels=channels, workspace_per_minute=budget,
                                  posts_per_minute=pace, deadline=deadline))
        if "two-schedulers" in args.cases and not report.get("incomplete"):
            cases.append(run_two_schedulers(args, slack, tmp, deadline))
        if "workspaces" in args.cases and not report.get("incomplete"):
            cases.append(run_workspaces(args, tmp, deadline))
        if "projection" in args.cases and not report.get("incomplete"):
            proj = run_projection(args, slack, tmp, deadline)
            cases.append(proj)
            report["projection"] = project(proj, sorted({300, 600, args.workspace_per_minute, 1200}))
    report["cases"] = cases
    report["duration_s"] = time.monotonic() - began
    print(render(report))
    print(f"\n(took {report['duration_s']:.0f} s)", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    posting = [c for c in cases if c["case"] != "projection"]
    ok = not report.get("incomplete") and all(c["duplicates"] == 0 and c["misses"] == 0 for c in posting)
    if any(not c["goal_met"] for c in cases if c["case"] in ("matched", "two-schedulers", "workspaces")):
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
