"""The after-ack process (``coachbot.afterack``): pickling with per-process objects left
out, the web worker's ``Handoff``, the after-ack process's ``Runner``, the master's
``Supervisor``, and ``coachbot serve`` with the after-ack process beside its workers.

The first tests run a ``Runner`` in this process over a real Unix socket (``wire``: a key
handshake, then length-prefixed frames); the slow ones start real processes. Every wait is
bounded, and everything started is stopped in a ``finally`` or a fixture. A defect found in
``coachbot.afterack`` is pinned by an ``xfail(strict=True)`` test whose reason says what goes
wrong, so that it passes once fixed (none is open).
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import pytest

from coachbot.afterack import RECONNECT_AFTER_S, Address, Handoff, Runner, Supervisor, dumps, loads, lower_priority
from coachbot.afterack import wire
from coachbot.afterack import handoff as handoff_module  # where Handoff looks up wire's connect()
from coachbot.afterack import supervisor as supervisor_module
from tests.test_serve import free_port, serve_env, wait_healthy

T = TypeVar("T")


# --- jobs (module-level, so they pickle by reference) and the objects they are given -------


class FakeServices:
    """Stands for the services: one per process, never pickled (the lock could not be)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FakeServices({self.name!r})"


class FakeClient:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"FakeClient({self.name!r})"


class Unknown:
    """A shared type the Runners here have no object for."""


SHARED = {FakeServices: "services", FakeClient: "client"}


@dataclass(frozen=True)
class Ran:
    tag: Any
    services: Any
    client: Any
    thread: str


RAN: list[Ran] = []
_RAN_LOCK = threading.Lock()


def record(services: Any, client: Any, tag: Any) -> None:
    with _RAN_LOCK:
        RAN.append(Ran(tag, services, client, threading.current_thread().name))


def record_slowly(services: Any, client: Any, tag: Any) -> None:
    time.sleep(0.005)
    record(services, client, tag)


def boom(services: Any) -> None:
    raise ValueError("this job fails")


def record_bank_size(services: Any, path: str) -> None:
    """Run by the after-ack process: which process ran it, and the bank size its services see."""
    part = f"{path}.part"
    Path(part).write_text(f"{os.getpid()} {len(services.bank.select())}")
    os.replace(part, path)  # whole or not at all, for the test that polls for it


def ran() -> list[Ran]:
    with _RAN_LOCK:
        return list(RAN)


def ran_tags() -> list[Any]:
    return [r.tag for r in ran()]


