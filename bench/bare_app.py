"""The baselines: Bolt apps whose ``/prep`` does the least, under coachbot's own gunicorn settings.

    python -m bench.bare_app --port 3001 --workers 2                  # acks, empty
    python -m bench.bare_app --port 3001 --mode card                  # a fixed question card in the ack
    python -m bench.bare_app --port 3001 --mode plain --database-url postgresql://...

``card`` is the floor of the HTTP path for a visible card. ``plain`` is the floor for the work a
card needs: one indexed query for a question this person has not seen, one insert to remember
it, on the same PostgreSQL, and the card in the ack (tables ``bench_plain_*``, made by
``bench.time_to_visible``).

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


NEXT_UNSEEN = ("SELECT q.id FROM bench_plain_questions q WHERE NOT EXISTS (SELECT 1 FROM bench_plain_seen s "
               "WHERE s.user_id = %s AND s.question_id = q.id) ORDER BY q.id LIMIT 1")
REMEMBER = "INSERT INTO bench_plain_seen (user_id, question_id) VALUES (%s, %s)"


def create_bare_app(signing_secret: str, bot_token: str, api_url: str, mode: str = "ack",
                    database_url: str | None = None) -> Callable[..., Iterable[bytes]]:
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

    from coachbot import blocks
    from coachbot.bank import load_bank

    bank = load_bank()
    questions = {q.id: q for q in bank if q.track == "leadership"}
    fixed = blocks.question_card(sorted(questions.values(), key=lambda q: q.id)[0], ask_track="leadership",
                                 ask_category=None)
    pool = None
    if mode == "plain":
        from psycopg_pool import ConnectionPool

        assert database_url is not None, "--mode plain needs --database-url"
        pool = ConnectionPool(database_url, min_size=2, max_size=8, open=True)

    @app.command("/prep")
    def prep(ack: Ack, command: dict[str, Any]) -> None:
        if mode == "ack":
            ack()
        elif mode == "card":
            ack(response_type="ephemeral", **fixed)
        else:
            assert pool is not None
            with pool.connection() as connection:
                row = connection.execute(NEXT_UNSEEN, (command["user_id"],)).fetchone()
                if row is not None:
                    connection.execute(REMEMBER, (command["user_id"], row[0]))
            question = questions[row[0]] if row is not None else next(iter(questions.values()))
            ack(response_type="ephemeral", **blocks.question_card(question, ask_track="leadership",
                                                                  ask_category=None))

    slack = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(_HEALTHY)))])
            return [_HEALTHY]
        return slack(environ, start_response)

    return wsgi


class BareGunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any], mode: str = "ack", database_url: str | None = None) -> None:
        self.options = options
        self.mode = mode
        self.database_url = database_url
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after the fork, like coachbot's.
        return create_bare_app(
            os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_API_URL"],
            self.mode, self.database_url,
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mode", choices=("ack", "card", "plain"), default="ack")
    parser.add_argument("--database-url", default=None, help="psycopg's URL, for --mode plain")
    args = parser.parse_args()
    options = coachbot_gunicorn_options(
        host=args.host, port=args.port, workers=args.workers, log_level=os.environ.get("LOG_LEVEL", "WARNING").upper()
    )
    BareGunicorn(options, args.mode, args.database_url).run()


if __name__ == "__main__":
    main()
