"""The web worker's side: an ``Executor`` that hands each job to the after-ack process."""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from concurrent.futures import Executor, Future
from typing import Any, Callable, Mapping

from coachbot.afterack.jobs import dumps, name_of, run_job
from coachbot.afterack.wire import Address, connect, send_frame

log = logging.getLogger("coachbot.afterack")

RECONNECT_AFTER_S = 1.0  # after a failed connection, jobs run here for this long before the next try
#: A job that takes this long to send (the socket's buffers are full because the after-ack
#: process has stopped reading: stopped, deadlocked, starved) means it is stuck: that job runs
#: here, and the next ones too until a new connection is accepted.
SEND_STALL_S = 30.0
_STOP = object()


class Handoff(Executor):
    """``submit`` pickles the job and queues the bytes, so an acknowledgement never waits on
    the socket; one sender thread sends them. Only bytes wait in the queue: a backlog of
    thousands of jobs (the after-ack process is busy, or starting) costs memory, not the
    garbage collector's time in every web request. The returned future is already done:
    it means "handed over".

    A job that can't be pickled runs on ``fallback`` with the objects it was given; one that
    can't be sent runs there with this process's own ``local`` objects (by the names in
    ``shared``). A job is sent once or run here once, never both: a send that fails in the
    middle of a frame leaves the after-ack process a truncated frame, which it drops.
    """

    def __init__(self, address: Address, shared: Mapping[type, str], local: Mapping[str, Any],
                 fallback: Executor, *, monotonic: Callable[[], float] = time.monotonic,
                 send_timeout: float = SEND_STALL_S) -> None:
        self.address = address
        self.shared = dict(shared)
        self.local = dict(local)
        self.fallback = fallback
        self.monotonic = monotonic
        self.send_timeout = send_timeout
        self.handed = 0  # jobs sent to the after-ack process
        self.kept = 0  # jobs run on the fallback instead
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._socket: socket.socket | None = None
        self._retry_at = 0.0
        self._closed = False
        self._count = threading.Lock()  # kept is counted from callers' threads and the sender's
        self._sender = threading.Thread(target=self._send_all, name="after-ack-handoff", daemon=True)
        self._sender.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed:
            raise RuntimeError("cannot hand over work after shutdown")
        try:
            data = dumps((fn, args, kwargs), self.shared)
        except Exception:  # a job we can't pickle is a bug, but the person still gets their reply
            log.exception("after-ack job %s could not be pickled; running it here", name_of(fn))
            with self._count:
                self.kept += 1
            return self.fallback.submit(fn, *args, **kwargs)
        self._queue.put(data)
        done: Future[Any] = Future()
        done.set_result(None)
        return done

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
        if wait:
            self._sender.join()
        self.fallback.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _send_all(self) -> None:
        while True:
            data = self._queue.get()
            if data is _STOP:
                break
            sent = self._send(data)
            with self._count:
                if sent:
                    self.handed += 1
                else:
                    self.kept += 1
            if not sent:
                self.fallback.submit(run_job, data, self.local)
        self._disconnect()

    def _send(self, data: bytes) -> bool:
        for _ in range(2):  # a connection that broke since the last job gets one fresh try
            sock = self._connect()
            if sock is None:
                return False
            try:
                send_frame(sock, data)
                return True
            except OSError as exc:
                log.warning("handing a job to the after-ack process failed (%s); running it here", type(exc).__name__)
                self._disconnect()
                if isinstance(exc, TimeoutError):
                    self._retry_at = self.monotonic() + RECONNECT_AFTER_S
                    return False  # stuck, not closed: don't wait on it a second time for this job
        return False

    def _connect(self) -> socket.socket | None:
        if self._socket is not None:
            return self._socket
        if self.monotonic() < self._retry_at:
            return None
        try:
            self._socket = connect(self.address, send_timeout=self.send_timeout)
        except (OSError, EOFError) as exc:
            self._retry_at = self.monotonic() + RECONNECT_AFTER_S
            log.warning("the after-ack process is not reachable (%s); running after-ack work in the web worker",
                        type(exc).__name__)
            return None
        return self._socket

    def _disconnect(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
