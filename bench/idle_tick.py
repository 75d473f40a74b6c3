"""Idle scheduler tick: what one tick costs when nothing is due, at 100, 10,000 and 100,000 schedules.

    python -m bench.idle_tick                      # SQLite
    python -m bench.idle_tick --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.idle_tick --quick              # a smoke run (100 and 2,000 schedules)

Each size gets a new database (a scratch one on PostgreSQL, dropped after), migrated, then seeded
with that many schedules in one workspace: varied timezones, local times, weekdays and digest
days, one in ten off, every one handled up to the tick's instant and none due within the hour
after it (the state between slots). Then coachbot's scheduler tick (``coachbot.scheduler.tick``:
prompts, digests, forgetting old event ids) runs ``--ticks`` times, 30 s of injected time apart,
after ``--warmup`` ticks; the figure is the median wall time of one tick, with its p95, the SQL
statements it ran (counted on the engine), and the plan PostgreSQL or SQLite chose for the
statement that takes what is due.

Goals: an idle tick under 50 ms at 10,000 and at 100,000 schedules, and within 1.5x of the tick
at 100 schedules. Before the next-due index (2026-12-02) the same tick over 10,000 schedules took
15.9 s, four statements per schedule.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import bench_database, machine, workdir

AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # the idle ticks' first instant (a Wednesday)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles",
         "Asia/Kolkata", "Europe/London")
WEEKDAYS = ("0,1,2,3,4", "0,1,2,3,4,5,6", "0,2,4", "1,3")
GOAL_MS = 50.0
GOAL_RATIO = 1.5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.idle_tick", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sizes", default="100,10000,100000", help="comma-separated numbers of schedules")
    parser.add_argument("--ticks", type=int, default=50, help="measured ticks per size")
    parser.add_argument("--warmup", type=int, default=5, help="ticks before measuring")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a scratch database per size); "
                        "default: a new SQLite file per size")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 and 2,000 schedules, 10 ticks")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.ticks, args.warmup = "100,2000", 10, 2
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return args


def rows_for(n: int, team_id: str, rng: random.Random) -> list[dict[str, Any]]:
    """``n`` schedules handled through AT, none due before AT + 1 hour."""
    from coachbot.storage.models import digest_due, prompt_due

    class Row:
        def __init__(self, values: dict[str, Any]) -> None:
            self.__dict__.update(values, paused_until=None)

    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "team_id": team_id, "channel_id": f"C0TICK{i:07d}", "mode": rng.choice(("technical", "leadership",
                                                                                    "alternate", "mixed")),
            "weekdays": rng.choice(WEEKDAYS), "tz": rng.choice(ZONES), "created_by": "U0OWNER",
            "enabled": rng.random() >= 0.1, "checked_through": AT, "posted_count": 0, "created_at": AT,
            "updated_at": AT, "digest_enabled": rng.random() >= 0.2, "digest_weekday": rng.randrange(7),
            "digest_checked_through": AT,
        }
        while True:
            row["local_time"] = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
            row["digest_time"] = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
            values = Row(row)
            row["next_due"], row["digest_next_due"] = prompt_due(values), digest_due(values)
            if all(at is None or at > AT + timedelta(hours=1) for at in (row["next_due"], row["digest_next_due"])):
                break
        rows.append(row)
    return rows


def seed(url: str, rows: list[dict[str, Any]]) -> float:
    from sqlalchemy import insert, text

    from coachbot.storage.db import Database
    from coachbot.storage.models import Schedule

    began = time.monotonic()
    db = Database(url)
    try:
        db.upgrade()
        with db.session() as session:
            for start in range(0, len(rows), 5000):
                session.execute(insert(Schedule), rows[start:start + 5000])
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE schedules" if db.is_postgresql else "ANALYZE"))
    finally:
        db.dispose()
    return time.monotonic() - began


def plan_of(db: Any) -> str:
    from sqlalchemy import text

    from coachbot.storage import due

    statement = due.take_statement("prompt", AT, AT + timedelta(minutes=2), 32)
    with db.engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN " if db.is_postgresql else "EXPLAIN QUERY PLAN "
        lines = [str(r[-1]) for r in connection.execute(text(explain + str(compiled)))]
        connection.rollback()
    return "\n".join(lines)


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from slack_sdk import WebClient
    from sqlalchemy import event

    from coachbot.app import build_services
    from coachbot.clock import FixedClock
    from coachbot.scheduler import tick
    from coachbot.slackapi import SlackPromptPoster, prompt_client
    from coachbot.storage.db import Database

    db = Database(url)
    clock = FixedClock(AT)
    services = build_services(db, directory=None, clock=clock)  # type: ignore[arg-type]  # an idle tick asks nobody
    # Never called while nothing is due: a tick that posted would fail on this closed port and show as posted 0.
    poster = SlackPromptPoster(prompt_client(WebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/")))
    statements: list[int] = []
    count = [0]

    def counted(*_args: Any) -> None:
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    times, cpu, acted = [], [], 0
    try:
        for n in range(args.warmup + args.ticks):
            now = AT + timedelta(seconds=30 * n)
            clock.set(now)
            count[0] = 0
            began, began_cpu = time.perf_counter(), time.process_time()
            report = tick(services, poster, now)
            took, took_cpu = time.perf_counter() - began, time.process_time() - began_cpu
            acted += len(report.posted) + len(report.retry_later) + len(report.missed) + len(report.stopped)
            if n >= args.warmup:
                times.append(took * 1000)
                cpu.append(took_cpu * 1000)
                statements.append(count[0])
        plan = plan_of(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
        db.dispose()
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
            "max_ms": times[-1], "cpu_median_ms": statistics.median(cpu),
            "statements_per_tick": sorted(set(statements)), "acted": acted, "plan": plan}


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = ["## Idle scheduler tick", "",
             (f"Database: {report['database']}; {report['ticks']} ticks per size after {report['warmup']} warm-up "
              f"ticks; {m['cpus']} CPUs, load average at start "
              f"{', '.join(str(x) for x in m['load_average_at_start'])}."), "",
             "| schedules | median ms | p95 ms | max ms | CPU median ms | statements per tick | ratio to 100 | "
             "under 50 ms |", "|---:|---:|---:|---:|---:|---:|---:|---|"]
    base = next((r["median_ms"] for r in report["sizes"] if r["schedules"] == 100), None)
    for r in report["sizes"]:
        ratio = r["median_ms"] / base if base else None
        lines.append(f"| {r['schedules']:,} | {r['median_ms']:.2f} | {r['p95_ms']:.2f} | {r['max_ms']:.2f} | "
                     f"{r['cpu_median_ms']:.2f} | {', '.join(map(str, r['statements_per_tick']))} | "
                     f"{'n/a' if ratio is None else f'{ratio:.2f}'} | {'yes' if r['median_ms'] < GOAL_MS else 'NO'} |")
    largest = report["sizes"][-1]
    lines += ["", f"Plan of the statement that takes what is due, at {largest['schedules']:,} schedules:", "",
              "```", largest["plan"], "```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(14)
    report: dict[str, Any] = {"benchmark": "idle_tick", "date": time.strftime("%Y-%m-%d"), "argv": sys.argv[1:],
                              "database": "postgresql" if args.database_url else "sqlite", "ticks": args.ticks,
                              "warmup": args.warmup, "machine": machine(), "sizes": []}
    began = time.monotonic()
    with workdir("coachbot-bench-idle-") as tmp:
        for n in args.sizes:
            (tmp / str(n)).mkdir()
            with bench_database(args.database_url, tmp / str(n)) as database:
                seeded = seed(database.url, rows_for(n, "T0TICK", rng))
                entry = {"schedules": n, "seed_s": seeded, **measure(database.url, args)}
            print(f"{n:,} schedules: median {entry['median_ms']:.2f} ms, statements {entry['statements_per_tick']}",
                  file=sys.stderr)
            report["sizes"].append(entry)
    report["duration_s"] = time.monotonic() - began
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    base = next((r["median_ms"] for r in report["sizes"] if r["schedules"] == 100), None)
    ok = all(r["acted"] == 0 for r in report["sizes"])
    for r in report["sizes"]:
        if r["schedules"] >= 10_000:
            ok = ok and r["median_ms"] < GOAL_MS and (base is None or r["median_ms"] <= GOAL_RATIO * base)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
