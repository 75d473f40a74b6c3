"""The production runner: a durable job queue on PostgreSQL itself, with procrastinate.

Why procrastinate (an existing engine, no new server): jobs are rows in the same PostgreSQL
database, so a job submitted in a request's transaction-free moment survives any process;
workers are woken by LISTEN/NOTIFY within milliseconds rather than polling; any number of
``coachbot worker`` processes on any hosts share the queue (each job is taken by one worker,
``FOR UPDATE SKIP LOCKED``); and each worker records a heartbeat, so the jobs of a worker that
died (SIGKILL, a lost host) are found and retried by the others (``rescue_stalled``). The
job ledger (``coachbot.jobs.run``) makes that retry act at most once per side effect.

One procrastinate task runs every coachbot job: its arguments are the job's name and its JSON
payload. procrastinate's own INFO logs name a job's arguments, so its loggers are kept at
WARNING (payloads hold ids, but the rule is never to log what people wrote).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from coachbot.jobs import Payload, Runtime, checked, run

log = logging.getLogger("coachbot.jobs")

TASK = "coachbot.job"
CONCURRENCY = 8  # jobs at once per worker (each a thread: they wait on Slack and the database)
HEARTBEAT_S = 5.0
STALLED_AFTER_S = 20.0  # a worker silent this long is gone; its jobs are retried elsewhere


def conninfo(database_url: str) -> str:
    """psycopg's connection string from our SQLAlchemy URL (``postgresql+psycopg://...``)."""
    scheme, rest = database_url.split("://", 1)
    if not scheme.startswith("postgresql"):
        raise ValueError("the job queue needs PostgreSQL")
    return "postgresql://" + rest


def make_app(database_url: str, runtime: Runtime | None = None, *, pool_size: int = 4) -> Any:
    """A procrastinate App for ``database_url``; with ``runtime``, one that can also run jobs."""
    import procrastinate

    logging.getLogger("procrastinate").setLevel(max(logging.WARNING, logging.getLogger().level))
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=conninfo(database_url), min_size=1, max_size=pool_size))

    @app.task(name=TASK)
    def coachbot_job(name: str, payload: Payload) -> None:
        if runtime is None:
            raise RuntimeError("this process submits jobs; it does not run them")
        run(runtime, name, payload)

    return app


class QueueRunner:
    """``submit`` inserts the job (and PostgreSQL notifies the workers); a worker runs it."""

    def __init__(self, database_url: str) -> None:
        self.app = make_app(database_url)
        self.app.open()

    def submit(self, name: str, payload: Payload) -> None:
        checked(name, payload)
        self.app.configure_task(TASK).defer(name=name, payload=payload)

    def close(self) -> None:
        self.app.close()


async def rescue_stalled(app: Any, stalled_after_s: float) -> None:
    """Forever: put back in the queue the jobs held by workers that stopped beating."""
    while True:
        await asyncio.sleep(stalled_after_s / 4)
        try:
            stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s)
            for found in stalled:
                try:
                    await app.job_manager.retry_job(found)
                    log.warning("job %s was held by a worker that is gone; it is queued again", found.id)
                except Exception:  # another worker retried it first
                    log.debug("job %s was retried elsewhere", found.id)
        except Exception:  # the database is away for a moment: try again next round
            log.warning("could not look for stalled jobs", exc_info=True)


async def work(app: Any, *, concurrency: int = CONCURRENCY, heartbeat_s: float = HEARTBEAT_S,
               stalled_after_s: float = STALLED_AFTER_S, parent: int | None = None) -> None:
    """Run jobs until SIGTERM or SIGINT (procrastinate's worker handles both, finishing what it
    holds), or, given ``parent``, until that process is gone (``coachbot serve`` was killed)."""
    async with app.open_async():
        worker = asyncio.create_task(app.run_worker_async(
            concurrency=concurrency, update_heartbeat_interval=heartbeat_s, stalled_worker_timeout=stalled_after_s,
            name="coachbot",
            # Done jobs leave the table, so it stays the size of the backlog.
            delete_jobs="successful"))
        helpers = [asyncio.create_task(rescue_stalled(app, stalled_after_s))]
        if parent is not None:
            helpers.append(asyncio.create_task(_orphaned(parent, worker)))
        try:
            await worker
        except asyncio.CancelledError:
            pass
        finally:
            for helper in helpers:
                helper.cancel()


async def _orphaned(parent: int, worker: asyncio.Task[None]) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("coachbot serve is gone; the job worker stops (its jobs stay queued)")
    worker.cancel()
