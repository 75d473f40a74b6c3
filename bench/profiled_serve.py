"""``coachbot serve --no-scheduler`` with instruments, for ``bench.ingest --profile`` / ``--timing``.

    python -m bench.profiled_serve --port P --workers 2 --out DIR [--no-cprofile] [--no-timers]
                                   [--experiment one-statement] [--experiment pool]
                                   [--experiment autocommit-engine]

Runs exactly what ``coachbot serve`` runs (``coachbot.server.run_gunicorn`` with
the app of ``coachbot.app.create_web_app``, the same gunicorn options), with
the database already migrated, and wraps, inside each worker only:

- the WSGI app: per request, the wall time and the handling thread's CPU time
  (``time.thread_time``), and (unless ``--no-cprofile``) a cProfile per
  handling thread timed by ``time.thread_time``, so a thread waiting for the
  GIL or the database is not charged;
- ``ReactionService.added`` / ``removed``: wall and CPU time of the storing;
- SQLAlchemy's cursor executes and commits (wall time and count), pool checkouts
  (wall time, including the pre-ping and any new connection) and new connections.

``--experiment`` patches a candidate change of the app in memory (see
``EXPERIMENTS``), to measure it before proposing it. Nothing of the app is
changed on disk: the wrappers are set in this process before gunicorn forks. When a worker exits (SIGTERM to the master), it writes
``worker-<pid>.prof`` (pstats) and ``worker-<pid>.json`` (the timings) to DIR.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import threading
import time
from datetime import UTC
from pathlib import Path
from typing import Any

_local = threading.local()
_lock = threading.Lock()
_profiles: list[cProfile.Profile] = []
_totals: dict[str, float] = {}


def _add(key: str, value: float) -> None:
    acc = getattr(_local, "acc", None)
    if acc is not None:
        acc[key] = acc.get(key, 0.0) + value


def _install_timers() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine.default import DefaultDialect

    from coachbot.services.reactions import ReactionService

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        _local.sql_began = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        _add("sql_wall_s", time.perf_counter() - getattr(_local, "sql_began", time.perf_counter()))
        _add("sql_statements", 1)

    from sqlalchemy.pool import Pool

    @event.listens_for(Pool, "connect")
    def _connected(dbapi_connection, record):
        _add("new_connections", 1)

    raw_connection = Engine.raw_connection

    def timed_checkout(self, *args, **kwargs):
        began = time.perf_counter()
        try:
            return raw_connection(self, *args, **kwargs)
        finally:
            _add("checkout_wall_s", time.perf_counter() - began)

    Engine.raw_connection = timed_checkout  # type: ignore[method-assign]

    do_commit = DefaultDialect.do_commit

    def timed_commit(self, dbapi_connection):
        began = time.perf_counter()
        try:
            return do_commit(self, dbapi_connection)
        finally:
            _add("commit_wall_s", time.perf_counter() - began)

    DefaultDialect.do_commit = timed_commit  # type: ignore[method-assign]

    for name in ("added", "removed"):
        original = getattr(ReactionService, name)

        def timed(self, *args, __original=original, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return __original(self, *args, **kwargs)
            finally:
                _add("service_wall_s", time.perf_counter() - wall)
                _add("service_cpu_s", time.thread_time() - cpu)

        setattr(ReactionService, name, timed)


# --- experiments: candidate app changes, patched in memory to measure them before proposing them ----

ADD_SQL = """
WITH a AS (
    SELECT id, user_id FROM answers
    WHERE team_id = CAST(:team AS varchar) AND channel_id = CAST(:channel AS varchar) AND message_ts = CAST(:ts AS varchar) LIMIT 1
), ev AS (
    INSERT INTO processed_events (team_id, event_id, received_at)
    SELECT CAST(:team AS varchar), CAST(:event AS varchar), CAST(:now AS timestamp) FROM a
    ON CONFLICT DO NOTHING RETURNING 1
), r AS (
    INSERT INTO reactions (team_id, answer_id, author_id, user_id, emoji, is_self, created_at)
    SELECT CAST(:team AS varchar), a.id, a.user_id, CAST(:user AS varchar), CAST(:emoji AS varchar), a.user_id = CAST(:user AS varchar), CAST(:now AS timestamp) FROM a, ev
    ON CONFLICT ON CONSTRAINT uq_reactions_one_each DO NOTHING
    RETURNING answer_id, is_self
), u AS (
    UPDATE answers SET reaction_count = answers.reaction_count + 1 FROM r
    WHERE answers.id = r.answer_id AND NOT r.is_self RETURNING 1
)
SELECT count(*) FROM r
"""

REMOVE_SQL = """
WITH a AS (
    SELECT id FROM answers
    WHERE team_id = CAST(:team AS varchar) AND channel_id = CAST(:channel AS varchar) AND message_ts = CAST(:ts AS varchar) LIMIT 1
), ev AS (
    INSERT INTO processed_events (team_id, event_id, received_at)
    SELECT CAST(:team AS varchar), CAST(:event AS varchar), CAST(:now AS timestamp) FROM a
    ON CONFLICT DO NOTHING RETURNING 1
), d AS (
    DELETE FROM reactions USING a, ev
    WHERE reactions.team_id = CAST(:team AS varchar) AND reactions.answer_id = a.id
      AND reactions.user_id = CAST(:user AS varchar) AND reactions.emoji = CAST(:emoji AS varchar)
    RETURNING reactions.answer_id, reactions.is_self
), u AS (
    UPDATE answers SET reaction_count = answers.reaction_count - 1 FROM d
    WHERE answers.id = d.answer_id AND NOT d.is_self RETURNING 1
)
SELECT count(*) FROM d
"""


def _experiment_one_statement() -> None:
    """ReactionService.added/removed as one atomic PostgreSQL statement (a data-modifying CTE) on an
    autocommit connection: one round trip, no ORM unit of work. Same outcomes as the ORM version: an
    unknown message, a repeated event id or an already-stored reaction store nothing."""

    from sqlalchemy import text

    from coachbot.services.reactions import MAX_EMOJI, ReactionService

    add, remove = text(ADD_SQL), text(REMOVE_SQL)

    def run(self, statement, team_id, event_id, channel_id, ts, user_id, emoji) -> bool:
        if not self.db.engine.dialect.name == "postgresql":
            raise RuntimeError("the one-statement experiment is written for PostgreSQL")
        now = self.clock.now().astimezone(UTC).replace(tzinfo=None)
        with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return bool(connection.execute(statement, {
                "team": team_id, "event": event_id, "channel": channel_id, "ts": ts, "user": user_id,
                "emoji": emoji, "now": now}).scalar_one())

    def added(self, *, team_id, event_id, channel_id, ts, user_id, emoji) -> bool:
        if not (team_id and channel_id and ts and user_id and emoji) or len(emoji) > MAX_EMOJI:
            return False
        return run(self, add, team_id, event_id, channel_id, ts, user_id, emoji)

    def removed(self, *, team_id, event_id, channel_id, ts, user_id, emoji) -> bool:
        if not (team_id and channel_id and ts and user_id and emoji):
            return False
        return run(self, remove, team_id, event_id, channel_id, ts, user_id, emoji)

    ReactionService.added = added  # type: ignore[method-assign]
    ReactionService.removed = removed  # type: ignore[method-assign]


def _experiment_pool() -> None:
    """PostgreSQL engine without the pre-ping round trip per checkout, and a pool as large as the
    worker's request threads (8) so connections are not opened and closed under load."""
    from sqlalchemy import create_engine

    from coachbot.storage import db as storage

    original = storage.make_engine

    def make_engine(url: str):
        if url.startswith("sqlite"):
            return original(url)
        return create_engine(url, pool_pre_ping=False, pool_size=8, max_overflow=8, pool_timeout=5,
                             pool_recycle=300, connect_args={"connect_timeout": 2})

    storage.make_engine = make_engine  # type: ignore[assignment]