def wait_until(predicate: Callable[[], T], timeout: float = 5.0, message: str = "the condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def _empty_ran() -> Iterator[None]:
    with _RAN_LOCK:
        RAN.clear()
    yield
    with _RAN_LOCK:
        RAN.clear()


@pytest.fixture
def address(tmp_path: Path) -> Iterator[Address]:
    path = tmp_path / "aa.sock"
    made = None
    if len(str(path)) >= 100:  # AF_UNIX paths must be shorter than 108 bytes
        made = tempfile.mkdtemp(prefix="aa-", dir="/tmp")
        path = Path(made) / "aa.sock"
    try:
        yield Address(str(path), os.urandom(32))
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


class Parts:
    """Runners and Handoffs made by a test; handoffs are closed before runners are stopped."""

    def __init__(self) -> None:
        self.runners: list[Runner] = []
        self.handoffs: list[Handoff] = []

    def runner(self, address: Address, shared: dict[str, Any], **kwargs: Any) -> Runner:
        runner = Runner(address, shared, **kwargs)
        self.runners.append(runner)
        return runner.start()

    def handoff(self, address: Address, local: dict[str, Any], shared: dict[type, str] | None = None,
                **kwargs: Any) -> Handoff:
        fallback = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fallback")
        try:
            handoff = Handoff(address, SHARED if shared is None else shared, local, fallback, **kwargs)
        except BaseException:
            fallback.shutdown()
            raise
        self.handoffs.append(handoff)
        return handoff

    def close(self) -> None:
        for handoff in self.handoffs:
            handoff.shutdown(wait=True)
        for runner in self.runners:
            runner.stop(timeout=5)


@pytest.fixture
def parts() -> Iterator[Parts]:
    made = Parts()
    try:
        yield made
    finally:
        made.close()


def objects(name: str) -> dict[str, Any]:
    return {"services": FakeServices(name), "client": FakeClient(name)}


def messages(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == level and text in r.getMessage()]


# --- 1. pickling ------------------------------------------------------------------------------


def test_shared_objects_travel_by_name_and_everything_else_by_value():
    class SpecialServices(FakeServices):
        pass

    sender_services, sender_client = FakeServices("web"), FakeClient("web")
    receiver = objects("after-ack")
    payload = {"team": "T1", "nested": (sender_services, [1, 2, {"client": sender_client}])}
    data = dumps((record, (sender_services, payload, "tag"), {"client": sender_client, "more": SpecialServices("x")}),
                 SHARED)

    fn, args, kwargs = loads(data, receiver)

    assert fn is record
    assert args[0] is receiver["services"]
    assert args[1]["nested"][0] is receiver["services"]  # inside a dict, inside a tuple
    assert args[1]["nested"][1][2]["client"] is receiver["client"]
    assert kwargs["client"] is receiver["client"]
    assert kwargs["more"] is receiver["services"]  # an instance of a subclass is the shared object too
    assert args[1]["team"] == "T1" and args[1]["nested"][1][:2] == [1, 2] and args[2] == "tag"
    assert args[1] is not payload  # a copy, not the sender's objects
    assert b"after-ack" not in data and b"web" not in data  # the shared objects themselves never travel


def test_a_job_naming_a_shared_object_the_receiver_lacks_is_refused():
    data = dumps((record, (FakeServices("web"), FakeClient("web"), 1), {}), SHARED)

    with pytest.raises(pickle.UnpicklingError, match="'client'"):
        loads(data, {"services": FakeServices("after-ack")})


# --- 2. in-process round trip over a real socket --------------------------------------------


def test_jobs_handed_over_run_in_the_runner_with_its_own_objects(parts: Parts, address: Address):
    theirs = objects("after-ack")
    runner = parts.runner(address, theirs)
    ours = objects("web")
    handoff = parts.handoff(address, ours)

    futures = [handoff.submit(record, ours["services"], ours["client"], i) for i in range(5)]
    futures.append(handoff.submit(record, ours["services"], client=ours["client"], tag="kw"))

    assert all(f.done() and f.result() is None for f in futures)  # done at once: "handed over"
    wait_until(lambda: len(ran()) == 6, message="six jobs to run in the Runner")
    assert sorted(map(str, ran_tags())) == ["0", "1", "2", "3", "4", "kw"]
    for job in ran():
        assert job.services is theirs["services"] and job.client is theirs["client"]
        assert job.thread.startswith("after-ack")
    wait_until(lambda: runner.done == 6, message="the Runner to count six jobs done")
    assert (handoff.handed, handoff.kept, runner.failed) == (6, 0, 0)


# --- 3. nobody listening: the fallback, and when to try again --------------------------------


def connect_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address the Handoff tries to connect to, from now on (it still connects)."""
    attempts: list[str] = []
    real_connect = handoff_module.connect

    def counting_connect(where: Address, **kwargs: Any) -> socket.socket:
        attempts.append(where.path)
        return real_connect(where, **kwargs)

    monkeypatch.setattr(handoff_module, "connect", counting_connect)
    return attempts


def test_with_nobody_listening_jobs_run_on_the_fallback_and_reconnects_wait(
        parts: Parts, address: Address, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    attempts = connect_attempts(monkeypatch)
    now = [1000.0]
    local = objects("web, local")
    handoff = parts.handoff(address, local, monotonic=lambda: now[0])
    sent = objects("web, in the job")  # other instances of the shared types, as a job would carry

    handoff.submit(record, sent["services"], sent["client"], "first")
    wait_until(lambda: "first" in ran_tags(), message="the first job to run on the fallback")
    assert len(attempts) == 1 and handoff.kept == 1 and handoff.handed == 0
    first = ran()[0]
    # Run from its pickled bytes with this process's own objects by name:
    assert first.services is local["services"] and first.client is local["client"]
    assert first.thread.startswith("fallback")
    assert len(messages(caplog, logging.WARNING, "not reachable")) == 1

    now[0] += RECONNECT_AFTER_S / 2
    handoff.submit(record, sent["services"], sent["client"], "second")
    wait_until(lambda: "second" in ran_tags(), message="the second job to run on the fallback")
    assert len(attempts) == 1  # too soon: no new connection attempt
    assert handoff.kept == 2
    assert len(messages(caplog, logging.WARNING, "not reachable")) == 1

    theirs = objects("after-ack")
    parts.runner(address, theirs)  # the after-ack process is back
    now[0] += RECONNECT_AFTER_S
    handoff.submit(record, sent["services"], sent["client"], "third")
    wait_until(lambda: "third" in ran_tags(), message="the third job to run")
    assert len(attempts) == 2 and attempts == [address.path, address.path]
    third = [r for r in ran() if r.tag == "third"][0]
    assert third.services is theirs["services"] and third.thread.startswith("after-ack")
    assert (handoff.handed, handoff.kept) == (1, 2)


# --- 4. a job that can't be pickled ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["local function", "lambda", "unpicklable argument"])
def test_a_job_that_cannot_be_pickled_runs_on_the_fallback_with_its_own_arguments(
        parts: Parts, address: Address, caplog: pytest.LogCaptureFixture, kind: str):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    theirs = objects("after-ack")
    parts.runner(address, theirs)
    local = objects("web, local")
    handoff = parts.handoff(address, local)
    sent = objects("web, in the job")

    def local_function(services: Any, client: Any, tag: Any) -> None:
        record(services, client, tag)

    tag: Any = kind
    if kind == "local function":
        fn: Callable[..., None] = local_function
    elif kind == "lambda":
        fn = lambda services, client, tag: record(services, client, tag)  # noqa: E731
    else:
        fn, tag = record, threading.Lock()

    future = handoff.submit(fn, sent["services"], sent["client"], tag)

    assert future.result(timeout=5) is None
    [job] = ran()
    assert job.tag is tag
    assert job.services is sent["services"] and job.client is sent["client"]  # the originals, not by name
    assert job.thread.startswith("fallback")
    assert (handoff.kept, handoff.handed) == (1, 0)
    [error] = messages(caplog, logging.ERROR, "could not be pickled")
    assert error.name == "coachbot.afterack" and error.exc_info is not None


# --- 5. the key, and peers that misbehave during the handshake ------------------------------


def test_a_connection_with_the_wrong_key_is_refused_and_the_runner_keeps_serving(
        parts: Parts, address: Address, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    theirs = objects("after-ack")
    runner = parts.runner(address, theirs)

    for _ in range(2):
        with pytest.raises(wire.RefusedError):
            wire.connect(Address(address.path, os.urandom(32)), send_timeout=None)
    wait_until(lambda: len(messages(caplog, logging.WARNING, "refused a connection")) == 2,
               message="the Runner to log both refusals")
    wait_until(lambda: runner.refused == 2, message="the Runner to count both refusals")

    ours = objects("web")
    handoff = parts.handoff(address, ours)
    handoff.submit(record, ours["services"], ours["client"], "after the refusals")
    wait_until(lambda: ran_tags() == ["after the refusals"], message="the correct Handoff's job to run")
    assert ran()[0].services is theirs["services"]
    assert handoff.handed == 1 and runner.failed == 0 and runner.refused == 2


@pytest.mark.parametrize("peer_does", ["hangs up", "hangs"])
def test_a_peer_that_hangs_up_or_hangs_during_the_handshake_costs_only_its_own_reader(
        parts: Parts, address: Address, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        peer_does: str):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    monkeypatch.setattr(wire, "HANDSHAKE_S", 1.0)  # read at each handshake, on both sides
    theirs = objects("after-ack")
    runner = parts.runner(address, theirs)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as peer:
        peer.settimeout(5)
        peer.connect(address.path)
        if peer_does == "hangs up":
            peer.close()  # e.g. a web worker killed while connecting
            wait_until(lambda: runner.refused == 1, message="the Runner to count the hang-up")
        else:  # takes the challenge and never answers it
            assert len(wire.recv_exact(peer, wire.CHALLENGE_BYTES)) == wire.CHALLENGE_BYTES
        ours = objects("web")
        handoff = parts.handoff(address, ours)
        handoff.submit(record, ours["services"], ours["client"], f"after the peer {peer_does}")
        wait_until(lambda: ran_tags() == [f"after the peer {peer_does}"], message="the job to run")
        assert ran()[0].services is theirs["services"] and handoff.handed == 1
        if peer_does == "hangs":
            assert runner.refused == 0  # served while that peer's reader still waits for its proof
            wait_until(lambda: runner.refused == 1, timeout=wire.HANDSHAKE_S + 3,
                       message="the Runner to give up on the silent peer")
            assert peer.recv(1) == b""  # and hang up on it
    [refusal] = messages(caplog, logging.WARNING, "refused a connection")
    if peer_does == "hangs":
        assert refusal.getMessage().endswith("TimeoutError")


def test_a_handoff_refused_by_the_listener_runs_its_jobs_on_the_fallback(
        parts: Parts, address: Address, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    crashed: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(f"{args.exc_type.__name__}"))
    runner = parts.runner(address, objects("after-ack"))
    local = objects("web, local")
    handoff = parts.handoff(Address(address.path, os.urandom(32)), local)  # a stale or foreign key
    sent = objects("web, in the job")

    handoff.submit(record, sent["services"], sent["client"], "refused")

    wait_until(lambda: ran_tags() == ["refused"] or crashed, timeout=3, message="the job to run or the sender to die")
    assert crashed == [], f"the Handoff's sender thread died: {crashed}"
    assert ran()[0].services is local["services"] and ran()[0].thread.startswith("fallback")
    assert (handoff.kept, handoff.handed) == (1, 0)
    assert messages(caplog, logging.WARNING, "not reachable (RefusedError)")
    wait_until(lambda: runner.refused == 1, message="the Runner to count the refusal")


def test_a_frame_larger_than_max_frame_drops_that_connection_and_the_runner_keeps_serving(
        parts: Parts, address: Address):
    theirs = objects("after-ack")
    runner = parts.runner(address, theirs)
    ours = objects("web")
    handoff = parts.handoff(address, ours)  # another connection, open all along
    handoff.submit(record, ours["services"], ours["client"], "other, before")
    wait_until(lambda: ran_tags() == ["other, before"], message="the other connection's first job")

    with wire.connect(address, send_timeout=5) as forged:
        wire.send_frame(forged, dumps((record, (ours["services"], ours["client"], "forged, before"), {}), SHARED))
        wait_until(lambda: "forged, before" in ran_tags(), message="the forged connection's proper frame to run")
        forged.sendall(struct.pack("!I", wire.MAX_FRAME + 1))  # a length no job has, with nothing after it
        forged.settimeout(5)
        try:
            rest = forged.recv(1)
        except ConnectionResetError:
            rest = b""
        assert rest == b""  # the Runner hung up on that connection
        with pytest.raises(BrokenPipeError):  # and reads nothing more from it
            wire.send_frame(forged, dumps((record, (ours["services"], ours["client"], "forged, after"), {}), SHARED))

    handoff.submit(record, ours["services"], ours["client"], "other, after")
    wait_until(lambda: "other, after" in ran_tags(), message="the other connection's next job")
    with wire.connect(address, send_timeout=5) as fresh:  # and new connections are still accepted
        wire.send_frame(fresh, dumps((record, (ours["services"], ours["client"], "new"), {}), SHARED))
    wait_until(lambda: runner.done == 4, message="four jobs done")
    assert sorted(ran_tags()) == ["forged, before", "new", "other, after", "other, before"]
    assert (runner.failed, runner.dropped, handoff.handed, handoff.kept) == (0, 0, 2, 0)


def test_a_send_that_stalls_runs_that_job_and_the_next_ones_on_the_fallback(
        parts: Parts, address: Address, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    # An after-ack process that takes the connection and proves the key, then never reads (stopped, stuck).
    listener = wire.listen(address)
    stuck: list[socket.socket] = []

    def accept_and_never_read() -> None:
        listener.settimeout(5)
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        stuck.append(connection)
        wire.check_key(connection, address.authkey)

    acceptor = threading.Thread(target=accept_and_never_read, name="stuck-after-ack", daemon=True)
    acceptor.start()
    attempts = connect_attempts(monkeypatch)
    try:
        local = objects("web, local")
        handoff = parts.handoff(address, local, monotonic=lambda: 100.0, send_timeout=0.5)  # the clock stands still
        sent = objects("web, in the job")
        big = b"x" * (8 << 20)  # far more than a Unix socket's buffer: the send has to wait for the reader
        started = time.monotonic()
        handoff.submit(record, sent["services"], sent["client"], big)
        for tag in ("next", "and the next"):
            handoff.submit(record, sent["services"], sent["client"], tag)

        wait_until(lambda: len(ran()) == 3, message="all three jobs to run on the fallback")
        assert time.monotonic() - started < 3  # waited on the stuck process about send_timeout, once
        assert sorted(map(len, ran_tags())) == sorted([len(big), len("next"), len("and the next")])
        assert all(r.services is local["services"] and r.thread.startswith("fallback") for r in ran())
        assert (handoff.handed, handoff.kept) == (0, 3) and handoff.handed + handoff.kept == 3
        assert attempts == [address.path]  # the stalled connection was dropped, not tried again for the others
        assert len(messages(caplog, logging.WARNING, "failed (TimeoutError)")) == 1
        handoff.shutdown(wait=True)
    finally:
        acceptor.join(5)
        for connection in stuck:
            connection.close()
        listener.close()


# --- 6. stopping -----------------------------------------------------------------------------


def test_stop_runs_every_job_of_every_connection_sent_before_it(address: Address):
    theirs = objects("after-ack")
    runner = Runner(address, theirs, threads=2).start()
    handoffs: list[Handoff] = []
    try:
        for n in range(3):  # three web workers, one connection each
            ours = objects(f"web {n}")
            handoffs.append(Handoff(address, SHARED, ours, ThreadPoolExecutor(1, thread_name_prefix="fallback")))
            for i in range(20):
                handoffs[-1].submit(record_slowly, ours["services"], ours["client"], (n, i))
        for handoff in handoffs:
            handoff.shutdown(wait=True)  # everything sent, the connection closed
        assert [(h.handed, h.kept) for h in handoffs] == [(20, 0)] * 3  # handed: each passed the key handshake
        runner.stop()
        # No waiting after stop(): it returns only once all of them ran (60 jobs of 5 ms on two threads).
        assert sorted(ran_tags()) == [(n, i) for n in range(3) for i in range(20)]
        assert all(r.services is theirs["services"] for r in ran())
        assert (runner.done, runner.failed, runner.dropped) == (60, 0, 0)
    finally:
        for handoff in handoffs:
            handoff.shutdown(wait=True)
        runner.stop(timeout=5)


def test_stop_runs_the_jobs_of_a_connection_accepted_just_before_it(address: Address, monkeypatch: pytest.MonkeyPatch):
    crashed: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(f"{args.exc_type.__name__}: "
                                                                            f"{args.exc_value}"))
    accepted, stopping = threading.Event(), threading.Event()
    real_init = threading.Thread.__init__

    def slow_to_make_readers(thread: threading.Thread, *args: Any, **kwargs: Any) -> None:
        """The accept thread descheduled between accepting a connection and registering its reader (as the
        lowest-priority process on a busy machine is) while stop() is called."""
        if kwargs.get("name") == "after-ack-read":
            accepted.set()
            stopping.wait(2)
            time.sleep(0.1)  # stop() has begun
        real_init(thread, *args, **kwargs)

    monkeypatch.setattr(threading.Thread, "__init__", slow_to_make_readers)
    theirs = objects("after-ack")
    runner = Runner(address, theirs).start()
    ours = objects("web")
    handoff = Handoff(address, SHARED, ours, ThreadPoolExecutor(1, thread_name_prefix="fallback"))

    def stop() -> None:
        stopping.set()
        runner.stop()

    stopper = threading.Thread(target=stop, name="stopper")
    try:
        for i in range(5):
            handoff.submit(record, ours["services"], ours["client"], i)
        assert accepted.wait(5), "the Runner did not accept the Handoff's connection"
        stopper.start()
        handoff.shutdown(wait=True)  # the handshake, in the reader started late, then the five jobs
        stopper.join(10)
        assert not stopper.is_alive()
        assert (handoff.handed, handoff.kept) == (5, 0)
        assert sorted(ran_tags()) == list(range(5)), f"dropped {runner.dropped}; threads that died: {crashed}"
        assert (runner.done, runner.dropped) == (5, 0) and crashed == []
    finally:
        stopping.set()
        handoff.shutdown(wait=True)
        if stopper.ident is not None:
            stopper.join(10)
        runner.stop(timeout=5)


def test_a_job_arriving_after_stop_gave_up_waiting_is_counted_as_dropped(
        address: Address, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    before = set(threading.enumerate())
    theirs = objects("after-ack")
    runner = Runner(address, theirs).start()
    ours = objects("web")
    connection = wire.connect(address, send_timeout=5)  # a web worker that never closes its connection
    try:
        wire.send_frame(connection, dumps((record, (ours["services"], ours["client"], "before stop"), {}), SHARED))
        wait_until(lambda: runner.done == 1, message="the first job to run")
        started = time.monotonic()
        runner.stop(timeout=0.2)
        assert time.monotonic() - started < 2  # gave up on that connection after its timeout
        wire.send_frame(connection, dumps((record, (ours["services"], ours["client"], "after stop"), {}), SHARED))
        wait_until(lambda: runner.dropped == 1, message="the Runner to count the job it could not run")
        assert messages(caplog, logging.ERROR, "arrived after the after-ack process stopped")
        assert ran_tags() == ["before stop"] and runner.done == 1
    finally:
        connection.close()  # the reader sees end-of-file and ends
        for thread in set(threading.enumerate()) - before:
            if thread.name == "after-ack-read":
                thread.join(5)
        runner.stop(timeout=5)


def test_stop_ends_the_thread_that_accepts_connections(address: Address):
    before = set(threading.enumerate())
    runner = Runner(address, objects("after-ack")).start()
    try:
        [accepting] = [t for t in set(threading.enumerate()) - before if t.name == "after-ack-accept"]
        wire.connect(address, send_timeout=None).close()  # it is accepting
        started = time.monotonic()
        runner.stop()
        assert time.monotonic() - started < 2  # within a poll of the accepting thread
        assert not accepting.is_alive()
        with pytest.raises(ConnectionRefusedError):  # and nothing listens on the socket any more
            wire.connect(address, send_timeout=None)
    finally:
        runner.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux keeps a nice value per thread")
def test_lower_priority_only_makes_the_calling_thread_nicer():
    seen: list[tuple[int, int]] = []

    def lowered() -> None:
        lower_priority()
        seen.append((os.nice(0), os.sched_getscheduler(0)))

    mine = os.nice(0), os.sched_getscheduler(0)
    thread = threading.Thread(target=lowered, name="lowered")
    thread.start()
    thread.join(5)
    assert seen == [(19, mine[1])]  # the lowest priority, and the scheduler left as it was (no SCHED_IDLE)
    assert (os.nice(0), os.sched_getscheduler(0)) == mine  # this thread is untouched


# --- 7. a failing job ------------------------------------------------------------------------


def test_a_failing_job_is_logged_and_counted_and_later_jobs_still_run(
        parts: Parts, address: Address, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    theirs = objects("after-ack")
    runner = parts.runner(address, theirs, threads=1)  # one thread: the later jobs run after the failures
    ours = objects("web")
    handoff = parts.handoff(address, ours, shared={**SHARED, Unknown: "unknown"})

    handoff.submit(boom, ours["services"])
    handoff.submit(record, Unknown(), ours["client"], "names an object the Runner lacks")
    handoff.submit(record, ours["services"], ours["client"], "later")
    handoff.submit(record, ours["services"], ours["client"], "later still")

    wait_until(lambda: runner.done == 2 and runner.failed == 2, message="two jobs done and two failed")
    assert ran_tags() == ["later", "later still"]
    [failed] = messages(caplog, logging.ERROR, "after-ack job tests.test_afterack.boom failed")
    assert failed.exc_info is not None and failed.exc_info[0] is ValueError
    [unpickled] = messages(caplog, logging.ERROR, "could not be unpickled")
    assert unpickled.exc_info is not None and unpickled.exc_info[0] is pickle.UnpicklingError


# --- 8. the after-ack process for real -------------------------------------------------------


def stand_in_config(slack: Any, database_url: str) -> Any:
    from coachbot.config import Config
    from tests.scenario import SECRET

    return Config.from_env({
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    })


def wait_connectable(supervisor: Supervisor, timeout: float = 20.0) -> None:
    """Until the after-ack process's socket takes a connection with the key."""
    def connected() -> bool:
        if not supervisor.running:
            raise AssertionError(f"the after-ack process exited: {supervisor.exit_codes}")
        if not os.path.exists(supervisor.address.path):
            return False
        try:
            connection = wire.connect(supervisor.address, send_timeout=None)
        except (OSError, EOFError):
            return False
        connection.close()
        return True

    wait_until(connected, timeout, message="the after-ack process to listen")


def read_record(path: Path, timeout: float = 10.0) -> tuple[int, int]:
    wait_until(path.exists, timeout, message=f"the after-ack job to write {path.name}")
    pid, size = path.read_text().split()
    return int(pid), int(size)


@pytest.mark.slow
def test_the_supervised_process_runs_jobs_with_its_own_services_and_comes_back_after_a_kill(
        slack: Any, database_url: str, tmp_path: Path):
    from coachbot.app import SHARED as APP_SHARED
    from coachbot.app import slack_services, web_client
    from coachbot.bank import load_bank
    from coachbot.storage.db import Database

    expected = len(load_bank().select())
    config = stand_in_config(slack, database_url)
    db = Database(database_url)
    client = web_client(config)
    local = {"services": slack_services(config, db, client), "client": client}
    now = [50.0]
    supervisor = Supervisor(config, restart_after_s=0.5, monotonic=lambda: now[0])
    handoff: Handoff | None = None
    try:
        supervisor.start()
        assert supervisor.process is not None
        first = supervisor.process.pid
        wait_connectable(supervisor)
        handoff = Handoff(supervisor.address, APP_SHARED, local, ThreadPoolExecutor(1, thread_name_prefix="fallback"))

        handoff.submit(record_bank_size, local["services"], str(tmp_path / "first"))
        assert read_record(tmp_path / "first") == (first, expected)
        assert first != os.getpid() and handoff.handed == 1 and handoff.kept == 0

        os.kill(first, signal.SIGKILL)
        wait_until(lambda: not supervisor.running, message="the Supervisor to see the process gone")
        assert supervisor.exit_codes == [-signal.SIGKILL]  # nobody else reaped it here: the status is known
        supervisor.check()  # notices; not yet time to restart
        assert supervisor.process.pid == first and supervisor.restarts == 0
        now[0] += supervisor.restart_after_s
        supervisor.check()
        assert supervisor.restarts == 1 and supervisor.running
        second = supervisor.process.pid
        assert second not in (first, os.getpid())
        wait_connectable(supervisor)

        handoff.submit(record_bank_size, local["services"], str(tmp_path / "second"))
        assert read_record(tmp_path / "second") == (second, expected)
        assert handoff.handed == 2 and handoff.kept == 0  # the same Handoff found the new process

        handoff.shutdown(wait=True)
        process = supervisor.process
        supervisor.stop()
        assert process.returncode == 0 and supervisor.exit_codes == [-signal.SIGKILL, 0]  # it stopped on SIGTERM
        assert not supervisor.running
        assert not os.path.exists(supervisor.directory)
    finally:
        if handoff is not None:
            handoff.shutdown(wait=True)
        supervisor.stop()
        db.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("reaped_by", ["the supervisor", "the master"])
def test_the_exit_of_an_after_ack_process_is_seen_whoever_reaps_it_and_its_pid_is_left_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, reaped_by: str):
    from coachbot.config import Config

    caplog.set_level(logging.WARNING, logger="coachbot.afterack")
    config = Config.from_env({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
                              "SLACK_API_URL": "http://127.0.0.1:9/api/", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                              "LOG_LEVEL": "WARNING"})
    now = [10.0]
    supervisor = Supervisor(config, restart_after_s=1.0, monotonic=lambda: now[0])
    signalled: list[int] = []
    real_kill = os.kill
    try:
        supervisor.start()
        assert supervisor.process is not None and supervisor.running
        old = supervisor.process
        real_kill(old.pid, signal.SIGKILL)
        if reaped_by == "the master":
            _, status = os.waitpid(old.pid, 0)  # what gunicorn's master does to each child that exits
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        else:
            wait_until(lambda: not supervisor.running, message="the Supervisor to see the process gone")

        monkeypatch.setattr(os, "kill", lambda pid, sig: (signalled.append(pid), real_kill(pid, sig)))
        supervisor.check()
        assert not supervisor.running and supervisor.restarts == 0
        [exited] = messages(caplog, logging.ERROR, "the after-ack process exited")
        if reaped_by == "the master":
            assert supervisor.exit_codes == [None] and "status lost" in exited.getMessage()
        else:
            assert supervisor.exit_codes == [-signal.SIGKILL] and f"status {-signal.SIGKILL}" in exited.getMessage()
        assert old.returncode is not None  # so Popen never waits on nor signals that pid again
        old.terminate()
        old.kill()

        now[0] += supervisor.restart_after_s
        supervisor.check()
        assert supervisor.restarts == 1 and supervisor.running and supervisor.process is not old
        new = supervisor.process
        supervisor.stop()
        assert not supervisor.running and len(supervisor.exit_codes) == 2
        assert old.pid not in signalled and set(signalled) == {new.pid}  # stop() signalled the new process only
    finally:
        supervisor.stop()


