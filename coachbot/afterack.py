"""Work that follows an acknowledgement, run in a process of its own at a lower CPU priority.

Why a process: a slash command is acknowledged at once and answered through its
response_url afterwards (a question picked and remembered, a card rendered and posted).
Done inside the web worker, that work shares the worker's GIL and the machine's cores
with the next requests' acknowledgements, which Slack needs within 3 seconds, and under
load the acks queue behind it. So ``coachbot serve`` starts one after-ack process beside
its web workers, at a lower priority (``NICENESS``): the workers hand it each job over a
local socket and go back to acknowledging. A reply may wait when the machine is
saturated; an acknowledgement does not.

A job is a module-level function and its arguments, pickled. The objects that belong to
one process (the services with their database engine, the Slack client) are not pickled:
they travel as names (``SHARED``) and the after-ack process puts in its own. The socket
lives in a private directory and each connection proves it knows a random key
(``multiprocessing.connection``'s HMAC handshake) before anything is unpickled.

Nothing is lost for want of the process: a job that can't be handed over (the process
is starting, restarting or gone) runs in the web worker, as it did before. A job already
handed over is lost if the after-ack process itself dies before running it (an
ephemeral reply the person can ask for again); the master restarts the process.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, Callable, Mapping

log = logging.getLogger(__name__)

#: How much lower the after-ack process runs than the web workers (``os.nice``). Where the
#: kernel has it (Linux), the process also takes the SCHED_IDLE policy: it runs on what CPU
#: the web workers leave, and a waking web worker preempts it at once.
NICENESS = 19
THREADS = 16
RECONNECT_AFTER_S = 1.0  # a web worker tries the socket again this long after it failed
STOP = object()


@dataclass(frozen=True)
class Address:
    """Where the after-ack process listens, and the key a connection must prove it knows."""

    path: str
    authkey: bytes


# --- pickling with per-process objects left out --------------------------------------------


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[type, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: Any) -> str | None:
        for kind, name in self._shared.items():
            if isinstance(obj, kind):
                return name
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[str, Any]) -> None:
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid: Any) -> Any:
        if pid not in self._shared:
            raise pickle.UnpicklingError(f"this process has no shared object named {pid!r}")
        return self._shared[pid]


def dumps(job: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]], shared: Mapping[type, str]) -> bytes:
    out = io.BytesIO()
    _Pickler(out, shared).dump(job)
    return out.getvalue()


def loads(data: bytes, shared: Mapping[str, Any]) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    return _Unpickler(io.BytesIO(data), shared).load()


def run_job(data: bytes, shared: Mapping[str, Any]) -> bool:
    """Unpickle a job with these shared objects and run it; False (logged) if it failed."""
    try:
        fn, args, kwargs = loads(data, shared)
    except Exception:
        log.exception("an after-ack job could not be unpickled")
        return False
    try:
        fn(*args, **kwargs)
    except Exception:  # the handlers reply on their own errors; this is the last word
        log.exception("after-ack job %s failed", _name(fn))
        return False
    return True


def _name(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


# --- the web worker's side ------------------------------------------------------------------


class Handoff(Executor):
    """An ``Executor`` for after-ack work that sends each job to the after-ack process.

    ``submit`` pickles the job and queues the bytes, so an acknowledgement never waits on
    the socket; one sender thread sends them. Only bytes wait in the queue: a backlog of
    thousands of jobs (the after-ack process is busy, or starting) costs memory, not the
    garbage collector's time in every web request. The returned future is already done:
    it means "handed over". A job that can't be pickled runs on ``fallback`` with the
    objects it was given; one that can't be sent runs there with this process's own
    ``local`` objects (by the names in ``shared``).
    """

    def __init__(self, address: Address, shared: Mapping[type, str], local: Mapping[str, Any],
                 fallback: Executor, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self.shared = dict(shared)
        self.local = dict(local)
        self.fallback = fallback
        self.monotonic = monotonic
        self.handed = 0  # jobs sent to the after-ack process
        self.kept = 0  # jobs run on the fallback instead
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._connection: Connection | None = None
        self._retry_at = 0.0
        self._closed = False
        self._sender = threading.Thread(target=self._send_all, name="after-ack-handoff", daemon=True)
        self._sender.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed:
            raise RuntimeError("cannot hand over work after shutdown")
        try:
            data = dumps((fn, args, kwargs), self.shared)
        except Exception:  # a job we can't pickle is a bug, but the person still gets their reply
            log.exception("after-ack job %s could not be pickled; running it here", _name(fn))
            self.kept += 1
            return self.fallback.submit(fn, *args, **kwargs)
        self._queue.put(data)
        done: Future[Any] = Future()
        done.set_result(None)
        return done

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(STOP)
        if wait:
            self._sender.join()
        self.fallback.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _send_all(self) -> None:
        while True:
            data = self._queue.get()
            if data is STOP:
                break
            if self._send(data):
                self.handed += 1
            else:
                self.kept += 1
                self.fallback.submit(run_job, data, self.local)
        if self._connection is not None:
            self._connection.close()

    def _send(self, data: bytes) -> bool:
        for _ in range(2):  # a connection that broke since the last job gets one fresh try
            connection = self._connect()
            if connection is None:
                return False
            try:
                connection.send_bytes(data)
                return True
            except OSError:
                connection.close()
                self._connection = None
        return False

    def _connect(self) -> Connection | None:
        if self._connection is not None:
            return self._connection
        if self.monotonic() < self._retry_at:
            return None
        try:
            self._connection = Client(self.address.path, family="AF_UNIX", authkey=self.address.authkey)
        except (OSError, EOFError) as exc:
            self._retry_at = self.monotonic() + RECONNECT_AFTER_S
            log.warning("the after-ack process is not reachable (%s); running after-ack work in the web worker",
                        type(exc).__name__)
            return None
        return self._connection


# --- the after-ack process's side -----------------------------------------------------------


class Runner:
    """Takes jobs from every web worker's connection and runs them on a thread pool."""

    def __init__(self, address: Address, shared: Mapping[str, Any], *, threads: int = THREADS) -> None:
        self.address = address
        self.shared = dict(shared)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="after-ack")
        self.done = 0
        self.failed = 0
        self._listener = Listener(address.path, family="AF_UNIX", authkey=address.authkey)
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept_all, name="after-ack-accept", daemon=True)

    def start(self) -> "Runner":
        self._accepting.start()
        return self

    def _accept_all(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except OSError:
                return  # the listener was closed: stopping
            except Exception as exc:  # a peer without the key: refused, keep listening  # noqa: BLE001
                log.warning("refused a connection to the after-ack socket: %s", type(exc).__name__)
                continue
            reader = threading.Thread(target=self._read_all, args=(connection,), name="after-ack-read", daemon=True)
            with self._lock:
                self._readers.append(reader)
            reader.start()

    def _read_all(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    data = connection.recv_bytes()
                except (EOFError, OSError):
                    return  # the web worker closed its end (it is stopping)
                self.pool.submit(self._run, data)

    def _run(self, data: bytes) -> None:
        if run_job(data, self.shared):
            self.done += 1
        else:
            self.failed += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, read what the web workers still send until they close, run it all."""
        try:
            self._listener.close()
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        with self._lock:
            readers = list(self._readers)
        for reader in readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        self.pool.shutdown(wait=True)


def lower_priority(niceness: int = NICENESS) -> None:
    """For this thread and those it starts later (Linux keeps priorities per thread)."""
    os.nice(niceness)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass  # not allowed here: the nice value alone still applies


def serve(address: Address, shared: Mapping[str, Any], *, threads: int = THREADS,
          parent: int | None = None) -> None:
    """The after-ack process's main loop: until SIGTERM, or until its parent (the master) is gone."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    runner = Runner(address, shared, threads=threads).start()
    log.info("after-ack process ready (pid %s, nice %+d)", os.getpid(), os.nice(0))
    while not stopping.wait(1.0):
        if parent is not None and os.getppid() != parent:
            log.warning("the web server's master is gone; the after-ack process stops")
            break
    runner.stop()


# --- the master's side: start, watch, restart, stop ----------------------------------------


class Supervisor:
    """Runs the after-ack process beside gunicorn's workers; restarts it if it dies."""

    def __init__(self, config: Any, *, restart_after_s: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.restart_after_s = restart_after_s
        self.monotonic = monotonic
        self.directory = tempfile.mkdtemp(prefix="coachbot-")  # 0700: only this user reaches the socket
        self.address = Address(os.path.join(self.directory, "after-ack.sock"), os.urandom(32))
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._down_since: float | None = None
        self._stopped = False

    def start(self) -> None:
        if os.path.exists(self.address.path):
            os.unlink(self.address.path)  # left by a process that died
        process = subprocess.Popen([sys.executable, "-m", "coachbot.afterack"], stdin=subprocess.PIPE)
        assert process.stdin is not None
        # The settings (with their secrets) and the key go through a pipe, never argv or the environment.
        process.stdin.write(pickle.dumps((self.config, self.address, os.getpid())))
        process.stdin.close()
        self.process = process

    def check(self) -> None:
        """Called from the master's loop about once a second."""
        if self._stopped or self.process is None or self.process.poll() is None:
            return
        now = self.monotonic()
        if self._down_since is None:
            self._down_since = now
            log.error("the after-ack process exited (status %s); web workers run its work until it is back",
                      self.process.returncode)
        if now - self._down_since >= self.restart_after_s:
            self._down_since = None
            self.restarts += 1
            self.start()

    def stop(self, timeout: float = 10.0) -> None:
        """After the web workers have stopped: let the process finish what it holds, then clean up."""
        self._stopped = True
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.error("the after-ack process did not stop within %s s; killing it", timeout)
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def main() -> None:
    """``python -m coachbot.afterack``: started by the master, reads its settings from stdin."""
    # Lower the priority first: threads started later (the pool's, the database driver's) inherit it.
    lower_priority()
    config, address, parent = pickle.loads(sys.stdin.buffer.read())
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from coachbot.app import create_after_ack_runtime

    shared, close = create_after_ack_runtime(config)
    try:
        serve(address, shared, parent=parent)
    finally:
        close()


if __name__ == "__main__":
    from coachbot.afterack import main as _main  # the importable module's, not this __main__ copy's

    _main()