def _experiment_autocommit_engine() -> None:
    """``Database.autocommit`` on its own engine created with isolation_level AUTOCOMMIT (a pool sized
    like the 'pool' experiment's, no pre-ping), so a checkout does not switch the connection's
    isolation level and back (round trips) for every statement."""
    import threading as _threading
    from contextlib import contextmanager

    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError, OperationalError

    from coachbot.errors import StorageUnavailableError
    from coachbot.storage import db as storage

    lock = _threading.Lock()

    @contextmanager
    def autocommit(self):
        with lock:
            engine = self.__dict__.get("_bench_autocommit_engine")
            if engine is None:
                engine = self.__dict__["_bench_autocommit_engine"] = create_engine(
                    self.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_size=8, max_overflow=8,
                    pool_timeout=5, pool_recycle=300, connect_args={"connect_timeout": 2})
        try:
            with engine.connect() as connection:
                yield connection
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise StorageUnavailableError("the database is unavailable") from exc
            raise

    storage.Database.autocommit = autocommit  # type: ignore[method-assign]


EXPERIMENTS = {"one-statement": _experiment_one_statement, "pool": _experiment_pool,
               "autocommit-engine": _experiment_autocommit_engine}


def _wrap(app: Any, use_cprofile: bool) -> Any:
    def instrumented(environ: dict[str, Any], start_response: Any) -> Any:
        profile = None
        if use_cprofile:
            profile = getattr(_local, "profile", None)
            if profile is None:
                profile = _local.profile = cProfile.Profile(time.thread_time)
                with _lock:
                    _profiles.append(profile)
        _local.acc = {}
        wall, cpu = time.perf_counter(), time.thread_time()
        if profile is not None:
            profile.enable()
        try:
            # coachbot's WebApp returns a list, so the whole request is handled inside this call.
            return list(app(environ, start_response))
        finally:
            if profile is not None:
                profile.disable()
            acc = _local.acc
            acc["wall_s"] = time.perf_counter() - wall
            acc["cpu_s"] = time.thread_time() - cpu
            acc["requests"] = 1
            _local.acc = None
            with _lock:
                for key, value in acc.items():
                    _totals[key] = _totals.get(key, 0.0) + value

    instrumented.close = getattr(app, "close", None)  # type: ignore[attr-defined]
    return instrumented


