"""The baseline: a bare Bolt app whose ``/prep`` only acks, under coachbot's own gunicorn settings.

    python -m bench.bare_app --port 3001 --workers 2

reads SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL and LOG_LEVEL like
``coachbot serve``. Bolt's stock WSGI adapter serves ``POST /slack/events``;
``GET /healthz`` answers 200 so the harness can wait for it the same way.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

from bench.common import LOOPBACK, coachbot_gunicorn_options

_HEALTHY = b'{"status": "ok"}'


def create_bare_app(signing_secret: str, bot_token: str, api_url: str) -> Callable[..., Iterable[bytes]]:
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    # Bolt calls auth.test once, on the first request (as it does in coachbot): point it at the stand-in.
    app = App(
        client=WebClient(token=bot_token, base_url=api_url, timeout=10),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        # The floor: the listener runs on the request's own thread and its ack is the response.
        # Bolt's default (False) runs it on a pool and polls for the ack every 10 ms, which
        # would add up to 10 ms to every bare ack and flatter coachbot.
        process_before_response=True,
    )

    @app.command("/prep")
    def prep(ack: Ack) -> None:
        ack()

    slack = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(_HEALTHY)))])
            return [_HEALTHY]
        return slack(environ, start_response)

    return wsgi


class BareGunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after the fork, like coachbot's.
        return create_bare_app(
            os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_API_URL"]
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    options = coachbot_gunicorn_options(
        host=args.host, port=args.port, workers=args.workers, log_level=os.environ.get("LOG_LEVEL", "WARNING").upper()
    )
    BareGunicorn(options).run()


if __name__ == "__main__":
    main()
