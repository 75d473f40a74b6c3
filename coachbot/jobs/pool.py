"""The embedded runner: jobs on a bounded pool of threads in this process (SQLite, one host)."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

from coachbot.jobs import Payload, Runtime, checked, run

log = logging.getLogger("coachbot.jobs")

THREADS = 8


class PoolRunner:
    def __init__(self, runtime: Runtime, *, threads: int = THREADS, pool: ThreadPoolExecutor | None = None) -> None:
        self.runtime = runtime
        self.pool = pool or ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job")

    def submit(self, name: str, payload: Payload) -> None:
        # Through JSON, as on the queue: a job sees exactly what a worker elsewhere would.
        self.pool.submit(self._run, name, json.loads(checked(name, payload)))

    def _run(self, name: str, payload: Payload) -> None:
        try:
            run(self.runtime, name, payload)
        except Exception:  # a job's own failure is logged; the pool keeps going
            log.exception("job %s failed", name)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
