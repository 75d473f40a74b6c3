"""Running the WSGI app on gunicorn (not Bolt's development server), with the after-ack
process (``coachbot.afterack``) beside the workers."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from coachbot.afterack import Supervisor
from coachbot.config import Config


class _Arbiter(Arbiter):
    """gunicorn's master, which also keeps the after-ack process running."""

    def __init__(self, app: "_Gunicorn") -> None:
        super().__init__(app)
        self.after_ack = app.after_ack

    def manage_workers(self) -> None:  # called from the master's loop at least once a second
        super().manage_workers()
        if self.after_ack is not None:
            self.after_ack.check()


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any], after_ack: Supervisor | None) -> None:
        self.coachbot_config = config
        self.options = options
        self.after_ack = after_ack
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after the fork, so no database connection crosses processes.
        from coachbot.app import create_web_app

        address = self.after_ack.address if self.after_ack is not None else None
        return create_web_app(self.coachbot_config, after_ack=address)

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


def run_gunicorn(config: Config, *, host: str, port: int, workers: int, after_ack: bool = True) -> None:
    """Serve until stopped. With ``after_ack`` (the default), the work that follows an ack
    runs in its own lower-priority process, started before the workers and stopped after
    them, so it finishes what they handed it."""
    # Import the app's modules once in the master, so forked workers share them (start-up and
    # memory); the app itself, with its database engine, is still built in each worker.
    import coachbot.app  # noqa: F401

    supervisor = Supervisor(config) if after_ack else None
    if supervisor is not None:
        supervisor.start()
    try:
        _Gunicorn(config, gunicorn_options(config, host=host, port=port, workers=workers), supervisor).run()
    finally:
        if supervisor is not None:
            supervisor.stop()
