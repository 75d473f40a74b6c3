"""Footprint of ``coachbot serve --no-scheduler --workers 1``: start-up time and resident memory.

    python -m bench.footprint            # 3 starts, then 10,000 signed /prep leadership requests
    python -m bench.footprint --quick    # 2 starts, 600 requests (under 30 s)
    python -m bench.footprint --database-url postgresql://postgres@127.0.0.1:5432/test

Start-up: from spawning the process to the first 200 on ``GET /healthz``
(polled every 10 ms), and to the first 200 on a signed slash command sent
right after it; the first start is on an empty database (migrations run),
the later ones on the migrated database, as a restart is. Memory: VmRSS
from /proc/<pid>/status of the gunicorn worker (the master's child) at
/healthz-ready, after the first slash command, and after each quarter of the
load (each time once the deferred replies have reached the stand-in), plus
the worker's peak (VmHWM) and the master's RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.common import (
    LOOPBACK,
    SECRET,
    ServerProcess,
    bench_database,
    free_port,
    job_worker_pids,
    gunicorn_workers,
    machine,
    proc_shared,
    proc_status,
    start_coachbot,
    workdir,
)
from bench.loadgen import LoadGenerator, LoadSpec, issue_requests
from bench.stats import fmt_ms, median, summarize
from coachbot.standin.requests import slash_command
from coachbot.standin.sender import USER_AGENT
from coachbot.standin.signing import sign

CHANNEL = "C0BENCH"
TEXT = "leadership"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.footprint", description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--starts", type=int, default=3, help="start-ups to time (the first on an empty database)")
    parser.add_argument("--requests", type=int, default=10_000, help="signed /prep leadership requests before the last RSS reading")
    parser.add_argument("--checkpoints", type=int, default=4, help="RSS readings spread over the load")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients for the load")
    parser.add_argument("--users", type=int, default=1000, help="distinct Slack users the requests cycle through")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to use (a scratch database is made on it and dropped after); "
                             "default: a new SQLite file")
    parser.add_argument("--database-as-is", action="store_true",
                        help="use the database named by --database-url itself instead of a scratch one")
    parser.add_argument("--drain-timeout", type=float, default=120.0,
                        help="seconds to wait for deferred replies before each RSS reading")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds allowed for the whole benchmark")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the server")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="2 starts, 600 requests, short limits (under 30 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.starts, args.requests, args.drain_timeout, args.time_limit = 2, 600, 10.0, 28.0
    for name in ("starts", "requests", "checkpoints", "clients", "users"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


CARRIED: list[bool] = [False]  # whether the last signed_slash's ack carried the card


def signed_slash(slack: Any, port: int, user: str, timeout: float = 5.0) -> int | None:
    """Send one signed /prep leadership; its HTTP status, or None when nothing answered."""
    url = slack.new_response_url(user_id=user, channel_id=CHANNEL)
    body, content_type = slash_command(text=TEXT, user_id=user, team_id=slack.team_id, channel_id=CHANNEL,
                                       response_url=url)
    headers = {"Content-Type": content_type, "User-Agent": USER_AGENT, **sign(body, SECRET, int(time.time()))}
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request("POST", "/slack/events", body, headers)
        response = connection.getresponse()
        CARRIED[0] = b'"blocks"' in response.read()
        return int(response.status)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def reading(pid: int) -> dict[str, int]:
    """One memory reading of a process, in KiB: rss (VmRSS), and pss / private when the kernel gives them."""
    status, shared = proc_status(pid), proc_shared(pid)
    found = {"rss_kib": status["VmRSS"]}
    if shared:
        found.update(pss_kib=shared["Pss"], private_kib=shared["Private"])
    return found


def wait_replies(slack: Any, expected: int, timeout: float) -> int:
    try:
        slack.wait_for(lambda: len(slack.response_posts()) >= expected or None, timeout)
    except AssertionError:
        pass
    return len(slack.response_posts())


def time_start(slack: Any, port: int, database_url: str, cwd: Path, log_level: str, timeout: float
               ) -> tuple[ServerProcess, dict[str, Any]]:
    """Spawn coachbot serve, poll /healthz, then send one signed slash command; times from the spawn."""
    server = start_coachbot(port=port, workers=1, slack_api_url=slack.api_url, bot_token=slack.bot_token,
                            database_url=database_url, cwd=cwd, log_level=log_level)
    try:
        healthy = server.wait_healthy(timeout=timeout, interval=0.01)
        workers = gunicorn_workers(server.pid, 1)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker under {server.pid}, found {workers}")
        ready = reading(workers[0])
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = signed_slash(slack, port, "U0STARTUP")
            if status == 200:
                break
            server.check_alive()
            time.sleep(0.01)
        answered = time.monotonic()
        if status != 200:
            raise RuntimeError(f"no 200 on a signed slash command within {timeout:.0f} s (last: {status})")
        replied = 1 if CARRIED[0] else wait_replies(slack, 1, min(timeout, 10.0))
        return server, {
            "healthz_s": healthy - server.started_at,
            "slash_s": answered - server.started_at,
            "first_reply_delivered": replied >= 1,
            "worker_pid": workers[0],
            "ready": ready,
        }
    except BaseException:
        server.stop()
        raise


def render(report: dict[str, Any]) -> str:
    cfg, starts, mem = report["config"], report["starts"], report.get("memory", {})
    lines = [
        "## Footprint (`coachbot serve --no-scheduler --workers 1`)",
        "",
        (f"Database: {cfg['database']}; {cfg['machine']['cpus']} CPUs, load average at start "
         f"{', '.join(str(x) for x in cfg['machine']['load_average_at_start'])}."),
        "",
        "| start | database | spawn -> /healthz 200 | spawn -> slash command 200 |",
        "|---|---|---:|---:|",
    ]
    for n, s in enumerate(starts, 1):
        lines.append(f"| {n} | {'empty (migrates)' if n == 1 else 'migrated'} | {s['healthz_s']:.2f} s | "
                     f"{s['slash_s']:.2f} s |")
    if len(starts) > 1:
        later = starts[1:]
        lines.append(f"| median of restarts | migrated | {median([s['healthz_s'] for s in later]):.2f} s | "
                     f"{median([s['slash_s'] for s in later]):.2f} s |")
    if mem:
        def row(label: str, r: dict[str, int]) -> str:
            extra = [f"{r[k] / 1024:.1f}" if k in r else "n/a" for k in ("pss_kib", "private_kib")]
            return f"| {label} | {r['rss_kib'] / 1024:.1f} | {extra[0]} | {extra[1]} |"

        lines += ["", "| process | RSS MiB | PSS MiB | private MiB |", "|---|---:|---:|---:|",
                  row("worker at /healthz-ready (before any slash command)", mem["ready"]),
                  row("worker after the first slash command", mem["after_first"])]
        for point in mem["checkpoints"]:
            lines.append(row(f"worker after {point['requests']:,} requests", point))
        lines += [f"| worker peak RSS (VmHWM) | {mem['hwm_kib'] / 1024:.1f} | | |",
                  row("gunicorn master", mem["master"]),
                  *[row("job worker (coachbot worker)", r) for r in mem.get("job_worker", [])],
                  "",
                  (f"- Load: {mem['load']['count']:,} requests answered 200 of {mem['load']['sent']:,} sent, "
                   f"{mem['replies_delivered']:,} cards delivered (in the ack or through the response_url); ack p50 "
                   f"{fmt_ms(mem['load'].get('p50_ms'))} ms, p99 {fmt_ms(mem['load'].get('p99_ms'))} ms, "
                   f"{mem['load'].get('requests_per_s', 0):.0f} req/s with {cfg['clients']} clients; "
                   f"worker threads at the end: {mem['threads']}.")]
    if report.get("incomplete"):
        lines += ["", f"**Incomplete:** {report['incomplete']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    deadline = began + args.time_limit
    from coachbot.standin.server import StandInSlack

    def remaining() -> float:
        return deadline - time.monotonic()

    report: dict[str, Any] = {"benchmark": "footprint", "date": time.strftime("%Y-%m-%d"), "argv": sys.argv[1:]}
    starts: list[dict[str, Any]] = []
    with ExitStack() as stack:
        tmp = stack.enter_context(workdir("coachbot-bench-"))
        slack = StandInSlack().start()
        stack.callback(slack.stop)
        database = stack.enter_context(bench_database(args.database_url, tmp, as_is=args.database_as_is))
        report["config"] = {"starts": args.starts, "requests": args.requests, "clients": args.clients,
                            "users": args.users, "database": database.kind, "quick": args.quick,
                            "machine": machine()}
        server: ServerProcess | None = None
        for n in range(args.starts):
            if server is not None:
                server.stop()
                server = None
            if remaining() < 10:
                report["incomplete"] = f"time limit reached after {n} start(s)"
                break
            slack.reset()
            server, timing = time_start(slack, free_port(), database.url, tmp, args.log_level,
                                        timeout=min(60.0, remaining() - 5))
            stack.callback(server.stop)  # idempotent: stopping twice is harmless
            starts.append(timing)
            print(f"start {n + 1}: /healthz {timing['healthz_s']:.2f} s, slash {timing['slash_s']:.2f} s",
                  file=sys.stderr)
        report["starts"] = starts
        if server is not None and not report.get("incomplete"):
            worker = starts[-1]["worker_pid"]
            memory: dict[str, Any] = {"ready": starts[-1]["ready"], "after_first": reading(worker),
                                      "checkpoints": []}
            loadgen = stack.enter_context(LoadGenerator())
            chunk_sizes = [args.requests // args.checkpoints + (1 if i < args.requests % args.checkpoints else 0)
                           for i in range(args.checkpoints)]
            latencies: list[float] = []
            elapsed = 0.0
            sent = delivered = issued = 0
            for size in (s for s in chunk_sizes if s > 0):
                if remaining() < 5:
                    report["incomplete"] = f"time limit reached after {issued:,} of {args.requests:,} requests"
                    break
                slack.reset()
                requests = issue_requests(slack, size, users=args.users, channel_id=CHANNEL, offset=issued)
                spec = LoadSpec(port=server.port, signing_secret=SECRET, team_id=slack.team_id, channel_id=CHANNEL,
                                text=TEXT, requests=requests, clients=args.clients,
                                time_limit=max(1.0, remaining() - 5))
                result = loadgen.run(spec)
                server.check_alive()
                issued += size
                sent += result.sent
                latencies += result.latencies
                elapsed += result.elapsed
                # Cards carried in the ack are delivered already; the rest come through the response_url.
                deferred = result.ok - len(result.carried)
                delivered += len(result.carried) + wait_replies(
                    slack, deferred, max(1.0, min(args.drain_timeout, remaining() - 3)))
                point = {"requests": issued, **reading(worker)}
                memory["checkpoints"].append(point)
                print(f"after {issued:,} requests: worker RSS {point['rss_kib'] / 1024:.1f} MiB", file=sys.stderr)
                if result.timed_out:
                    report["incomplete"] = f"load timed out after {issued:,} requests"
                    break
            status = proc_status(worker)
            memory.update(hwm_kib=status["VmHWM"], threads=status["Threads"],
                          master=reading(server.pid), replies_delivered=delivered,
                          job_worker=[reading(pid) for pid in job_worker_pids(server.pid)],
                          load={**summarize(latencies, elapsed), "sent": sent})
            report["memory"] = memory
    report["duration_s"] = time.monotonic() - began
    print(render(report))
    print(f"\n(took {report['duration_s']:.0f} s)", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if not report.get("incomplete") else 1


if __name__ == "__main__":
    sys.exit(main())