# --- 9. coachbot serve, end to end -----------------------------------------------------------


def process_state(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) from /proc, or None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    state = process_state(pid)
    return state is not None and state[0] != "Z"


def after_ack_children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        state = process_state(int(entry))
        if state is None or state[1] != parent or state[0] == "Z":
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"coachbot.afterack" in cmdline:
            found.append(int(entry))
    return found


def unix_sockets(pid: int) -> list[tuple[str, str]]:
    """(state, path) of the process's Unix sockets: "01" listening, "03" connected."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    except OSError:
        return []
    found = []
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[6] in inodes:
            found.append((fields[5], fields[7]))
    return found


def after_ack_socket(pid: int, state: str) -> str | None:
    return next((path for st, path in unix_sockets(pid) if st == state and path.endswith("after-ack.sock")), None)


def wait_serving(port: int, serve: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """tests.test_serve's ``wait_healthy`` for a serve whose stderr goes to a file, not a pipe."""
    try:
        return wait_healthy(port, serve)
    except AttributeError:  # it exited, and wait_healthy read its (absent) stderr pipe for the reason
        raise AssertionError(f"coachbot serve exited with {serve.returncode}: {log.read_text()}") from None


def test_only_the_process_that_made_the_supervisor_stops_it(monkeypatch: pytest.MonkeyPatch):
    """gunicorn's workers are forks of the master and leave through its stack, meeting its
    ``finally: supervisor.stop()``: in any other process, stop() must leave the after-ack
    process and its socket directory alone; in the master it removes the directory."""
    supervisor = Supervisor(config=None)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(supervisor_module.os, "getpid", lambda: supervisor._owner + 1)  # a forked worker
            supervisor.stop(timeout=0.1)
        assert os.path.isdir(supervisor.directory)
        supervisor.stop(timeout=0.1)  # the master
        assert not os.path.exists(supervisor.directory)
    finally:
        shutil.rmtree(supervisor.directory, ignore_errors=True)
