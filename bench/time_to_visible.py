"""Time to visible card: from sending a signed ``/prep leadership`` to the person seeing the card.

    python -m bench.time_to_visible                       # PostgreSQL on 127.0.0.1, 50/200/400 per s, 10 s each
    python -m bench.time_to_visible --rates 200 --seconds 20
    python -m bench.time_to_visible --quick               # a smoke run

The moment a person sees the card is the ack's arrival when the ack carries it, else the card's
``response_url`` POST reaching the stand-in Slack. Three servers, each under the gunicorn settings
of ``coachbot serve``, in one run on the same PostgreSQL, offered the same open-loop load (a
request's time counts from when it was due, so a server that falls behind is charged for it):

- ``card``: a bare Bolt app that answers a fixed card in its ack (the floor of the HTTP path);
- ``plain``: a plain Bolt app doing the least database work a card needs (one indexed query for
  a question the person has not seen, one insert to remember it) and answering in its ack (the
  floor for this work);
- ``coachbot``: ``coachbot serve --no-scheduler`` as deployed (with its job worker).

Rates run low to high; at each rate the servers take turns (card, plain, coachbot), each with
people it has not seen (so every card needs a new question). CPU per command is the server's
processes plus the PostgreSQL backends serving its database (read from /proc at the end of each
turn; the machine is shared, so these are noisy and ratios matter more than milliseconds).

Goal at 200/s: coachbot's p99 within 1.5x of the plain app's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from typing import Any

from bench.common import (
    SECRET,
    bench_database,
    cpu_seconds,
    free_port,
    gunicorn_workers,
    job_worker_pids,
    machine,
    start_bare,
    start_coachbot,
    workdir,
)
from bench.loadgen import LoadGenerator, LoadSpec, issue_requests
from bench.stats import fmt_ms, summarize

CHANNEL = "C0BENCH"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
GOAL_RATIO = 1.5
SERVERS = ("card", "plain", "coachbot")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.time_to_visible", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="a PostgreSQL server (a scratch database is made)")
    parser.add_argument("--rates", default="50,200,400", help="requests per second, comma separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per server and rate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=64, help="connections of the load generator")
    parser.add_argument("--reply-wait", type=float, default=30.0, help="seconds to wait for deferred cards")
    parser.add_argument("--quick", action="store_true", help="one rate (50/s) for 3 s")
    parser.add_argument("--json", action="store_true", help="print the report as JSON too")
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.seconds = "50", 3.0
    args.rate_list = [float(r) for r in args.rates.split(",") if r.strip()]
    return args


def prepare_plain(url: str) -> None:
    """The plain app's tables: the leadership questions, and who has seen which."""
    from sqlalchemy import create_engine, text

    from coachbot.bank import load_bank

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_plain_questions (id text PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE bench_plain_seen (user_id text, question_id text, "
                                "PRIMARY KEY (user_id, question_id))"))
        for question in load_bank():
            if question.track == "leadership":
                connection.execute(text("INSERT INTO bench_plain_questions VALUES (:id)"), {"id": question.id})
    engine.dispose()


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to this database now (their CPU is the command's too)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [int(p) for p in connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                .scalars()]
    finally:
        engine.dispose()


def one_turn(name: str, server: Any, slack: Any, generator: LoadGenerator, url: str, rate: float,
             seconds: float, clients: int, offset: int, reply_wait: float) -> dict[str, Any]:
    count = int(rate * seconds)
    requests = issue_requests(slack, count, users=count, channel_id=CHANNEL, offset=offset)
    pids = [server.pid, *gunicorn_workers(server.pid, 1), *job_worker_pids(server.pid, timeout=0.0)]
    pg_before = {pid: cpu_seconds([pid]) for pid in backend_pids(url)}
    cpu_before = cpu_seconds(pids)
    posts_before = len(slack.response_posts())
    result = generator.run(LoadSpec(port=server.port, signing_secret=SECRET, team_id=slack.team_id,
                                    channel_id=CHANNEL, text="leadership", requests=requests, clients=clients,
                                    rate=rate, time_limit=seconds * 3 + 30))
    deferred = {u for u in result.due_wall if u not in result.carried}
    deadline = time.monotonic() + reply_wait
    while time.monotonic() < deadline:
        got = {p.url for p in slack.response_posts()[posts_before:]}
        if deferred <= got:
            break
        time.sleep(0.1)
    posts = [p for p in slack.response_posts()[posts_before:] if p.url in result.due_wall]
    by_url: dict[str, float] = {}
    duplicates = 0
    for post in posts:
        if post.url in by_url:
            duplicates += 1
        by_url.setdefault(post.url, post.at)
    # Seen at the ack when it carries the card, else when the card's POST reached the stand-in.
    visible = [result.latency_by_url[u] for u in result.carried]
    visible += [by_url[u] - result.due_wall[u] for u in deferred if u in by_url]
    pg_after = {pid: cpu_seconds([pid]) for pid in backend_pids(url)}
    pg_cpu = sum(pg_after[pid] - pg_before.get(pid, 0.0) for pid in pg_after)
    app_cpu = cpu_seconds(pids) - cpu_before
    return {
        "server": name, "rate": rate, "sent": result.sent, "ok": result.ok, "statuses": result.statuses,
        "in_ack": len(result.carried), "deferred": len(deferred), "deferred_arrived": len(deferred & set(by_url)),
        "duplicates": duplicates, "visible": summarize(visible), "acks": summarize(result.latencies),
        "app_cpu_ms_per_command": 1000 * app_cpu / max(1, result.ok),
        "pg_cpu_ms_per_command": 1000 * pg_cpu / max(1, result.ok),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from coachbot.standin.server import StandInSlack

    report: dict[str, Any] = {"machine": machine(), "rates": args.rate_list, "seconds": args.seconds,
                              "workers": args.workers, "turns": []}
    with ExitStack() as stack:
        folder = stack.enter_context(workdir("coachbot-ttv-"))
        database = stack.enter_context(bench_database(args.database_url, folder))
        from coachbot.storage.db import Database

        db = Database(database.url)
        db.upgrade()
        db.dispose()
        prepare_plain(database.url)
        psycopg_url = "postgresql://" + database.url.split("://", 1)[1]
        slack = stack.enter_context(StandInSlack())
        slack.add_channel(CHANNEL)
        common = dict(workers=args.workers, slack_api_url=slack.api_url, bot_token=slack.bot_token, cwd=folder)
        servers = {
            "card": start_bare(port=free_port(), mode="card", name="card", **common),
            "plain": start_bare(port=free_port(), mode="plain", database_url=psycopg_url, name="plain", **common),
            "coachbot": start_coachbot(port=free_port(), database_url=database.url, **common),
        }
        for server in servers.values():
            stack.callback(server.stop)
        for server in servers.values():
            server.wait_healthy()
        generator = stack.enter_context(LoadGenerator())
        offset = 0
        for name, server in servers.items():  # warm-up: every worker's imports, pools and first queries
            one_turn(name, server, slack, generator, database.url, 20, 2, args.clients, offset, args.reply_wait)
            offset += 40
        for rate in args.rate_list:
            for name in SERVERS:
                turn = one_turn(name, servers[name], slack, generator, database.url, rate, args.seconds,
                                args.clients, offset, args.reply_wait)
                offset += int(rate * args.seconds)
                report["turns"].append(turn)
                print(summary(turn), file=sys.stderr, flush=True)
    return report


def summary(t: dict[str, Any]) -> str:
    v = t["visible"]
    return (f"{t['server']:>8} at {t['rate']:g}/s: visible p50 {fmt_ms(v.get('p50_ms'))} ms, p99 "
            f"{fmt_ms(v.get('p99_ms'))} ms, max {fmt_ms(v.get('max_ms'))} ms; {t['in_ack']}/{t['ok']} in the ack, "
            f"{t['deferred_arrived']}/{t['deferred']} deferred arrived, {t['duplicates']} twice; CPU/command app "
            f"{t['app_cpu_ms_per_command']:.2f} ms + PostgreSQL {t['pg_cpu_ms_per_command']:.2f} ms")


def render(report: dict[str, Any]) -> str:
    lines = ["| rate | server | p50 ms | p99 ms | max ms | in ack | deferred (arrived) | twice | CPU ms/command (app + PostgreSQL) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for t in report["turns"]:
        v = t["visible"]
        lines.append(f"| {t['rate']:g}/s | {t['server']} | {fmt_ms(v.get('p50_ms'))} | {fmt_ms(v.get('p99_ms'))} | "
                     f"{fmt_ms(v.get('max_ms'))} | {t['in_ack']}/{t['ok']} | {t['deferred']} ({t['deferred_arrived']}) | "
                     f"{t['duplicates']} | {t['app_cpu_ms_per_command']:.2f} + {t['pg_cpu_ms_per_command']:.2f} |")
    by = {(t["rate"], t["server"]): t for t in report["turns"]}
    for rate in report["rates"]:
        c, p, k = by.get((rate, "card")), by.get((rate, "plain")), by.get((rate, "coachbot"))
        if c and p and k and p["visible"].get("p99_ms") and c["visible"].get("p99_ms"):
            ratio_plain = k["visible"]["p99_ms"] / p["visible"]["p99_ms"]
            ratio_card = k["visible"]["p99_ms"] / c["visible"]["p99_ms"]
            goal = f" (goal at 200/s: <= {GOAL_RATIO}x: {'met' if ratio_plain <= GOAL_RATIO else 'not met'})" \
                if rate == 200 else ""
            lines.append(f"\nAt {rate:g}/s coachbot's p99 is {ratio_plain:.2f}x the plain app's and "
                         f"{ratio_card:.2f}x the fixed-card app's{goal}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    print(render(report))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
