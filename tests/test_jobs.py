"""Work after the ack (``coachbot.jobs``): JSON jobs, run once per key, in this process's pool
(both backends) and on the PostgreSQL queue across worker processes, one of them SIGKILLed while
it holds jobs."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from coachbot.jobs import JOBS, Runtime, checked, run
from coachbot.jobs.pool import PoolRunner
from coachbot.standin.server import StandInSlack
from coachbot.storage import jobs as ledger
from tests.scenario import Bot
from tests.test_serve import serve_env

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
CHANNEL = "C0JOBS"


@pytest.fixture(autouse=True)
def channel(slack: StandInSlack) -> None:
    slack.add_channel(CHANNEL, members=["U1"])  # the bot is in it, and so is U1


def tell(i: int) -> dict:
    return {"team_id": "T0STANDIN", "key": f"test:{i}", "channel_id": CHANNEL, "user_id": "U1",
            "thread_ts": "1700000000.000100", "message": {"text": f"reply number {i}"}}


def texts(slack: StandInSlack) -> collections.Counter[str]:
    return collections.Counter(e.text for e in slack.ephemerals("U1"))


@pytest.fixture
def runtime(bot: Bot) -> Runtime:
    return Runtime(bot.services, bot.web.bolt.client)


def test_every_listener_job_is_registered():
    assert {"tell", "tell_owner", "publish_home", "share_answer"} <= set(JOBS)


def test_a_payload_must_be_json_with_a_workspace_and_a_key():
    assert checked("tell", tell(1)).startswith("{")
    with pytest.raises(ValueError, match="no job named"):
        checked("nope", tell(1))
    with pytest.raises(ValueError, match="team_id and a key"):
        checked("tell", {"team_id": "T1"})
    with pytest.raises(TypeError):
        checked("tell", {**tell(1), "client": object()})  # objects never travel


def test_the_pool_runs_each_key_once(bot: Bot, runtime: Runtime):
    runner = PoolRunner(runtime, threads=2)
    for i in (1, 2, 1, 2, 3):
        runner.submit("tell", tell(i))
    runner.close()
    assert texts(bot.slack) == {"reply number 1": 1, "reply number 2": 1, "reply number 3": 1}


def test_a_run_that_stopped_during_its_slack_call_is_not_repeated(bot: Bot, runtime: Runtime):
    # An earlier run took the key and died before saying it had finished.
    assert ledger.take(bot.services.db, "T0STANDIN", "tell:test:9", NOW) is ledger.Taken.NEW
    run(runtime, "tell", tell(9))
    assert texts(bot.slack) == {}
    assert ledger.take(bot.services.db, "T0STANDIN", "tell:test:9", NOW) is ledger.Taken.UNSURE


# --- the PostgreSQL queue, across processes -------------------------------------------------

JOBS_N = 24


def start_worker(slack: StandInSlack, url: str, tmp_path: Path, name: str) -> subprocess.Popen:
    env = serve_env(slack, url)
    with open(tmp_path / f"{name}.log", "w") as log:  # the child has its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "coachbot", "worker", "--concurrency", "4",
             "--heartbeat-seconds", "0.5", "--stalled-after-seconds", "2"],
            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
def queue_db(pg_url: str) -> Iterator[str]:
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM procrastinate_jobs"))
    engine.dispose()
    yield pg_url


def wait_until(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {message}"
        time.sleep(0.05)


@pytest.mark.slow
def test_two_workers_one_killed_while_holding_jobs_every_reply_arrives_once(
        slack: StandInSlack, queue_db: str, tmp_path: Path):
    from coachbot.jobs.queue import QueueRunner

    engine = create_engine(queue_db, isolation_level="AUTOCOMMIT")
    workers = [start_worker(slack, queue_db, tmp_path, name) for name in ("a", "b")]
    runner = QueueRunner(queue_db)
    lock_engine = create_engine(queue_db)
    holding = lock_engine.connect()
    try:
        # A slow database: nobody can take a job's key until the lock goes, so both workers
        # fetch jobs and hold them mid-run.
        holding.execute(text("LOCK TABLE job_runs IN EXCLUSIVE MODE"))  # until commit()
        for i in range(JOBS_N):
            runner.submit("tell", tell(i))

        def held() -> dict[int, int]:
            with engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT worker_id, count(*) FROM procrastinate_jobs WHERE status = 'doing' "
                    "AND worker_id IS NOT NULL GROUP BY worker_id")).all()
            return {worker: count for worker, count in rows} if len(rows) == 2 else {}

        wait_until(held, 30, "both workers to hold jobs")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        holding.commit()  # the database is quick again; the killed worker's jobs wait for rescue
        wait_until(lambda: sum(texts(slack).values()) >= JOBS_N, 30, f"{JOBS_N} replies")
        time.sleep(1.0)  # room for a double to show
        assert texts(slack) == {f"reply number {i}": 1 for i in range(JOBS_N)}
        with engine.connect() as connection:
            left = connection.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'"))
            assert left.scalar() == 0
    finally:
        holding.close()
        lock_engine.dispose()
        runner.close()
        for process in workers:
            if process.poll() is None:
                process.terminate()
                process.wait(15)
        engine.dispose()
