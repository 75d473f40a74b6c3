"""Shared pieces of the benchmarks: ports, the servers under test, databases, /proc readings.

Everything listens on and talks to 127.0.0.1 only. Every wait here has a
deadline, and every process started here is stopped by its own id.
"""

from __future__ import annotations

import http.client
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The repository root (the folder holding ``bench/``), put on the bare app's PYTHONPATH.
ROOT = Path(__file__).resolve().parent.parent

#: The signing secret both servers check and the load generator signs with.
SECRET = "bench-signing-secret"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def coachbot_gunicorn_options(*, host: str, port: int, workers: int, log_level: str) -> dict[str, Any]:
    """The exact gunicorn settings ``coachbot serve`` uses, so the bare Bolt app runs with
    whatever coachbot runs with, even after someone changes them."""
    from coachbot.config import Config
    from coachbot.server import gunicorn_options

    config = Config(bot_token="xoxb-bench", signing_secret=SECRET, log_level=log_level)
    return gunicorn_options(config, host=host, port=port, workers=workers)


# --- the servers under test -------------------------------------------------------------


def child_env(slack_api_url: str, bot_token: str, database_url: str | None, log_level: str) -> dict[str, str]:
    """The environment for a server: ours minus any Slack or database settings, plus the stand-in's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    env.update(
        SLACK_BOT_TOKEN=bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack_api_url,
        LOG_LEVEL=log_level,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.pop("WEB_CONCURRENCY", None)
    env.pop("PORT", None)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


@dataclass
class ServerProcess:
    """A server subprocess (a gunicorn master) listening on ``port``; stderr goes to a file."""

    name: str
    process: subprocess.Popen
    port: int
    log_path: Path
    started_at: float  # time.monotonic() just before the spawn
    _log_file: Any = field(repr=False, default=None)

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/slack/events"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def wait_healthy(self, timeout: float = 60.0, interval: float = 0.01) -> float:
        """Poll GET /healthz until it answers 200; returns time.monotonic() of that answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if http_get_status(self.port, "/healthz", timeout=2.0) == 200:
                return time.monotonic()
            time.sleep(interval)
        raise RuntimeError(f"{self.name} did not answer 200 on /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the master (gunicorn stops its workers gracefully); SIGKILL its group if it hangs."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    # The server was started in its own session: its group is exactly it and its workers.
                    try:
                        os.killpg(self.process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.process.wait(timeout=10)
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None


def _spawn(name: str, argv: list[str], env: Mapping[str, str], cwd: Path, port: int) -> ServerProcess:
    log_path = cwd / f"{name}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 (closed by ServerProcess.stop)
    started = time.monotonic()
    process = subprocess.Popen(
        argv, env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return ServerProcess(name, process, port, log_path, started, log_file)


def start_coachbot(
    *, port: int, workers: int, slack_api_url: str, bot_token: str, database_url: str, cwd: Path,
    log_level: str = "WARNING",
) -> ServerProcess:
    """``coachbot serve --no-scheduler`` exactly as deployed, on loopback."""
    argv = [sys.executable, "-m", "coachbot", "serve", "--no-scheduler",
            "--host", LOOPBACK, "--port", str(port), "--workers", str(workers)]
    return _spawn("coachbot", argv, child_env(slack_api_url, bot_token, database_url, log_level), cwd, port)


def start_bare(
    *, port: int, workers: int, slack_api_url: str, bot_token: str, cwd: Path, log_level: str = "WARNING",
    mode: str = "ack", database_url: str | None = None, name: str = "bare-bolt",
) -> ServerProcess:
    """A baseline Bolt app (``bench.bare_app``) under coachbot's gunicorn settings."""
    argv = [sys.executable, "-m", "bench.bare_app", "--host", LOOPBACK, "--port", str(port), "--workers", str(workers),
            "--mode", mode, *(["--database-url", database_url] if database_url else [])]
    env = child_env(slack_api_url, bot_token, None, log_level)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return _spawn(name, argv, env, cwd, port)


def http_get_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """The status of one GET on 127.0.0.1, or None when nothing answers."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return int(response.status)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


# --- databases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchDatabase:
    url: str
    kind: str  # "sqlite" or "postgresql"
    scratch: bool  # made for this run and dropped after it


@contextmanager
def bench_database(url: str | None, workdir: Path, *, as_is: bool = False) -> Iterator[BenchDatabase]:
    """The database the servers use.

    No URL: a new SQLite file in ``workdir``. A PostgreSQL URL: a scratch
    database ``coachbot_bench_<random>`` made on that server and dropped
    afterwards (``as_is``: the named database itself, left as it is after).
    """
    from coachbot.config import parse_database_url

    if url is None:
        yield BenchDatabase(f"sqlite:///{workdir / 'coachbot.db'}", "sqlite", True)
        return
    url = parse_database_url(url)
    if url.startswith("sqlite") or as_is:
        yield BenchDatabase(url, "sqlite" if url.startswith("sqlite") else "postgresql", False)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"coachbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield BenchDatabase(make_url(url).set(database=name).render_as_string(hide_password=False),
                                "postgresql", True)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary folder for logs and the SQLite file, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as path:
        yield Path(path)


# --- /proc ------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (read from /proc/<pid>/stat)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the parent pid follows its state letter.
        after = stat.rsplit(")", 1)[-1].split()
        if len(after) > 1 and int(after[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def is_job_worker(pid: int) -> bool:
    """Whether ``pid`` is a ``coachbot worker`` (started by ``coachbot serve`` on PostgreSQL)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"coachbot\x00worker" in f.read()
    except OSError:
        return False


def gunicorn_workers(master_pid: int, expected: int, timeout: float = 10.0) -> list[int]:
    """The web worker pids of a gunicorn master, waiting (bounded) until ``expected`` of them exist.
    coachbot's job worker is a child of the master too, but not a web worker: see ``job_worker_pids``."""
    deadline = time.monotonic() + timeout
    while True:
        workers = [pid for pid in children_of(master_pid) if not is_job_worker(pid)]
        if len(workers) >= expected or time.monotonic() > deadline:
            return workers
        time.sleep(0.05)


def job_worker_pids(master_pid: int, timeout: float = 5.0) -> list[int]:
    """coachbot's job worker under this master (waiting, bounded, for it to start); [] for a
    server without one (the bare app, or coachbot on SQLite)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [pid for pid in children_of(master_pid) if is_job_worker(pid)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) in KiB and Threads from /proc/<pid>/status."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                values[key] = int(rest.split()[0])
    return values


def proc_shared(pid: int) -> dict[str, int]:
    """Pss and Private (clean + dirty) in KiB from /proc/<pid>/smaps_rollup; empty if unreadable.

    A forked worker shares the master's pages until it writes them, so its
    VmRSS counts pages the master holds too; Private is what this one process
    alone costs, Pss its fair share of the shared pages.
    """
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Pss", "Private_Clean", "Private_Dirty"):
                    values[key] = int(rest.split()[0])
    except OSError:
        return {}
    if not values:
        return {}
    return {"Pss": values.get("Pss", 0), "Private": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)}


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (all their threads), from /proc/<pid>/stat."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                after = f.read().decode(errors="replace").rsplit(")", 1)[-1].split()
        except OSError:
            continue
        # Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name.
        total += (int(after[11]) + int(after[12])) / _TICKS
    return total


def machine() -> dict[str, Any]:
    """What the figures were taken on (no host names or paths)."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": f"{platform.system()} {platform.machine()}",
    }
    from importlib.metadata import PackageNotFoundError, version

    for package in ("gunicorn", "slack_bolt"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:  # versions are nice to have, never worth failing for
            info[package] = None
    return info
