"""Event ingest: signed reaction_added / reaction_removed deliveries into ``coachbot serve``, then a loss check.

    python -m bench.ingest                  # SQLite: 500 warm-up, 10,000 adds, 2,000 mixed adds/removes
    python -m bench.ingest --quick          # a smoke run, well under 30 s
    python -m bench.ingest --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.ingest --rate 500       # open loop: offer 500 deliveries/s
    python -m bench.ingest --profile        # the same server under cProfile (CPU time per thread): where time goes
    python -m bench.ingest --timing         # cheap per-request timers: app, service, SQL, pool checkout
    python -m bench.ingest --experiment pool  # a candidate app change, patched in memory (see bench.profiled_serve)

Starts a stand-in Slack (in this process) and ``coachbot serve --no-scheduler``
(gunicorn, as deployed; 2 workers by default), seeds a few hundred stored
answers (thread replies to a prompt, shared in their channel) straight into
the database, then a separate load-generator process sends Events API
deliveries from keep-alive clients. coachbot's Events API app processes a
delivery before responding, so a 200 means the reaction is stored.

Every delivery has a unique event id; every reaction_added is a distinct
(user, emoji, answer), so each one must end up as a row (about one in 97 is
the answer's author reacting to their own answer: stored, not counted).
Runs, in order: a warm-up (adds), the measured adds, then a measured mix in
which half the deliveries remove reactions stored by the earlier runs and
half add new ones. Afterwards the database is read back: the reaction rows
must be exactly the acknowledged adds minus the acknowledged removes, and
each answer's ``reaction_count`` must equal its rows from other people.

Goal: at least 500 events/s sustained on PostgreSQL, every delivery
acknowledged 2xx, and no loss.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    LOOPBACK,
    ROOT,
    SECRET,
    ServerProcess,
    _spawn,
    bench_database,
    child_env,
    cpu_seconds,
    free_port,
    job_worker_pids,
    gunicorn_workers,
    machine,
    start_coachbot,
    workdir,
)
from bench.eventload import Delivery, EventLoadGenerator, EventLoadResult, EventLoadSpec
from bench.stats import fmt_ms, summarize

GOAL_EVENTS_PER_S = 500.0
EMOJIS = ("tada", "+1", "fire", "clap", "heart", "rocket", "eyes", "100", "star", "bulb", "muscle", "raised_hands")
SELF_EVERY = 97  # one delivery in this many is the author reacting to their own answer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=10_000, help="reaction_added deliveries in the measured adds run")
    parser.add_argument("--mixed", type=int, default=2_000,
                        help="deliveries in the measured mixed run (half removals of earlier reactions, half adds)")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured reaction_added deliveries first")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (coachbot serve's default is 2)")
    parser.add_argument("--answers", type=int, default=300, help="stored answers the reactions go to")
    parser.add_argument("--channels", type=int, default=10, help="channels the answers are spread over")
    parser.add_argument("--users", type=int, default=2000, help="distinct people reacting")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: offer this many deliveries/s (all clients together) instead of sending back "
                             "to back; latency then counts from when each delivery was due")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to use (a scratch database is made on it and dropped after); "
                             "default: a new SQLite file")
    parser.add_argument("--database-as-is", action="store_true",
                        help="use the database named by --database-url itself instead of a scratch one")
    parser.add_argument("--profile", action="store_true",
                        help="run the server under cProfile (per-thread CPU time) and print where the CPU goes; "
                             "throughput is then lower than without it")
    parser.add_argument("--timing", action="store_true",
                        help="run the server with per-request timers only (wall/CPU inside the app, in the reaction "
                             "service, in SQL), no cProfile: cheap enough to keep the throughput close")
    parser.add_argument("--experiment", action="append", default=[],
                        choices=("one-statement", "pool", "autocommit-engine"),
                        help="run the server with a candidate app change patched in memory (bench.profiled_serve): "
                             "'one-statement' stores a reaction in one PostgreSQL statement (the app has since adopted "
                             "the same approach), 'pool' drops the pre-ping and sizes the PostgreSQL pool to the "
                             "request threads, 'autocommit-engine' gives Database.autocommit its own AUTOCOMMIT "
                             "engine; repeatable")
    parser.add_argument("--profile-top", type=int, default=30, help="functions listed by --profile")
    parser.add_argument("--run-time-limit", type=float, default=240.0, help="seconds allowed per run")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds allowed for the whole benchmark")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the server")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 100 warm-up, 1,000 adds, 400 mixed, short limits (under 30 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.warmup, args.events, args.mixed = 100, 1000, 400
        args.run_time_limit, args.time_limit = 9.0, 28.0
    for name in ("events", "clients", "workers", "answers", "channels", "users"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    return args


# --- the stored answers and the deliveries ----------------------------------------------


def answer_key(n: int, channels: int) -> tuple[str, str]:
    """(channel, message ts) of seeded answer ``n``."""
    return f"C0ING{n % channels:04d}", f"1764000000.{n:06d}"


def author(n: int) -> str:
    return f"UA{n % 50:07d}"


def seed_answers(url: str, team_id: str, answers: int, channels: int) -> float:
    """Migrate, then insert ``answers`` thread-reply answers shared in their channel; returns seconds taken."""
    from coachbot.storage.db import Database
    from coachbot.storage.models import Answer

    began = time.monotonic()
    db = Database(url)
    try:
        db.upgrade()
        now = datetime.now(UTC)
        with db.session() as session:
            for n in range(answers):
                channel, ts = answer_key(n, channels)
                session.add(Answer(
                    team_id=team_id, user_id=author(n), question_id=f"bench-q{n % 40}",
                    question_text="Tell me about a time you disagreed with your team.", track="leadership",
                    category="conflict", text=f"bench answer {n}", source="thread",
                    created_at=now - timedelta(minutes=n), local_day=date.today(), visibility="channel",
                    channel_id=channel, message_ts=ts, thread_ts="1763990000.000100", reaction_count=0,
                ))
    finally:
        db.dispose()
    return time.monotonic() - began


class Plan:
    """Hands out deliveries: new distinct reactions, self-reactions, and removals of stored ones."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.next_other = 0  # index into the (answer, user, emoji) space of reactions by other people
        self.next_self = 0  # index into the (answer, emoji) space of self-reactions
        self.next_event = 0
        self.max_other = args.answers * args.users * len(EMOJIS)
        self.max_self = args.answers * len(EMOJIS)

    def _event_id(self) -> str:
        self.next_event += 1
        return f"Ev0BENCH{self.next_event:09d}"

    def add(self) -> Delivery:
        a = self.args
        total = self.next_other + self.next_self
        if total % SELF_EVERY == SELF_EVERY - 1 and self.next_self < self.max_self:
            s = self.next_self
            self.next_self += 1
            answer, emoji = s % a.answers, EMOJIS[(s // a.answers) % len(EMOJIS)]
            user = author(answer)
        else:
            i = self.next_other
            if i >= self.max_other:
                raise ValueError("more deliveries than distinct reactions: raise --users or --answers")
            self.next_other += 1
            answer = i % a.answers
            rest = i // a.answers
            user, emoji = f"UR{rest % a.users:07d}", EMOJIS[(rest // a.users) % len(EMOJIS)]
        channel, ts = answer_key(answer, a.channels)
        return ("added", user, emoji, channel, ts, self._event_id())

    def remove(self, added: Delivery) -> Delivery:
        _, user, emoji, channel, ts, _ = added
        return ("removed", user, emoji, channel, ts, self._event_id())

    def adds(self, count: int) -> tuple[Delivery, ...]:
        return tuple(self.add() for _ in range(count))

    def mixed(self, count: int, stored: list[Delivery]) -> tuple[Delivery, ...]:
        """Alternating removals (of reactions stored by earlier runs, spread over them) and new adds."""
        removals = min(count // 2, len(stored))
        step = max(1, len(stored) // max(1, removals))
        targets = stored[::step][:removals]
        out: list[Delivery] = []
        for n in range(count):
            if n % 2 == 0 and targets:
                out.append(self.remove(targets.pop()))
            else:
                out.append(self.add())
        return tuple(out)


# --- the server and its database's processes ------------------------------------------------


def start_server(args: argparse.Namespace, *, port: int, slack: Any, database_url: str, cwd: Path,
                 profile_dir: Path | None) -> ServerProcess:
    if profile_dir is None and not args.experiment:
        return start_coachbot(port=port, workers=args.workers, slack_api_url=slack.api_url, bot_token=slack.bot_token,
                              database_url=database_url, cwd=cwd, log_level=args.log_level)
    argv = [sys.executable, "-m", "bench.profiled_serve", "--host", LOOPBACK, "--port", str(port),
            "--workers", str(args.workers), "--out", str(profile_dir or cwd)]
    if not args.profile:
        argv.append("--no-cprofile")
    if profile_dir is None:
        argv.append("--no-timers")
    for name in args.experiment:
        argv += ["--experiment", name]
    env = child_env(slack.api_url, slack.bot_token, database_url, args.log_level)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return _spawn("coachbot-profiled", argv, env, cwd, port)


def pg_database_stats(url: str) -> dict[str, int]:
    """Counters of pg_stat_database for this database: sessions opened, commits, rollbacks."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            row = connection.execute(text(
                "SELECT sessions, xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )).one()
            return {"sessions": int(row[0]), "commits": int(row[1]), "rollbacks": int(row[2])}
    finally:
        engine.dispose()


def pg_backends(url: str) -> list[int]:
    """Pids of the PostgreSQL backends connected to this database (the server's pools), not ours."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [int(pid) for pid in connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalars()]
    finally:
        engine.dispose()


# --- the loss check ------------------------------------------------------------------------


def verify(url: str, team_id: str, runs: list[tuple[tuple[Delivery, ...], EventLoadResult]]) -> dict[str, Any]:
    """Compare the stored reactions with what was acknowledged."""
    from sqlalchemy import create_engine, text

    expected: set[tuple[str, str, str, str]] = set()
    unacked: set[tuple[str, str, str, str]] = set()
    acked_adds = acked_removes = 0
    for deliveries, result in runs:  # in the order they ran; removals only target earlier runs
        acked = set(result.acked)
        for n, (kind, user, emoji, channel, ts, _) in enumerate(deliveries):
            key = (channel, ts, user, emoji)
            if n not in acked:
                unacked.add(key)
            elif kind == "added":
                expected.add(key)
                acked_adds += 1
            else:
                expected.discard(key)
                acked_removes += 1
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT a.channel_id, a.message_ts, r.user_id, r.emoji FROM reactions r "
                "JOIN answers a ON a.id = r.answer_id WHERE r.team_id = :team"), {"team": team_id}).all()
            counts = connection.execute(text(
                "SELECT a.id, a.reaction_count, "
                "(SELECT count(*) FROM reactions r WHERE r.answer_id = a.id AND NOT r.is_self) "
                "FROM answers a WHERE a.team_id = :team"), {"team": team_id}).all()
            self_rows = connection.execute(text(
                "SELECT count(*) FROM reactions WHERE team_id = :team AND is_self"), {"team": team_id}).scalar_one()
            events = connection.execute(text(
                "SELECT count(*) FROM processed_events WHERE team_id = :team"), {"team": team_id}).scalar_one()
    finally:
        engine.dispose()
    stored = {tuple(row) for row in rows}
    missing = expected - stored
    extra = stored - expected
    count_sum = sum(int(c[1]) for c in counts)
    other_rows = sum(int(c[2]) for c in counts)
    expected_other = sum(1 for (_, _, user, _) in expected if not user.startswith("UA"))
    mismatched = sum(1 for c in counts if int(c[1]) != int(c[2]))
    return {
        "acked_adds": acked_adds, "acked_removes": acked_removes,
        "expected_rows": len(expected), "stored_rows": len(stored), "duplicate_rows": len(rows) - len(stored),
        "missing_rows": len(missing), "unexpected_rows": len(extra - unacked),
        "unacked_deliveries": len(unacked),
        "self_rows": int(self_rows),
        "reaction_count_sum": count_sum, "non_self_rows": other_rows, "expected_non_self": expected_other,
        "answers_with_count_mismatch": mismatched, "processed_events": int(events),
        "no_loss": not missing and not (extra - unacked) and len(rows) == len(stored)
                   and count_sum == other_rows == expected_other and mismatched == 0,
    }


# --- profile ---------------------------------------------------------------------------------

GROUPS = (
    ("sqlalchemy", "SQLAlchemy (ORM, Core, pool)"), ("psycopg", "psycopg"), ("sqlite3", "sqlite3"),
    ("slack_bolt", "slack_bolt"), ("slack_sdk", "slack_sdk"), ("gunicorn", "gunicorn"),
    ("/coachbot/", "coachbot"), ("/handlers/", "coachbot handlers"), ("json", "json"),
    ("hmac", "hmac / hashlib"), ("logging", "logging"), ("threading", "threading"),
)


def group_of(filename: str) -> str:
    for needle, label in GROUPS:
        if needle in filename:
            return label
    if filename.startswith("~") or filename == "":
        return "builtins (C)"
    return "other Python"


def summarize_profile(profile_dir: Path, events: int, top: int) -> dict[str, Any]:
    """Merge the workers' profiles: per-group self CPU time, the top functions, and the request timings."""
    files = sorted(profile_dir.glob("worker-*.prof"))
    timings = [json.loads(p.read_text()) for p in sorted(profile_dir.glob("worker-*.json"))]
    requests = sum(t.get("requests", 0) for t in timings)
    result: dict[str, Any] = {"requests_profiled": requests}
    if timings:
        keys = ("wall_s", "cpu_s", "sql_wall_s", "sql_statements", "commit_wall_s", "service_wall_s", "service_cpu_s",
                "checkout_wall_s", "new_connections")
        sums = {k: sum(t.get(k, 0.0) for t in timings) for k in keys}
        result["per_request"] = {k: v / max(1, requests) for k, v in sums.items()}
    if not files:
        if not timings:
            result["error"] = "no profile was written (did the workers exit cleanly?)"
        return result
    stats = pstats.Stats(str(files[0]))
    for extra in files[1:]:
        stats.add(str(extra))
    total = 0.0
    by_group: Counter[str] = Counter()
    rows = []
    for (filename, line, name), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tt
        label = group_of(filename)
        if label == "builtins (C)":
            # Attribute C functions to their callers' group would need the call graph; name the notable ones.
            label = "builtins (C): " + ("socket / select" if any(k in name for k in ("recv", "send", "select", "poll"))
                                        else "other")
        by_group[label] += tt
        rows.append({"function": f"{_short(filename)}:{line}({name})", "calls": nc, "self_s": tt, "cum_s": ct})
    result.update({
        "profiled_cpu_s": total,
        "cpu_ms_per_request_profiled": total * 1000 / max(1, requests),
        "groups": [{"group": g, "self_s": s, "share": s / total if total else 0.0} for g, s in by_group.most_common()],
        "top_self": sorted(rows, key=lambda r: -r["self_s"])[:top],
        "top_cumulative": sorted(rows, key=lambda r: -r["cum_s"])[:top],
    })
    return result


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3", "/coachbot/", "/handlers/"):
        if marker in filename:
            return filename.split(marker, 1)[1] if marker != "/lib/python3" else "stdlib/" + filename.rsplit("/", 1)[-1]
    return filename.rsplit("/", 1)[-1]


# --- rendering -------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    cfg = report["config"]
    lines = [
        "## Event ingest (reaction_added / reaction_removed)",
        "",
        f"Database: {cfg['database']}; {cfg['workers']} gunicorn worker(s) ({cfg['gunicorn']}); {cfg['clients']} "
        f"keep-alive clients " + (f"offering {cfg['rate']:g} deliveries/s (open loop)" if cfg.get("rate")
                                  else "sending back to back (closed loop)")
        + f"; {cfg['answers']} stored answers in {cfg['channels']} channels, {cfg['users']:,} people reacting; "
        f"{cfg['machine']['cpus']} CPUs, load average at start "
        f"{', '.join(str(x) for x in cfg['machine']['load_average_at_start'])}"
        + (" **(profiled: throughput not representative)**" if cfg.get("profile") else "")
        + (f" **Experiment (patched in memory, not the app as it is): {', '.join(cfg['experiment'])}.**"
           if cfg.get("experiment") else "") + ".",
        "",
        ("| run | deliveries | 2xx | non-2xx | failed | events/s | p50 ms | p99 ms | max ms | server CPU ms/event "
         "| PostgreSQL CPU ms/event | load-gen CPU ms/event | PG connections opened | PG transactions/event |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["runs"]:
        pg = r.get("postgres_cpu_ms_per_event")
        st = r.get("postgres_stats_delta")
        opened = "n/a" if not st else f"{max(0, st['sessions'] - 2):,}"  # minus the harness's own two reads
        xacts = "n/a" if not st else f"{(st['commits'] + st['rollbacks']) / max(1, r['ok']):.2f}"
        lines.append(
            f"| {r['run']} | {r['deliveries']:,} | {r['ok']:,} | {r['non_2xx']} | {r['failures']} | "
            f"{r.get('requests_per_s', 0):.0f} | {fmt_ms(r.get('p50_ms'))} | {fmt_ms(r.get('p99_ms'))} | "
            f"{fmt_ms(r.get('max_ms'))} | {r['server_cpu_ms_per_event']:.2f} | "
            f"{'n/a' if pg is None else f'{pg:.2f}'} | {r['loadgen_cpu_ms_per_event']:.2f} | {opened} | {xacts} |"
        )
    measured = [r for r in report["runs"] if r["run"] != "warm-up"]
    v = report.get("verification", {})
    lines.append("")
    if measured:
        rate = report["sustained_events_per_s"]
        all_ok = all(r["non_2xx"] == 0 and r["failures"] == 0 for r in measured)
        not_sent = sum(r["not_sent"] for r in measured)
        lines.append(f"- Sustained over the measured runs: **{rate:.0f} events/s** (goal {GOAL_EVENTS_PER_S:.0f} on "
                     f"PostgreSQL: {'met' if rate >= GOAL_EVENTS_PER_S else 'NOT met'}); every delivery sent was "
                     f"acknowledged 2xx: {'yes' if all_ok else 'NO'}"
                     + (f"; {not_sent:,} deliveries not sent: the run's time limit stopped the clients" if not_sent
                        else "") + ".")
    if measured:
        cpu = sum((r["server_cpu_ms_per_event"] + (r.get("postgres_cpu_ms_per_event") or 0.0)) * r["ok"]
                  for r in measured) / max(1, sum(r["ok"] for r in measured))
        gen = sum(r["loadgen_cpu_ms_per_event"] * r["ok"] for r in measured) / max(1, sum(r["ok"] for r in measured))
        cpus = cfg["machine"]["cpus"] or 1
        lines.append(
            f"- CPU per event over the measured runs: coachbot {cpu:.2f} ms (server"
            + (" + PostgreSQL backends" if cfg["database"] == "postgresql" else "") + f"), load generator {gen:.2f} ms. "
            f"CPU-bound ceiling on {cpus} otherwise idle cores: **{cpus * 1000 / cpu:.0f} events/s** with the "
            f"load generator elsewhere, {cpus * 1000 / (cpu + gen):.0f} with it on the same cores (a bound from "
            f"CPU alone: it ignores lock and I/O waits, and other processes' load)."
            + (f" PostgreSQL's CPU is undercounted here: {gone} backends exited during the measured runs "
               f"(connections opened and closed by the pool) and their CPU is not in the figure."
               if (gone := sum(r.get("postgres_backends_gone_during_run") or 0 for r in measured)) else ""))
    if v:
        lines.append(
            f"- Loss check: {v['acked_adds']:,} adds and {v['acked_removes']:,} removals acknowledged; "
            f"expected {v['expected_rows']:,} reaction rows, stored {v['stored_rows']:,} (missing {v['missing_rows']}, "
            f"unexpected {v['unexpected_rows']}, duplicates {v['duplicate_rows']}); sum of answers.reaction_count "
            f"{v['reaction_count_sum']:,} = rows from other people {v['non_self_rows']:,} (expected "
            f"{v['expected_non_self']:,}; {v['self_rows']} self-reactions stored, not counted); answers whose count "
            f"disagrees with their rows: {v['answers_with_count_mismatch']}. "
            f"**{'No loss' if v['no_loss'] else 'LOSS OR MISMATCH'}.**")
    prof = report.get("profile")
    if prof:
        if "groups" in prof:
            lines += ["", (f"Profile: {prof['requests_profiled']:,} requests, "
                           f"{prof['cpu_ms_per_request_profiled']:.2f} ms of profiled CPU per request (cProfile's own "
                           "overhead inflates this)."), ""]
        else:
            lines += ["", f"Timers: {prof['requests_profiled']:,} requests.", ""]
        if "per_request" in prof:
            p = prof["per_request"]
            lines += ["| per request (means) | value |", "|---|---:|",
                      f"| wall time in the WSGI app | {p['wall_s'] * 1000:.2f} ms |",
                      f"| CPU time of the handling thread | {p['cpu_s'] * 1000:.2f} ms |",
                      f"| wall time in ReactionService.added/removed | {p['service_wall_s'] * 1000:.2f} ms |",
                      f"| CPU time in ReactionService.added/removed | {p['service_cpu_s'] * 1000:.2f} ms |",
                      f"| SQL statements | {p['sql_statements']:.2f} |",
                      f"| wall time in cursor.execute | {p['sql_wall_s'] * 1000:.2f} ms |",
                      f"| wall time in COMMIT | {p['commit_wall_s'] * 1000:.2f} ms |",
                      (f"| wall time getting a pooled connection (incl. pre-ping, new connections) | "
                       f"{p.get('checkout_wall_s', 0.0) * 1000:.2f} ms |"),
                      f"| new database connections per 1,000 requests | {p.get('new_connections', 0.0) * 1000:.1f} |",
                      ""]
        if "groups" in prof:
            lines += ["| group (self CPU time) | share |", "|---|---:|"]
            for g in prof["groups"][:14]:
                lines.append(f"| {g['group']} | {g['share'] * 100:.1f}% |")
            lines += ["", "| function (top by cumulative CPU) | calls | cumulative s | self s |", "|---|---:|---:|---:|"]
            for row in prof["top_cumulative"]:
                lines.append(f"| `{row['function']}` | {row['calls']:,} | {row['cum_s']:.2f} | {row['self_s']:.2f} |")
    if report.get("incomplete"):
        lines += ["", f"**Incomplete:** {report['incomplete']}"]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    deadline = began + args.time_limit
    from coachbot.standin.server import StandInSlack

    report: dict[str, Any] = {"benchmark": "ingest", "date": time.strftime("%Y-%m-%d"), "argv": sys.argv[1:]}
    runs: list[dict[str, Any]] = []
    sent: list[tuple[tuple[Delivery, ...], EventLoadResult]] = []
    with ExitStack() as stack:
        tmp = stack.enter_context(workdir("coachbot-bench-ingest-"))
        slack = StandInSlack().start()
        stack.callback(slack.stop)
        database = stack.enter_context(bench_database(args.database_url, tmp, as_is=args.database_as_is))
        seeded = seed_answers(database.url, slack.team_id, args.answers, args.channels)
        print(f"seeded {args.answers} answers in {seeded:.1f} s", file=sys.stderr)
        port = free_port()
        profile_dir = None
        if args.profile or args.timing:
            profile_dir = tmp / "profile"
            profile_dir.mkdir()
        server = start_server(args, port=port, slack=slack, database_url=database.url, cwd=tmp,
                              profile_dir=profile_dir)
        stack.callback(server.stop)
        server.wait_healthy(timeout=min(60.0, max(1.0, deadline - time.monotonic())))
        workers = gunicorn_workers(server.pid, args.workers)
        print(f"server up after {time.monotonic() - began:.1f} s", file=sys.stderr)
        loadgen = stack.enter_context(EventLoadGenerator())
        report["config"] = {
            "events": args.events, "mixed": args.mixed, "warmup": args.warmup, "clients": args.clients,
            "workers": args.workers, "answers": args.answers, "channels": args.channels, "users": args.users,
            "rate": args.rate, "database": database.kind, "quick": args.quick, "profile": args.profile,
            "timing": args.timing, "experiment": args.experiment,
            "gunicorn": "gthread, 8 threads (coachbot.server.run_gunicorn)", "machine": machine(),
        }
        plan = Plan(args)
        stored: list[Delivery] = []
        schedule = [("warm-up", args.warmup), ("adds", args.events), ("mixed", args.mixed)]
        for label, count in schedule:
            if count <= 0:
                continue
            remaining = deadline - time.monotonic()
            if remaining < 6:
                report["incomplete"] = f"time limit reached before the {label} run"
                break
            deliveries = plan.adds(count) if label != "mixed" else plan.mixed(count, stored)
            spec = EventLoadSpec(port=port, signing_secret=SECRET, team_id=slack.team_id, deliveries=deliveries,
                                 clients=args.clients, rate=args.rate,
                                 time_limit=max(1.0, min(args.run_time_limit, remaining - 5)))
            pg_pids = pg_backends(database.url) if database.kind == "postgresql" else []
            pg0 = {pid: cpu_seconds([pid]) for pid in pg_pids}
            pgstat0 = pg_database_stats(database.url) if database.kind == "postgresql" else None
            pids = [server.pid, *workers, *job_worker_pids(server.pid)]  # the job worker is coachbot's too
            cpu0 = cpu_seconds(pids)
            result = loadgen.run(spec)
            cpu1 = cpu_seconds(pids)
            pg_cpu = None
            pgstat = None
            pg_lost = 0
            if database.kind == "postgresql":
                # CPU of the backends alive at the end (those that appeared during the run count
                # from zero); backends that exited during the run are not counted (see sessions).
                pg_after = pg_backends(database.url)
                # The statistics collector flushes about once a second (and at backend exit).
                time.sleep(1.1)
                pgstat1 = pg_database_stats(database.url)
                # Our own two connections (the stats reads) are in the counters too.
                pgstat = {k: pgstat1[k] - pgstat0[k] for k in pgstat1} if pgstat0 else None
                pg_cpu = sum(cpu_seconds([pid]) - pg0.get(pid, 0.0) for pid in pg_after)
                pg_lost = len(set(pg_pids) - set(pg_after))
            server.check_alive()
            sent.append((deliveries, result))
            acked = set(result.acked)
            stored.extend(d for n, d in enumerate(deliveries) if d[0] == "added" and n in acked)
            ok = max(result.ok, 1)
            entry = {
                "run": label, "deliveries": len(deliveries), "ok": result.ok,
                "non_2xx": sum(v for k, v in result.statuses.items() if not 200 <= k < 300),
                "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
                "failures": result.failures, "not_sent": result.not_sent, "timed_out": result.timed_out,
                "reconnects": result.reconnects, "elapsed_s": result.elapsed,
                **summarize(result.latencies, result.elapsed),
                "server_cpu_ms_per_event": (cpu1 - cpu0) * 1000 / ok,
                "postgres_cpu_ms_per_event": None if pg_cpu is None else pg_cpu * 1000 / ok,
                "postgres_backends": len(pg_pids),
                "postgres_stats_delta": pgstat,
                "postgres_backends_gone_during_run": pg_lost,
                "loadgen_cpu_ms_per_event": result.cpu_seconds * 1000 / ok,
                "kinds": dict(Counter(d[0] for d in deliveries)),
            }
            if result.first_error:
                entry["first_error"] = result.first_error
            runs.append(entry)
            print(f"{label:>8}: {result.ok}/{len(deliveries)} 2xx, {entry.get('requests_per_s', 0):.0f} events/s, "
                  f"p50 {fmt_ms(entry.get('p50_ms'))} ms, p99 {fmt_ms(entry.get('p99_ms'))} ms, server CPU "
                  f"{entry['server_cpu_ms_per_event']:.2f} ms/event", file=sys.stderr)
        report["verification"] = verify(database.url, slack.team_id, sent)
        # Stop the server here (not at the stack's end) so profiled workers write their profiles first.
        server.stop()
        if profile_dir is not None:
            report["profile"] = summarize_profile(profile_dir, sum(r["ok"] for r in runs), args.profile_top)
    measured = [r for r in runs if r["run"] != "warm-up"]
    total_ok = sum(r["ok"] for r in measured)
    total_elapsed = sum(r["elapsed_s"] for r in measured)
    report["sustained_events_per_s"] = total_ok / total_elapsed if total_elapsed else 0.0
    report["runs"] = runs
    report["duration_s"] = time.monotonic() - began
    print(render(report))
    print(f"\n(took {report['duration_s']:.0f} s)", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    v = report["verification"]
    ok = (not report.get("incomplete") and v.get("no_loss")
          and all(r["non_2xx"] == 0 and r["failures"] == 0 for r in measured))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
