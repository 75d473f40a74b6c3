"""The after-ack process's side: take jobs from every web worker's connection, run them."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from coachbot.afterack.jobs import run_job
from coachbot.afterack.wire import Address, RefusedError, check_key, listen, recv_frame

log = logging.getLogger("coachbot.afterack")

#: How much lower the after-ack process runs than the web workers (``os.nice``): under contention
#: the kernel gives it a small share beside each web worker, and all the CPU nobody else wants.
NICENESS = 19
THREADS = 16
ACCEPT_POLL_S = 0.2  # how often the accepting thread looks up to see whether it should stop


class Runner:
    def __init__(self, address: Address, shared: Mapping[str, Any], *, threads: int = THREADS) -> None:
        self.address = address
        self.shared = dict(shared)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="after-ack")
        self.done = 0
        self.failed = 0
        self.refused = 0  # connections that did not know the key, or hung up during the handshake
        self.dropped = 0  # jobs that arrived after the pool had stopped (only when stop() timed out)
        self._listener = listen(address)
        self._listener.settimeout(ACCEPT_POLL_S)
        self._stopping = threading.Event()
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept_all, name="after-ack-accept", daemon=True)

    def start(self) -> Runner:
        self._accepting.start()
        return self

    def _accept_all(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:  # e.g. out of file descriptors: say so, keep listening
                log.warning("the after-ack socket could not accept a connection: %s", type(exc).__name__)
                time.sleep(ACCEPT_POLL_S)
                continue
            reader = threading.Thread(target=self._read_all, args=(sock,), name="after-ack-read", daemon=True)
            with self._lock:
                self._readers.append(reader)
                reader.start()

    def _read_all(self, sock: socket.socket) -> None:
        with sock:
            try:
                check_key(sock, self.address.authkey)
            except (RefusedError, EOFError, OSError) as exc:
                with self._lock:
                    self.refused += 1
                log.warning("refused a connection to the after-ack socket: %s", type(exc).__name__)
                return
            while True:
                try:
                    data = recv_frame(sock)
                except (EOFError, OSError):
                    return  # the web worker closed its end (it is stopping), or a frame was cut short
                try:
                    self.pool.submit(self._run, data)
                except RuntimeError:  # the pool has stopped: stop() gave up waiting for this connection
                    with self._lock:
                        self.dropped += 1
                    log.error("an after-ack job arrived after the after-ack process stopped; it was not run")

    def _run(self, data: bytes) -> None:
        ok = run_job(data, self.shared)
        with self._lock:  # counters are shared by every thread here; += is not atomic
            if ok:
                self.done += 1
            else:
                self.failed += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting; read what the web workers still send until they close (at most
        ``timeout`` seconds), run it all, then return."""
        self._stopping.set()
        self._accepting.join()
        self._listener.close()
        deadline = time.monotonic() + timeout
        with self._lock:
            readers = list(self._readers)  # complete: the accepting thread has ended
        for reader in readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        self.pool.shutdown(wait=True)


def lower_priority(niceness: int = NICENESS) -> None:
    """For this thread and those it starts later (Linux keeps the nice value per thread)."""
    os.nice(niceness)


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
