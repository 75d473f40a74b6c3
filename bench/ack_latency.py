"""Slash-command ack latency: coachbot versus a bare Bolt app, under the same gunicorn settings.

    python -m bench.ack_latency                 # SQLite, 2,000 requests x 3 rounds per server
    python -m bench.ack_latency --quick         # a smoke run, well under 30 s
    python -m bench.ack_latency --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.ack_latency --rate 50       # open loop: both servers offered the same 50 requests/s

Starts a stand-in Slack (in this process), ``coachbot serve --no-scheduler``
and a bare Bolt app whose ``/prep`` only acks (``bench.bare_app``), both on
gunicorn with the options of ``coachbot.server.run_gunicorn``. A separate
load-generator process sends signed ``/prep leadership`` slash commands,
each with a fresh response_url, from keep-alive clients and times each
request to its HTTP 200 (by default back to back, which drives each server
at its own saturation throughput; ``--rate`` offers both the same load
instead). Runs alternate bare, coachbot, bare, coachbot... after
a warm-up of each. After each coachbot run it waits (bounded) until every
deferred reply has reached the stand-in, so that work does not spill into
the next run; the time from request to reply is reported too.

Goal: coachbot's p99 within 1.25x of the bare app's, and far inside Slack's 3 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.common import (
    SECRET,
    ServerProcess,
    bench_database,
    coachbot_gunicorn_options,
    cpu_seconds,
    free_port,
    after_ack_pids,
    gunicorn_workers,
    machine,
    start_bare,
    start_coachbot,
    workdir,
)
from bench.loadgen import LoadGenerator, LoadResult, LoadSpec, issue_requests
from bench.stats import fmt_ms, median, summarize

CHANNEL = "C0BENCH"
TEXT = "leadership"
SLACK_LIMIT_MS = 3000.0
GOAL_RATIO = 1.25
NAMES = {"bare": "bare Bolt", "coachbot": "coachbot"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ack_latency", description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per measured run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per server (alternating)")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured requests per server before the rounds")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers per server (coachbot serve's default is 2)")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to use (a scratch database is made on it and dropped after); "
                             "default: a new SQLite file")
    parser.add_argument("--database-as-is", action="store_true",
                        help="use the database named by --database-url itself instead of a scratch one")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: offer this many requests/s (all clients together) instead of sending "
                             "back to back; latency then counts from when each request was due")
    parser.add_argument("--users", type=int, default=1000, help="distinct Slack users the requests cycle through")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of quiet between runs")
    parser.add_argument("--idle-burner", action="store_true",
                        help="a diagnostic: run a process that only burns CPU, at the after-ack process's priority "
                             "(nice 19), beside both servers for every run, to show what work at that "
                             "priority costs the acks on this machine")
    parser.add_argument("--hold-replies", action="store_true",
                        help="a diagnostic: stop coachbot's after-ack process (SIGSTOP) during each coachbot run and "
                             "let it go (SIGCONT) after, so the acks are measured without the replies' work beside "
                             "them; the replies still all arrive, later")
    parser.add_argument("--run-time-limit", type=float, default=180.0, help="seconds allowed per run")
    parser.add_argument("--drain-timeout", type=float, default=60.0,
                        help="seconds to wait for coachbot's deferred replies after a run")
    parser.add_argument("--time-limit", type=float, default=1500.0, help="seconds allowed for the whole benchmark")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of both servers")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 300 requests x 3 rounds, 50 warm-up, short limits (under 30 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.rounds, args.warmup = 300, 3, 50
        args.pause, args.run_time_limit, args.drain_timeout, args.time_limit = 0.2, 8.0, 8.0, 28.0
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    for name in ("requests", "clients", "rounds", "workers", "users"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


class Bench:
    def __init__(self, args: argparse.Namespace, slack: Any, servers: dict[str, ServerProcess],
                 loadgen: LoadGenerator, deadline: float) -> None:
        self.args = args
        self.slack = slack
        self.servers = servers
        self.loadgen = loadgen
        self.deadline = deadline
        self.issued = 0
        self.workers = {name: gunicorn_workers(server.pid, args.workers) for name, server in servers.items()}
        self.after_ack = {name: after_ack_pids(server.pid, timeout=5.0 if name == "coachbot" else 0.0)
                          for name, server in servers.items()}

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, name: str, count: int, label: str) -> dict[str, Any]:
        server = self.servers[name]
        server.check_alive()
        self.slack.reset()  # forget the last run's messages; keeps the stand-in's state small
        requests = issue_requests(self.slack, count, users=self.args.users, channel_id=CHANNEL, offset=self.issued)
        self.issued += count
        spec = LoadSpec(
            port=server.port, signing_secret=SECRET, team_id=self.slack.team_id, channel_id=CHANNEL, text=TEXT,
            requests=requests, clients=self.args.clients,
            time_limit=max(1.0, min(self.args.run_time_limit, self.remaining() - 5)), rate=self.args.rate,
        )
        # The server's processes: master, web workers and (coachbot) the after-ack process.
        pids = [server.pid, *self.workers[name], *self.after_ack[name]]
        held = self.after_ack[name] if self.args.hold_replies else []
        for pid in held:
            os.kill(pid, signal.SIGSTOP)
        cpu_before, own_before = cpu_seconds(pids), time.process_time()
        try:
            result = self.loadgen.run(spec)
        finally:
            for pid in held:
                os.kill(pid, signal.SIGCONT)
        cpu_acked, own_acked = cpu_seconds(pids), time.process_time()
        server.check_alive()
        entry: dict[str, Any] = {
            "run": label, "server": name, **summarize(result.latencies, result.elapsed),
            "sent": result.sent, "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
            "failures": result.failures, "reconnects": result.reconnects, "timed_out": result.timed_out,
            "elapsed_s": result.elapsed, "loadgen_cpu_share": result.cpu_seconds / result.elapsed if result.elapsed else None,
            "server_cpu_ms_per_request_during_run": (cpu_acked - cpu_before) * 1000 / max(result.ok, 1),
            "standin_cpu_s_during_run": own_acked - own_before,
        }
        if result.first_error:
            entry["first_error"] = result.first_error
        if name == "coachbot":
            entry["replies"] = self.drain(result)
            entry["server_cpu_ms_per_request_with_replies"] = (cpu_seconds(pids) - cpu_before) * 1000 / max(result.ok, 1)
        entry["_latencies"] = result.latencies
        return entry

    def drain(self, result: LoadResult) -> dict[str, Any]:
        """Wait (bounded) for every deferred reply, then time request -> reply."""
        expected = result.ok
        timeout = max(1.0, min(self.args.drain_timeout, self.remaining() - 3))
        try:
            self.slack.wait_for(lambda: len(self.slack.response_posts()) >= expected or None, timeout)
        except AssertionError:
            pass
        posts = self.slack.response_posts()
        delays = [post.at - result.sent_wall[post.url] for post in posts if post.url in result.sent_wall]
        cards = sum(1 for post in posts if "answer_open" in json.dumps(post.body))
        summary = summarize(delays)
        return {"expected": expected, "delivered": len(posts), "question_cards": cards,
                **{f"reply_{k}": v for k, v in summary.items() if k.endswith("_ms")}}


def aggregate(runs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    mine = [r for r in runs if r["server"] == name]
    latencies = [x for r in mine for x in r["_latencies"]]
    elapsed = sum(r["elapsed_s"] for r in mine)
    summary = summarize(latencies, elapsed)
    summary["runs"] = len(mine)
    summary["non_200"] = sum(v for r in mine for k, v in r["statuses"].items() if k != "200") + sum(
        r["failures"] for r in mine)
    summary["timed_out_runs"] = sum(1 for r in mine if r["timed_out"])
    if mine:
        summary["median_run_p99_ms"] = median([r["p99_ms"] for r in mine if r.get("count")]) if any(
            r.get("count") for r in mine) else None
        summary["server_cpu_ms_per_request"] = median([r["server_cpu_ms_per_request_during_run"] for r in mine])
    if name == "coachbot" and mine:
        replies = [r["replies"] for r in mine]
        summary["replies_expected"] = sum(r["expected"] for r in replies)
        summary["replies_delivered"] = sum(r["delivered"] for r in replies)
        summary["question_cards"] = sum(r["question_cards"] for r in replies)
        summary["reply_p50_ms_median_run"] = median([r.get("reply_p50_ms", 0.0) for r in replies])
        summary["reply_p99_ms_median_run"] = median([r.get("reply_p99_ms", 0.0) for r in replies])
        summary["server_cpu_ms_per_request_with_replies"] = median(
            [r["server_cpu_ms_per_request_with_replies"] for r in mine])
    return summary


def burn_at_idle_priority(seconds: float) -> None:
    """Spin on the CPU at the after-ack process's priority until terminated (or ``seconds`` pass)."""
    from coachbot.afterack import lower_priority

    lower_priority()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(10_000))


