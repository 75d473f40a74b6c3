"""``coachbot serve --no-scheduler`` with instruments, for ``bench.ingest --profile`` / ``--timing``.

    python -m bench.profiled_serve --port P --workers 2 --out DIR [--no-cprofile]

Runs exactly what ``coachbot serve`` runs (``coachbot.server.run_gunicorn`` with
the app of ``coachbot.app.create_web_app``, the same gunicorn options), with
the database already migrated, and wraps, inside each worker only:

- the WSGI app: per request, the wall time and the handling thread's CPU time
  (``time.thread_time``), and (unless ``--no-cprofile``) a cProfile per
  handling thread timed by ``time.thread_time``, so a thread waiting for the
  GIL or the database is not charged;
- ``ReactionService.added`` / ``removed``: wall and CPU time of the storing;
- SQLAlchemy's cursor executes and commits (wall time and count).

Nothing of the app is changed on disk: the wrappers are set in this process
before gunicorn forks. When a worker exits (SIGTERM to the master), it writes
``worker-<pid>.prof`` (pstats) and ``worker-<pid>.json`` (the timings) to DIR.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import threading
import time
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
    def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        _local.sql_began = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        _add("sql_wall_s", time.perf_counter() - getattr(_local, "sql_began", time.perf_counter()))
        _add("sql_statements", 1)

    do_commit = DefaultDialect.do_commit

    def timed_commit(self, dbapi_connection):  # noqa: ANN001
        began = time.perf_counter()
        try:
            return do_commit(self, dbapi_connection)
        finally:
            _add("commit_wall_s", time.perf_counter() - began)

    DefaultDialect.do_commit = timed_commit  # type: ignore[method-assign]

    for name in ("added", "removed"):
        original = getattr(ReactionService, name)

        def timed(self, *args, __original=original, **kwargs):  # noqa: ANN001
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return __original(self, *args, **kwargs)
            finally:
                _add("service_wall_s", time.perf_counter() - wall)
                _add("service_cpu_s", time.thread_time() - cpu)

        setattr(ReactionService, name, timed)


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
    args = parser.parse_args()

    from coachbot import server
    from coachbot.cli import setup_logging
    from coachbot.config import Config

    config = Config.from_env(os.environ)
    setup_logging(config.log_level)
    _install_timers()
    use_cprofile = not args.no_cprofile
    out = args.out

    class Instrumented(server._Gunicorn):  # type: ignore[misc,name-defined]
        def load_config(self) -> None:
            super().load_config()
            self.cfg.set("worker_exit", lambda _server, _worker: _dump(out))

        def load(self) -> Any:
            return _wrap(super().load(), use_cprofile)

    server._Gunicorn = Instrumented  # type: ignore[attr-defined]
    server.run_gunicorn(config, host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
