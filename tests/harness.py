"""A module-scoped app for tests that send many requests: the real app on one backend, a
stand-in Slack, a way to wait for work still running after an ack, and a snapshot of every
table so a test can say exactly what a request changed."""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from coachbot.standin.server import StandInSlack
from coachbot.storage.models import Answer, Base
from tests.scenario import Bot, empty_tables, start_bot

Snapshot = dict[str, tuple[int, str]]


class AppHarness:
    def __init__(self, backend: str, bot: Bot, slack: StandInSlack, url: str) -> None:
        self.backend = backend
        self.bot = bot
        self.slack = slack
        self.engine: Engine = create_engine(url)
        self._pending: set[Future] = set()
        self._lock = threading.Lock()
        # The listener pool Bolt runs every listener on, and the pool for work after an ack.
        assert bot.web.executors
        for executor in bot.web.executors:
            self._track(executor)

    def _track(self, executor: Any) -> None:
        submit = executor.submit

        def tracked(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
            future = submit(fn, *args, **kwargs)
            with self._lock:
                self._pending.add(future)
            future.add_done_callback(self._done)
            return future

        executor.submit = tracked  # type: ignore[method-assign]

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until every listener still working after its ack has finished."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{len(pending)} listener(s) still running after {timeout}s"
            wait(pending, timeout=remaining)

    def snapshot(self) -> Snapshot:
        """Each table's row count and a digest of its rows: inserts, updates and deletes all show.
        (Plain DB-API queries: this runs twice per example of a property test.)"""
        found: Snapshot = {}
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            for table in Base.metadata.sorted_tables:
                cursor.execute(f'SELECT * FROM "{table.name}"')
                rows = sorted(repr(tuple(row)) for row in cursor.fetchall())
                found[table.name] = (len(rows), hashlib.sha1("\n".join(rows).encode()).hexdigest())
            cursor.close()
            connection.rollback()
        finally:
            connection.close()
        return found

    @staticmethod
    def changed(before: Snapshot, after: Snapshot) -> set[str]:
        return {name for name in after if before.get(name) != after[name]}

    def answers(self, **where: Any) -> list[Answer]:
        with self.bot.services.db.session() as session:
            query = select(Answer).order_by(Answer.id)
            for name, value in where.items():
                query = query.where(getattr(Answer, name) == value)
            return list(session.scalars(query))

    def close(self) -> None:
        self.bot.web.close()
        self.engine.dispose()


@contextmanager
def module_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               make: Callable[[str, Bot, StandInSlack, str], AppHarness]) -> Iterator[AppHarness]:
    """One app for a whole module on ``request.param``'s backend, starting from empty tables."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("app") / "coachbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        empty_tables(url)
    slack = StandInSlack().start()
    harness = make(request.param, start_bot(slack, url), slack, url)
    try:
        yield harness
    finally:
        harness.close()
        slack.stop()