def render(report: dict[str, Any]) -> str:
    cfg, summaries, runs = report["config"], report["summary"], report["runs"]
    lines = [
        "## Slash-command ack latency (`/prep leadership`)",
        "",
        f"{cfg['requests']:,} requests per run, {cfg['clients']} keep-alive clients "
        + (f"offering {cfg['rate']:g} requests/s (open loop), " if cfg.get("rate") else "sending back to back (closed loop), ")
        + f"{cfg['rounds']} rounds "
        f"alternating bare/coachbot after {cfg['warmup']:,} warm-up requests each; gunicorn "
        f"{cfg['gunicorn']['worker_class']}, {cfg['gunicorn']['threads']} threads, {cfg['workers']} worker(s) per "
        f"server; database: {cfg['database']}; {cfg['machine']['cpus']} CPUs, load average at start "
        f"{', '.join(str(x) for x in cfg['machine']['load_average_at_start'])}."
        + (" **Diagnostic (--hold-replies):** coachbot's after-ack process was stopped during its runs, so its "
           "acks were measured without the replies' work beside them." if cfg.get("hold_replies") else "")
        + (" **Diagnostic (--idle-burner):** a process burning CPU at the after-ack process's priority ran beside "
           "both servers in every run." if cfg.get("idle_burner") else ""),
        "",
        "| server | runs | requests | p50 ms | p99 ms | max ms | req/s | non-200 | server CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("bare", "coachbot"):
        s = summaries[name]
        cpu = fmt_ms(s.get("server_cpu_ms_per_request"))
        if name == "coachbot" and s.get("server_cpu_ms_per_request_with_replies") is not None:
            cpu += f" ({fmt_ms(s['server_cpu_ms_per_request_with_replies'])} with replies)"
        lines.append(
            f"| {NAMES[name]} | {s.get('runs', 0)} | {s.get('count', 0):,} | {fmt_ms(s.get('p50_ms'))} | "
            f"{fmt_ms(s.get('p99_ms'))} | {fmt_ms(s.get('max_ms'))} | {s.get('requests_per_s', 0):.0f} | "
            f"{s.get('non_200', 0)} | {cpu} |"
        )
    ratio = report.get("p99_ratio")
    lines.append("")
    if ratio is not None:
        verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
        lines.append(f"- p99 ratio coachbot/bare (all measured requests pooled): **{ratio:.2f}** "
                     f"(goal at most {GOAL_RATIO}: {verdict}); per round: "
                     + ", ".join(f"{x:.2f}" for x in report["p99_ratio_per_round"]) + ".")
    coach = summaries["coachbot"]
    if coach.get("max_ms") is not None:
        lines.append(f"- coachbot's slowest ack: {fmt_ms(coach['max_ms'])} ms; Slack's limit is "
                     f"{SLACK_LIMIT_MS:.0f} ms ({'inside' if coach['max_ms'] < SLACK_LIMIT_MS else 'OVER'}).")
    if coach.get("replies_expected") is not None:
        lines.append(
            f"- coachbot's deferred replies (request sent -> response_url post at the stand-in): "
            f"{coach['replies_delivered']:,}/{coach['replies_expected']:,} delivered, "
            f"{coach['question_cards']:,} question cards; median over runs of p50 "
            f"{fmt_ms(coach['reply_p50_ms_median_run'])} ms, of p99 {fmt_ms(coach['reply_p99_ms_median_run'])} ms."
        )
    lines += ["", "| run | server | p50 ms | p99 ms | max ms | req/s | load-gen CPU share |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(
            f"| {r['run']} | {NAMES[r['server']]} | {fmt_ms(r.get('p50_ms'))} | {fmt_ms(r.get('p99_ms'))} | "
            f"{fmt_ms(r.get('max_ms'))} | {r.get('requests_per_s', 0):.0f} | {r['loadgen_cpu_share']:.2f} |"
        )
    if report.get("incomplete"):
        lines += ["", f"**Incomplete:** {report['incomplete']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    deadline = began + args.time_limit
    from coachbot.standin.server import StandInSlack

    report: dict[str, Any] = {"benchmark": "ack_latency", "date": time.strftime("%Y-%m-%d"), "argv": sys.argv[1:]}
    runs: list[dict[str, Any]] = []
    with ExitStack() as stack:
        tmp = stack.enter_context(workdir("coachbot-bench-"))
        slack = StandInSlack().start()
        stack.callback(slack.stop)
        database = stack.enter_context(bench_database(args.database_url, tmp, as_is=args.database_as_is))
        coach_port, bare_port = free_port(), free_port()
        common = {"workers": args.workers, "slack_api_url": slack.api_url, "bot_token": slack.bot_token,
                  "cwd": tmp, "log_level": args.log_level}
        coach = start_coachbot(port=coach_port, database_url=database.url, **common)
        stack.callback(coach.stop)
        bare = start_bare(port=bare_port, **common)
        stack.callback(bare.stop)
        for server in (bare, coach):
            server.wait_healthy(timeout=min(60.0, max(1.0, deadline - time.monotonic())))
        print(f"servers up after {time.monotonic() - began:.1f} s", file=sys.stderr)
        loadgen = stack.enter_context(LoadGenerator())
        if args.idle_burner:
            burner = multiprocessing.get_context("spawn").Process(
                target=burn_at_idle_priority, args=(max(1.0, deadline - time.monotonic()),), daemon=True)
            burner.start()
            stack.callback(burner.join, 5)
            stack.callback(burner.terminate)
        bench = Bench(args, slack, {"bare": bare, "coachbot": coach}, loadgen, deadline)
        report["config"] = {
            "requests": args.requests, "clients": args.clients, "rounds": args.rounds, "warmup": args.warmup,
            "workers": args.workers, "users": args.users, "rate": args.rate, "database": database.kind, "quick": args.quick,
            "hold_replies": args.hold_replies, "idle_burner": args.idle_burner,
            "gunicorn": coachbot_gunicorn_options(host="127.0.0.1", port=coach_port, workers=args.workers,
                                                  log_level=args.log_level),
            "machine": machine(),
        }
        plan = [(name, "warm-up", args.warmup) for name in ("bare", "coachbot") if args.warmup > 0]
        plan += [(name, f"round {n}", args.requests) for n in range(1, args.rounds + 1) for name in ("bare", "coachbot")]
        for name, label, count in plan:
            if bench.remaining() < 8:
                report["incomplete"] = f"time limit reached before {label} ({name})"
                break
            entry = bench.run(name, count, label)
            print(f"{label:>9} {NAMES[name]:>9}: p50 {fmt_ms(entry.get('p50_ms'))} ms, p99 "
                  f"{fmt_ms(entry.get('p99_ms'))} ms, {entry.get('requests_per_s', 0):.0f} req/s", file=sys.stderr)
            if label != "warm-up":
                runs.append(entry)
            time.sleep(min(args.pause, max(0.0, bench.remaining() - 8)))
    report["summary"] = {name: aggregate(runs, name) for name in ("bare", "coachbot")}
    bare_s, coach_s = report["summary"]["bare"], report["summary"]["coachbot"]
    if bare_s.get("p99_ms") and coach_s.get("p99_ms"):
        report["p99_ratio"] = coach_s["p99_ms"] / bare_s["p99_ms"]
    per_round = []
    for n in range(1, args.rounds + 1):
        pair = {r["server"]: r for r in runs if r["run"] == f"round {n}"}
        if pair.get("bare", {}).get("p99_ms") and pair.get("coachbot", {}).get("p99_ms"):
            per_round.append(pair["coachbot"]["p99_ms"] / pair["bare"]["p99_ms"])
    report["p99_ratio_per_round"] = per_round
    report["duration_s"] = time.monotonic() - began
    for r in runs:
        del r["_latencies"]
    report["runs"] = runs
    print(render(report))
    print(f"\n(took {report['duration_s']:.0f} s)", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    ok = not report.get("incomplete") and all(
        s.get("non_200", 1) == 0 and s.get("count") for s in report["summary"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
