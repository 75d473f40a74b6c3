"""The demo's world: the real coachbot app wired to a stand-in Slack, a fixed clock and a database.

Built the way production builds it (``Config``, ``web_client``,
``slack_services``, ``build_bolt_app``, ``WebApp``), with three things swapped
for the demo: Slack is :class:`~coachbot.standin.server.StandInSlack` on
loopback, time is a :class:`~coachbot.clock.FixedClock` the script moves, and
the database is a throwaway SQLite file unless one is given.
"""

from __future__ import annotations

import random
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from coachbot.app import assemble_web_app, slack_services, web_client
from coachbot.clock import FixedClock
from coachbot.config import Config
from coachbot.errors import CoachbotError, ConfigError
from coachbot.scheduler import tick
from coachbot.services import Services
from coachbot.services.fanout import SendReport
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.standin.driver import SlackDriver
from coachbot.standin.server import StandInSlack
from coachbot.storage.db import Database
from coachbot.web import WebApp

CHANNEL = "C0PRACTICE"
CHANNEL_NAME = "practice"
TIMEZONE = "Europe/Berlin"
ZONE = ZoneInfo(TIMEZONE)
#: The demo's Monday: the script starts at 09:00 on it.
MONDAY = date(2026, 11, 23)
#: Only the stand-in and the app share it; nothing leaves the machine.
SIGNING_SECRET = "coachbot-demo-signing-secret"
#: How long to wait for the app to finish what a request started.
SETTLE_SECONDS = 10.0


class DemoError(CoachbotError):
    """Something the person running the demo can fix (shown as one line by the CLI)."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    real_name: str

    @property
    def handle(self) -> str:
        """The name as typed at the interactive prompt (``ana``, ``chloé``)."""
        return self.name.lower()


PEOPLE: tuple[Person, ...] = (
    Person("U0ANA", "Ana", "Ana Ferreira"),
    Person("U0BEN", "Ben", "Ben Okafor"),
    Person("U0CHLOE", "Chloé", "Chloé Martin"),
    Person("U0DEV", "Dev", "Dev Sharma"),
)


def person(name: str) -> Person:
    """A person of the demo by name, ignoring case and accents (``chloe`` is Chloé); ``KeyError`` if unknown."""
    for candidate in PEOPLE:
        if _folded(candidate.name) == _folded(name.strip()):
            return candidate
    raise KeyError(name)


def _folded(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def local(day: date, hour: int, minute: int) -> datetime:
    """A wall-clock time in the demo's timezone."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, remembering unfinished work so the demo can wait for it.

    Bolt acknowledges Slack first and runs the listener afterwards on this
    pool; ``drain`` is how the demo knows the app has finished reacting to a
    request before it looks at what Slack now shows.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="demo-listener")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = SETTLE_SECONDS) -> None:
        """Wait until every submitted listener has finished (work may submit more work)."""
        while True:
            with self._lock:
                pending = [future for future in self._pending if not future.done()]
            if not pending:
                return
            _, unfinished = wait(pending, timeout)
            if unfinished:
                raise DemoError(f"the app did not finish its work within {timeout:.0f} s")


@dataclass
class World:
    slack: StandInSlack
    driver: SlackDriver
    services: Services
    clock: FixedClock
    executor: TrackingExecutor
    poster: SlackPromptPoster

    def settle(self) -> None:
        self.executor.drain()

    def now(self) -> datetime:
        """The demo's time, in its timezone."""
        return self.clock.now().astimezone(ZONE)

    def run_scheduler(self) -> SendReport:
        """One tick of the production scheduler at the demo's time."""
        report = tick(self.services, self.poster, self.clock.now())
        self.settle()
        return report

    def names(self) -> dict[str, str]:
        return self.slack.user_names()

    def team_id(self) -> str:
        return self.slack.team_id


@contextmanager
def open_world(database_url: str | None = None, *, seed: int = 7) -> Iterator[World]:
    """Start everything; on exit stop it and delete the temporary database (a given one is kept)."""
    with ExitStack() as stack:
        url = database_url or _temporary_sqlite(stack)
        clock = FixedClock(local(MONDAY, 9, 0))
        # Message timestamps follow the demo's clock, so the transcript (permalinks too) is the same every run.
        slack = stack.enter_context(StandInSlack(wall_clock=lambda: clock.now().timestamp()))
        _populate(slack)
        config = _config(slack, url)
        _migrate(config.database_url)
        client = web_client(config)
        services = slack_services(config, Database(config.database_url), client, clock=clock,
                                  rng=random.Random(seed))
        executor = TrackingExecutor(max_workers=4)
        web = _web_app(config, services, client, executor)
        stack.callback(web.close)
        driver = SlackDriver(slack, web, SIGNING_SECRET)
        poster = SlackPromptPoster(prompt_client(client))
        yield World(slack, driver, services, clock, executor, poster)


def _web_app(config: Config, services: Services, client: WebClient, executor: TrackingExecutor) -> WebApp:
    """The production HTTP front, with the demo's pool so it can wait for the work left after each ack."""
    return assemble_web_app(config, services, client, executor)


def _temporary_sqlite(stack: ExitStack) -> str:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coachbot-demo-")))
    return f"sqlite:///{(folder / 'demo.db').as_posix()}"


def _config(slack: StandInSlack, database_url: str) -> Config:
    # An explicit mapping, never the process environment: the demo needs no Slack credentials.
    environ = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
    }
    try:
        return Config.from_env(environ)
    except ConfigError as exc:
        raise DemoError(f"--database-url: {exc}") from None


def _migrate(database_url: str) -> None:
    try:
        database = Database(database_url)
    except ImportError as exc:
        raise DemoError(f"--database-url needs a driver that is not installed ({exc.name})") from None
    try:
        database.upgrade()
    except SQLAlchemyError as exc:
        raise DemoError(f"cannot open the database given by --database-url ({exc.__class__.__name__})") from None
    finally:
        database.dispose()


def _populate(slack: StandInSlack) -> None:
    for someone in PEOPLE:
        slack.add_user(someone.id, someone.name, real_name=someone.real_name, tz=TIMEZONE)
    slack.add_channel(CHANNEL, CHANNEL_NAME, members=[p.id for p in PEOPLE])
