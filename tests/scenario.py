"""The scenario harness: the real coachbot app, a stand-in Slack, signed requests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone

from coachbot.app import assemble_web_app, slack_services, web_client
from coachbot.clock import FixedClock
from coachbot.config import Config
from coachbot.services import Services
from coachbot.standin.driver import SlackDriver
from coachbot.standin.render import render_blocks, render_view
from coachbot.standin.server import StandInSlack
from coachbot.storage.db import Database
from coachbot.web import WebApp

SECRET = "standin-signing-secret"
START = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@dataclass
class Bot:
    slack: StandInSlack
    driver: SlackDriver
    services: Services
    clock: FixedClock
    web: WebApp
    config: Config


def start_bot(slack: StandInSlack, database_url: str, **env: str) -> Bot:
    config = Config.from_env(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url,
            **env,
        }
    )
    clock = FixedClock(START)
    client = web_client(config)
    services = slack_services(config, Database(database_url), client, clock=clock, rng=random.Random(5))
    web = assemble_web_app(config, services, client)
    return Bot(slack, SlackDriver(slack, web, SECRET), services, clock, web, config)


def empty_tables(url: str) -> None:
    """Empty every table of a PostgreSQL database (the per-run one is shared by the run's tests)."""
    from sqlalchemy import create_engine, text

    from coachbot.storage.models import Base

    engine = create_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def text_of(blocks: list[dict]) -> str:
    return render_blocks(blocks)


def view_text(view: dict) -> str:
    return render_view(view)
