"""The master's side: start the after-ack process, watch it, restart it, stop it.

gunicorn's master reaps every child it has (``waitpid(-1)``), the after-ack process
included, so its exit can't be learnt from ``Popen.poll`` (which then reports 0, and could
even ask about a pid a new web worker has taken since). The process holds the write end of
a pipe instead, for its whole life: when the read end here sees end-of-file, the process
is gone, whoever reaped it.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

from coachbot.afterack.wire import Address

log = logging.getLogger("coachbot.afterack")

REAP_WAIT_S = 0.5  # how long to wait, once the process is gone, for its exit status


class Supervisor:
    def __init__(self, config: Any, *, restart_after_s: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.restart_after_s = restart_after_s
        self.monotonic = monotonic
        self.directory = tempfile.mkdtemp(prefix="coachbot-")  # 0700: only this user reaches the socket
        self.address = Address(os.path.join(self.directory, "after-ack.sock"), os.urandom(32))
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.exit_codes: list[int | None] = []  # of each process that ended; None where the status was lost
        self._alive: int | None = None  # read end of the process's lifeline
        self._down_since: float | None = None
        self._stopped = False
        # gunicorn's workers are forks of the master and leave through the master's own stack
        # (SystemExit), so they meet the master's ``finally: stop()`` too: only the master may stop.
        self._owner = os.getpid()

    def start(self) -> None:
        read_end, write_end = os.pipe()
        try:
            process = subprocess.Popen([sys.executable, "-m", "coachbot.afterack"], stdin=subprocess.PIPE,
                                       pass_fds=(write_end,))
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)  # before any web worker is forked, so only the process holds it
        assert process.stdin is not None
        # The settings (with their secrets) and the key go through a pipe, never argv or the environment.
        process.stdin.write(pickle.dumps((self.config, self.address, os.getpid())))
        process.stdin.close()
        self.process, self._alive = process, read_end

    @property
    def running(self) -> bool:
        if self._alive is None:
            return False
        if not select.select([self._alive], [], [], 0)[0]:
            return True
        os.close(self._alive)  # readable means end-of-file: nothing is ever written to it
        self._alive = None
        self.exit_codes.append(self._reap())
        return False

    def _reap(self) -> int | None:
        """The exit status if it can still be had; the process is known to be gone."""
        process = self.process
        assert process is not None
        deadline = time.monotonic() + REAP_WAIT_S
        code: int | None = None
        while True:
            try:
                pid, status = os.waitpid(process.pid, os.WNOHANG)
            except ChildProcessError:
                break  # gunicorn's master reaped it first
            if pid == process.pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                break  # still exiting, or (reaped, and the pid taken by another child) never ours again
            time.sleep(0.01)
        # Tell Popen it is over, so it never waits on or signals that pid again.
        process.returncode = code if code is not None else -1
        return code

    def check(self) -> None:
        """Called from the master's loop about once a second: restart the process if it is gone."""
        if self._stopped or self.process is None or self.running:
            return
        now = self.monotonic()
        if self._down_since is None:
            self._down_since = now
            code = self.exit_codes[-1]
            log.error("the after-ack process exited (%s); the web workers run its work until it is back",
                      "status lost to the master's reaping" if code is None else f"status {code}")
        if now - self._down_since >= self.restart_after_s:
            self._down_since = None
            self.restarts += 1
            self.start()

    def stop(self, timeout: float = 10.0) -> None:
        """After the web workers have stopped: let the process finish what it holds, then clean up.
        Does nothing in any process but the one that made this supervisor (a forked web worker)."""
        if os.getpid() != self._owner:
            return
        self._stopped = True
        if self.process is not None and self.running:
            self.process.terminate()
            deadline = time.monotonic() + timeout
            while self.running and time.monotonic() < deadline:
                select.select([self._alive], [], [], min(0.1, max(0.0, deadline - time.monotonic())))
            if self.running:
                log.error("the after-ack process did not stop within %s s; killing it", timeout)
                self.process.kill()
                while self.running:
                    select.select([self._alive], [], [], 0.1)
        shutil.rmtree(self.directory, ignore_errors=True)
