"""Work after an acknowledgement: named jobs with JSON payloads, run by a ``JobRunner``.

A listener that has something slow left to do once the request is acknowledged (feedback in
a thread, App Home, a shared answer's post, a DM to a schedule's owner) submits a job by name
with a JSON payload: workspace, channel, user and ids, never an object or a client. Each
process that runs jobs has its own services and Slack client (``Runtime``).

Two runners, one interface (``submit``), independent of HTTP so Socket Mode uses it too:

- ``coachbot.jobs.pool.PoolRunner``: a bounded pool of threads in the same process, as Bolt
  itself runs listeners; the embedded default (SQLite, one host), no extra process.
- ``coachbot.jobs.queue.QueueRunner``: a durable queue on PostgreSQL (procrastinate), run by
  ``coachbot worker`` processes on any host; a job whose worker dies is retried.

Every job is idempotent: its payload names a ``key``, taken in the ``job_runs`` ledger before
the job's one side effect and marked finished after it, so a retry acts only if no earlier run
did. The one case left: a run that died during its Slack call itself (the post may or may not
have landed) is not repeated, so that nothing is ever posted twice; it is logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from slack_sdk import WebClient

from coachbot.services import Services
from coachbot.storage import jobs as ledger

log = logging.getLogger("coachbot.jobs")

Payload = dict[str, Any]


@dataclass(frozen=True)
class Runtime:
    """What a job runs with, in the process that runs it."""

    services: Services
    client: WebClient


Job = Callable[[Runtime, Payload], None]

#: Every job by name; filled by ``coachbot.handlers.jobs`` when it is imported.
JOBS: dict[str, Job] = {}


def job(name: str) -> Callable[[Job], Job]:
    def register(fn: Job) -> Job:
        if name in JOBS and JOBS[name] is not fn:
            raise ValueError(f"two jobs are named {name!r}")
        JOBS[name] = fn
        return fn

    return register


class JobRunner(Protocol):
    def submit(self, name: str, payload: Payload) -> None:
        """Run job ``name`` with ``payload`` (JSON, with a ``team_id`` and a ``key``) later."""

    def close(self) -> None:
        """Stop taking jobs; finish (or hand back) what was taken."""


def checked(name: str, payload: Payload) -> str:
    """The payload as JSON text; ValueError if it isn't a job's."""
    if name not in JOBS:
        raise ValueError(f"no job named {name!r}")
    if not isinstance(payload.get("team_id"), str) or not isinstance(payload.get("key"), str):
        raise ValueError(f"job {name} needs a team_id and a key in its payload")
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)


def run(runtime: Runtime, name: str, payload: Payload) -> None:
    """Run one job once per key: what a runner calls, in whichever process it runs."""
    team, key = payload["team_id"], f"{name}:{payload['key']}"
    db, clock = runtime.services.db, runtime.services.clock
    taken = ledger.take(db, team, key, clock.now())
    if taken is ledger.Taken.FINISHED:
        log.info("job %s already done; not repeated", key)
        return
    if taken is ledger.Taken.UNSURE:
        log.warning("job %s stopped during its Slack call earlier; not repeated, so nothing is posted twice", key)
        return
    try:
        JOBS[name](runtime, payload)
    finally:
        # Finished either way: a job that failed told the person (or logged why) and is not retried.
        ledger.finish(db, team, key, clock.now())
