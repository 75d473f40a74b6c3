"""Socket Mode: how long each client is deaf after each kind of drop, its CPU while disconnected, and
coachbot's ack latency next to a bare Bolt Socket Mode app, side by side in one run.

    python -m bench.socket_mode                 # 1,000 commands per client, drops capped at 60 s
    python -m bench.socket_mode --quick         # a smoke run, well under 60 s
    python -m bench.socket_mode --json results.json

Starts a stand-in Slack and one Socket Mode stand-in per client (``coachbot.standin``) in this
process, and each client in its own process:

- ``coachbot``: ``coachbot socket --no-scheduler`` (its own client, the whole app, SQLite);
- ``bolt-builtin``: a bare Bolt app whose ``/prep`` only acks, on slack_sdk's built-in Socket Mode
  client (``slack_bolt.adapter.socket_mode.SocketModeHandler``): the baseline;
- ``bolt-websocket-client``: the same bare app on slack_sdk's websocket-client adapter.

For each client and each fault (a close frame, ``disconnect`` with ``refresh_requested``, a TCP drop
with no close frame, a connection that goes silent) it causes the fault and at once sends a ``/prep``
envelope; the time from the fault to that envelope's ack is the time deaf (the stand-in holds an
envelope until the app has a live connection, as Slack does). CPU during that time comes from
/proc. Then, with apps.connections.open failing (Slack unreachable) it drops the connection and
measures the client's CPU over ``--unreachable`` seconds. Last, on fresh processes, it sends
``/prep help`` (coachbot answers in the ack itself) and then ``/prep leadership`` (coachbot acks at
once and posts a question card through the response_url afterwards) envelopes one after another, in
alternating rounds to coachbot and the bare builtin app, and reports the time from sending each
envelope to its ack.

Goals (issue 13): deaf under 1 s after a close frame or a refresh, under 5 s after an abrupt drop;
CPU while disconnected near zero; coachbot's ack p99 within 1.25x of the bare Bolt app's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from bench.common import cpu_seconds, machine
from bench.stats import percentile

CLIENTS = ("coachbot", "bolt-builtin", "bolt-websocket-client")
FAULTS: dict[str, Callable[[Any], None]] = {
    "close frame": lambda sm: sm.close(),
    "refresh_requested": lambda sm: sm.disconnect("refresh_requested"),
    "TCP drop": lambda sm: sm.drop(),
    "silent": lambda sm: sm.silence(),
}


def serve_bare(adapter: str) -> None:
    """A bare Bolt app whose /prep only acks, on one of slack_sdk's Socket Mode clients."""
    import logging

    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))
    app = App(client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
              token_verification_enabled=False, process_before_response=True, signing_secret="unused")

    @app.command("/prep")
    def prep(ack: Ack) -> None:
        ack()

    if adapter == "builtin":
        from slack_bolt.adapter.socket_mode import SocketModeHandler
    else:
        from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler  # type: ignore[no-redef]
    SocketModeHandler(app, os.environ["SLACK_APP_TOKEN"]).start()


def start_client(name: str, slack: Any, socket_mode: Any, workdir: Path) -> subprocess.Popen:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACHBOT_"))}
    env = {**keep, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": socket_mode.app_token,
           "SLACK_API_URL": slack.api_url, "DATABASE_URL": f"sqlite:///{workdir}/{name}.db", "LOG_LEVEL": "ERROR"}
    if name == "coachbot":
        argv = [sys.executable, "-m", "coachbot", "socket", "--no-scheduler"]
    else:
        argv = [sys.executable, "-m", "bench.socket_mode", "--serve-bare", name.removeprefix("bolt-")]
    log = open(workdir / f"{name}.log", "w")
    # The bare apps run this module, from the repository's root.
    cwd = workdir if name == "coachbot" else Path(__file__).resolve().parent.parent
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def command(slack: Any, text: str) -> dict[str, Any]:
    user = "U0BENCH"
    return {"command": "/prep", "text": text, "user_id": user, "team_id": slack.team_id, "channel_id": "C0BENCH",
            "response_url": slack.new_response_url(user_id=user, channel_id="C0BENCH"),
            "trigger_id": slack.new_trigger_id(user)}


def deaf_time(slack: Any, socket_mode: Any, pid: int, fault: str, limit: float) -> dict[str, Any]:
    """Cause ``fault``, send a command at once; the seconds until its ack and the CPU used meanwhile."""
    try:
        socket_mode.wait_connections(1, timeout=max(limit, 60.0))
    except AssertionError:
        return {"deaf_s": None, "capped_at_s": None, "note": "no live connection to start from"}
    time.sleep(0.5)  # let the connection settle (the builtin client opens and swaps at start)
    cpu_before, started = cpu_seconds([pid]), time.monotonic()
    FAULTS[fault](socket_mode)
    ack = socket_mode.send("slash_commands", command(slack, "help")).wait(limit)
    deaf = time.monotonic() - started
    cpu = cpu_seconds([pid]) - cpu_before
    return {"deaf_s": round(deaf, 3) if ack is not None else None, "capped_at_s": None if ack else limit,
            "cpu_ms": round(cpu * 1000), "cpu_share": round(cpu / deaf, 3) if deaf else None}