def _dump(out: Path) -> None:
    pid = os.getpid()
    with _lock:
        profiles = list(_profiles)
        totals = dict(_totals)
    (out / f"worker-{pid}.json").write_text(json.dumps(totals))
    if profiles:
        import pstats

        merged = None
        for profile in profiles:
            profile.create_stats()
            if merged is None:
                merged = pstats.Stats(profile)
            else:
                merged.add(profile)
        if merged is not None:
            merged.dump_stats(str(out / f"worker-{pid}.prof"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiled_serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-cprofile", action="store_true", help="only the timings")
    parser.add_argument("--no-timers", action="store_true", help="no timings either (for --experiment)")
    parser.add_argument("--experiment", action="append", default=[], choices=sorted(EXPERIMENTS),
                        help="patch a candidate app change in memory (repeatable)")
    args = parser.parse_args()

    from coachbot import server
    from coachbot.cli import setup_logging
    from coachbot.config import Config

    config = Config.from_env(os.environ)
    setup_logging(config.log_level)
    for name in args.experiment:
        EXPERIMENTS[name]()
    instrumented = not args.no_timers
    if instrumented:
        _install_timers()  # after the experiments, so their methods are the ones timed
    use_cprofile = instrumented and not args.no_cprofile
    out = args.out

    class Instrumented(server._Gunicorn):  # type: ignore[misc,name-defined]
        def load_config(self) -> None:
            super().load_config()
            if instrumented:
                self.cfg.set("worker_exit", lambda _server, _worker: _dump(out))

        def load(self) -> Any:
            app = super().load()
            return _wrap(app, use_cprofile) if instrumented else app

    server._Gunicorn = Instrumented  # type: ignore[attr-defined]
    server.run_gunicorn(config, host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
