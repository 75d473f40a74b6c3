"""Durability of the job queue: SIGKILL a ``coachbot worker`` while it holds jobs; does every
reply still arrive, exactly once?

    python -m bench.durability                    # PostgreSQL on 127.0.0.1, 400 jobs, 2 workers
    python -m bench.durability --jobs 100 --quick

A scratch PostgreSQL database, the stand-in Slack (every chat.postEphemeral takes 20 ms, so
jobs are in flight), two ``coachbot worker`` processes (concurrency 4, heartbeat 0.5 s, a
silent worker's jobs retried after 2 s). The harness submits the jobs (thread feedback,
``tell``) through ``QueueRunner``, waits until a quarter of the replies have arrived and the
first worker holds jobs, SIGKILLs it, and counts the replies: arrived, twice, missing, and
how long the last one took after the kill.
"""

from __future__ import annotations

import argparse
import collections
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from typing import Any

from bench.common import bench_database, child_env, machine, workdir

CHANNEL = "C0DURABLE"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="100 jobs")
    args = parser.parse_args(argv)
    jobs = 100 if args.quick else args.jobs
    report = run(args.database_url, jobs)
    print(render(report))
    return 0 if report["missing"] == 0 and report["twice"] == 0 else 1


def run(database_url: str, jobs: int) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    import coachbot.handlers.jobs  # noqa: F401  (the jobs' registrations, as in the app)
    from coachbot.jobs.queue import QueueRunner
    from coachbot.standin.server import StandInSlack
    from coachbot.storage.db import Database

    with ExitStack() as stack:
        folder = stack.enter_context(workdir("coachbot-durable-"))
        database = stack.enter_context(bench_database(database_url, folder))
        db = Database(database.url)
        db.upgrade()
        db.dispose()
        slack = stack.enter_context(StandInSlack())
        slack.add_channel(CHANNEL, members=["U1"])
        slack.fail("chat.postEphemeral", delay=0.02, times=-1)
        env = child_env(slack.api_url, slack.bot_token, database.url, "WARNING")
        workers = []
        for name in ("a", "b"):
            log = stack.enter_context(open(folder / f"{name}.log", "wb"))
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "coachbot", "worker", "--concurrency", "4", "--heartbeat-seconds", "0.5",
                 "--stalled-after-seconds", "2"], env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT))
        for process in workers:
            stack.callback(_stop, process)
        engine = create_engine(database.url)
        stack.callback(engine.dispose)
        time.sleep(3.0)  # both workers up and listening
        runner = QueueRunner(database.url)
        stack.callback(runner.close)
        for i in range(jobs):
            runner.submit("tell", {"team_id": slack.team_id, "key": f"durable:{i}", "channel_id": CHANNEL,
                                   "user_id": "U1", "thread_ts": "1700000000.000100",
                                   "message": {"text": f"reply {i}"}})

        def holding() -> int:
            """The fewest jobs either worker holds now (0 unless both hold some)."""
            with engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT w.id, count(j.id) FROM procrastinate_workers w LEFT JOIN procrastinate_jobs j "
                    "ON j.worker_id = w.id AND j.status = 'doing' GROUP BY w.id")).all()
            return min(count for _, count in rows) if len(rows) == 2 else 0

        deadline = time.monotonic() + 120
        while len(slack.ephemerals("U1")) < jobs // 4 or holding() == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not get going")
            time.sleep(0.01)
        held = holding()  # both hold jobs, so the one killed does (at least this many)
        workers[0].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        at_kill = len(slack.ephemerals("U1"))
        while len(slack.ephemerals("U1")) < jobs and time.monotonic() < killed_at + 60:
            time.sleep(0.05)
        last = time.monotonic() - killed_at
        time.sleep(1.0)
        counts = collections.Counter(e.text for e in slack.ephemerals("U1"))
        with engine.connect() as connection:
            left = connection.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'")
                                      ).scalar()
        logs = (folder / "a.log").read_text(errors="replace") + (folder / "b.log").read_text(errors="replace")
        return {
            "machine": machine(), "jobs": jobs, "held_by_a_worker_at_kill": held, "arrived_before_kill": at_kill,
            "arrived": sum(1 for i in range(jobs) if counts[f"reply {i}"] >= 1),
            "twice": sum(1 for i in range(jobs) if counts[f"reply {i}"] > 1),
            "missing": sum(1 for i in range(jobs) if counts[f"reply {i}"] == 0),
            "not_repeated_unsure": logs.count("not repeated, so nothing is posted twice"),
            "requeued": logs.count("it is queued again"),
            "seconds_to_last_after_kill": last, "jobs_left": left,
        }


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def render(r: dict[str, Any]) -> str:
    return (f"{r['jobs']} jobs, two workers; one SIGKILLed holding {r['held_by_a_worker_at_kill']} job(s) after "
            f"{r['arrived_before_kill']} replies had arrived. Arrived {r['arrived']}/{r['jobs']}, twice "
            f"{r['twice']}, missing {r['missing']}; {r['requeued']} job(s) queued again by the other worker, "
            f"{r['not_repeated_unsure']} not repeated because the killed run was inside its Slack call; last "
            f"reply {r['seconds_to_last_after_kill']:.1f} s after the kill; {r['jobs_left']} job(s) left in the queue.")


if __name__ == "__main__":
    sys.exit(main())
