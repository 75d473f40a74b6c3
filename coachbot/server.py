"""Running the WSGI app on gunicorn (not Bolt's development server), with a job worker
(``coachbot worker``) beside the web workers on PostgreSQL, so one command runs everything."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from typing import Any, Callable

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from coachbot.config import Config

log = logging.getLogger("coachbot")


class WorkerProcess:
    """``coachbot worker`` as a child of gunicorn's master: started before the web workers,
    restarted when it exits, stopped after them. gunicorn's master reaps every child
    (``waitpid(-1)``), so an exit shows as ``poll()`` no longer being None, its status maybe lost."""

    def __init__(self, *, restart_after_s: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.restart_after_s = restart_after_s
        self.monotonic = monotonic
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._down_since: float | None = None
        self._stopped = False

    def start(self) -> None:
        import os

        self._owner = os.getpid()
        self.process = subprocess.Popen([sys.executable, "-m", "coachbot", "worker", "--parent", str(os.getpid())])

    def check(self) -> None:
        """From the master's loop, about once a second."""
        if self._stopped or self.process is None or self.process.poll() is None:
            return
        now = self.monotonic()
        if self._down_since is None:
            self._down_since = now
            log.error("the job worker exited (status %s); restarting it", self.process.returncode)
        if now - self._down_since >= self.restart_after_s:
            self._down_since = None
            self.restarts += 1
            self.start()

    def stop(self, timeout: float = 15.0) -> None:
        """After the web workers: SIGTERM lets it finish the jobs it holds (the rest stay queued)."""
        import os

        if self.process is None or os.getpid() != self._owner:  # a forked web worker leaving the master's stack
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.error("the job worker did not stop within %s s; killing it (its jobs are retried)", timeout)
                self.process.kill()
                self.process.wait()
            except ChildProcessError:  # reaped by gunicorn's master first
                pass


class _Arbiter(Arbiter):
    """gunicorn's master, which also keeps the job worker running."""

    def __init__(self, app: "_Gunicorn") -> None:
        super().__init__(app)
        self.job_worker = app.job_worker

    def manage_workers(self) -> None:  # called from the master's loop at least once a second
        super().manage_workers()
        if self.job_worker is not None:
            self.job_worker.check()


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any], job_worker: WorkerProcess | None) -> None:
        self.coachbot_config = config
        self.options = options
        self.job_worker = job_worker
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after the fork, so no database connection crosses processes.
        from coachbot.app import create_web_app

        return create_web_app(self.coachbot_config)

    def run(self) -> None:
        _Arbiter(self).run()


def gunicorn_options(config: Config, *, host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads: a worker keeps acknowledging while earlier requests finish.
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": None,
        "loglevel": config.log_level.lower(),
    }


def run_gunicorn(config: Config, *, host: str, port: int, workers: int, job_worker: bool = True) -> None:
    """Serve until stopped. On PostgreSQL, with ``job_worker`` (the default), a ``coachbot
    worker`` runs beside the web workers; on SQLite jobs run in the web workers' own pools."""
    # Import the app's modules once in the master, so forked workers share them (start-up and
    # memory); the app itself, with its database engine, is still built in each worker.
    import coachbot.app  # noqa: F401

    supervised = WorkerProcess() if job_worker and config.database_url.startswith("postgresql") else None
    if supervised is not None:
        supervised.start()
    try:
        _Gunicorn(config, gunicorn_options(config, host=host, port=port, workers=workers), supervised).run()
    finally:
        if supervised is not None:
            supervised.stop()