def unreachable_cpu(slack: Any, socket_mode: Any, pid: int, seconds: float) -> float | None:
    """The client's CPU, as a share of one core, while apps.connections.open fails after a drop."""
    try:
        socket_mode.wait_connections(1, timeout=60)
    except AssertionError:
        return None
    slack.fail("apps.connections.open", status=503, times=-1)
    try:
        socket_mode.drop()
        time.sleep(0.5)
        before = cpu_seconds([pid])
        time.sleep(seconds)
        return round((cpu_seconds([pid]) - before) / seconds, 3)
    finally:
        slack.clear_faults()


def ack_latencies(slack: Any, socket_mode: Any, count: int, text: str) -> list[float]:
    """Send ``/prep text`` ``count`` times, one after another; the seconds from each send to its ack."""
    found = []
    for _ in range(count):
        started = time.perf_counter()
        ack = socket_mode.send("slash_commands", command(slack, text)).wait(10)
        if ack is None:
            raise RuntimeError("an envelope was not acknowledged within 10 s")
        found.append(time.perf_counter() - started)
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    from coachbot.standin.server import StandInSlack
    from coachbot.standin.socket_mode import StandInSocketMode

    results: dict[str, Any] = {"machine": machine(), "clients": {}, "args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="bench-socket-") as tmp, StandInSlack() as slack:
        workdir = Path(tmp)
        stands = {name: StandInSocketMode(slack, app_token=f"xapp-1-{name}").start() for name in CLIENTS}
        processes = {name: start_client(name, slack, stands[name], workdir) for name in CLIENTS}
        try:
            for name in CLIENTS:
                stands[name].wait_connections(1, timeout=60)
            for name in CLIENTS if not args.ack_only else ():
                figures: dict[str, Any] = {}
                pid = processes[name].pid
                # The silent connection last: a client that never notices stays deaf.
                for fault in ("close frame", "refresh_requested", "TCP drop", "silent"):
                    if fault == "silent":
                        figures["unreachable_cpu_share"] = unreachable_cpu(slack, stands[name], pid, args.unreachable)
                        print(f"{name:22} CPU share, Slack unreachable: {figures['unreachable_cpu_share']}",
                              flush=True)
                    figures[fault] = deaf_time(slack, stands[name], pid, fault, args.deaf_limit)
                    print(f"{name:22} {fault:18} {figures[fault]}", flush=True)
                results["clients"][name] = figures
            # Ack latency, on fresh processes: alternating rounds to coachbot and the bare builtin app,
            # after a warm-up of each.
            pair = ("bolt-builtin", "coachbot")
            for name in pair:
                processes[name].terminate()
                processes[name].wait(15)
                stands[name].stop()
                stands[name] = StandInSocketMode(slack, app_token=f"xapp-1-{name}-fresh").start()
                processes[name] = start_client(name, slack, stands[name], workdir)
            for name in pair:
                stands[name].wait_connections(1, timeout=60)
                time.sleep(1.0)
                ack_latencies(slack, stands[name], 50, "leadership")
            results["ack_p99_ratio"] = {}
            for text in ("help", "leadership"):
                latencies: dict[str, list[float]] = {name: [] for name in pair}
                per_round = args.commands // args.rounds
                for _ in range(args.rounds):
                    for name in pair:
                        latencies[name].extend(ack_latencies(slack, stands[name], per_round, text))
                        time.sleep(1.0)  # let the work after the acks finish before the other's round
                for name in pair:
                    ordered = sorted(latencies[name])
                    results["clients"].setdefault(name, {}).setdefault("ack_ms", {})[text] = {
                        "count": len(ordered), "p50": round(percentile(ordered, 50) * 1000, 2),
                        "p99": round(percentile(ordered, 99) * 1000, 2), "max": round(ordered[-1] * 1000, 2)}
                    print(f"{name:22} /prep {text:10} ack {results['clients'][name]['ack_ms'][text]}", flush=True)
                ratio = round(results["clients"]["coachbot"]["ack_ms"][text]["p99"]
                              / results["clients"]["bolt-builtin"]["ack_ms"][text]["p99"], 2)
                results["ack_p99_ratio"][text] = ratio
                print(f"/prep {text}: coachbot p99 / bare Bolt p99: {ratio}", flush=True)
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
            for stand in stands.values():
                stand.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=1000, help="commands per client for ack latency")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds the commands are split into")
    parser.add_argument("--deaf-limit", type=float, default=60.0, help="the longest to wait for an ack after a fault")
    parser.add_argument("--unreachable", type=float, default=5.0, help="seconds of CPU measured with Slack unreachable")
    parser.add_argument("--ack-only", action="store_true", help="only the ack latency (no faults)")
    parser.add_argument("--quick", action="store_true", help="100 commands, faults capped at 15 s")
    parser.add_argument("--json", type=Path, default=None, help="write the results there")
    parser.add_argument("--serve-bare", choices=("builtin", "websocket-client"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    if args.quick:
        args.commands, args.rounds, args.deaf_limit, args.unreachable = 100, 2, 15.0, 2.0
    results = run(args)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
