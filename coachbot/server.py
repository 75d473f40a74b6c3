"""Running the WSGI app on gunicorn (not Bolt's development server)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from coachbot.config import Config


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.coachbot_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after the fork, so no database connection crosses processes.
        from coachbot.app import create_web_app

        return create_web_app(self.coachbot_config)


def gunicorn_options(config: Config, *, host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads: Bolt acks first and finishes the work on a thread, so a worker
        # must keep serving while earlier requests complete.
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": None,
        "loglevel": config.log_level.lower(),
    }


def run_gunicorn(config: Config, *, host: str, port: int, workers: int) -> None:
    # Import the app's modules once in the master, so forked workers share them (start-up and
    # memory); the app itself, with its database engine, is still built in each worker.
    import coachbot.app  # noqa: F401

    _Gunicorn(config, gunicorn_options(config, host=host, port=port, workers=workers)).run()
