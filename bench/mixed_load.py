"""Mixed load: 50 people's slash commands and 300+ reaction events/s at once, then a consistency check.

    python -m bench.mixed_load                           # 60 s on a scratch PostgreSQL database
    python -m bench.mixed_load --seconds 10              # a short run
    python -m bench.mixed_load --database-url postgresql://postgres@127.0.0.1:5432/test --json out.json

What runs (everything on 127.0.0.1):

- a stand-in Slack (``coachbot.standin``) in this process: coachbot's Web API calls and its
  response_url replies go there, and it records them;
- ``coachbot serve --no-scheduler`` as deployed (gunicorn, gthread, its default 2 workers), on
  PostgreSQL: by default a scratch database ``coachbot_bench_<random>`` made on
  ``--database-url``'s server (127.0.0.1:5432 unless told) and dropped afterwards;
- two load-generator processes, started before the clock and kept for the run, so their CPU time
  and GIL are neither the server's nor the stand-in's:

  * **commands**: ``--people`` concurrent people (one keep-alive connection and one Slack user id
    each, closed loop): each sends a signed ``/prep`` slash command, waits for its acknowledgement,
    thinks (uniform 0 to 2 x ``--think-ms``), and sends the next, until the time is up. The texts
    follow ``--mix`` (default: ``/prep leadership`` 35 %, ``/prep technical system-design`` 25 %,
    ``/prep stats`` 20 %, ``/prep leaderboard`` 10 %, ``/prep help`` 10 %). Every command has its own
    fresh response_url from the stand-in. A command's latency is from writing the request to
    reading the whole HTTP response.
  * **events**: signed Events API deliveries, paced open loop at ``--events-per-second`` unique
    event ids (delivery k is due at start + k / rate) from ``--event-connections`` keep-alive
    connections that each take the next due delivery when free. An event's latency counts from when
    it was *due*, so a server that falls behind (or connections all busy) is charged for it; the
    time from actually writing it is reported too. Of the unique events, about
    ``--remove-share`` are ``reaction_removed`` of a reaction added (and acknowledged) at least
    1.5 s earlier, ``--unknown-share`` are reactions on messages that are not answers (coachbot
    must ignore them), ``--self-share`` are an answer's author reacting to their own answer (stored,
    never counted), and the rest ``reaction_added`` from distinct (person, emoji, answer)
    combinations. On top of those, ``--retry-share`` of the events are re-sent 1 to 3 s later as
    Slack retries them: the same body and event id, with ``X-Slack-Retry-Num`` (1, sometimes also 2)
    and ``X-Slack-Retry-Reason: http_timeout``.

Before the clock starts, ``--answers`` answers (thread replies to a daily prompt, with
``channel_id``/``message_ts``, authored by the same people, spread over the last two weeks so
stats and leaderboards have something to read) are stored through the ORM, and a short warm-up
(1.5 s of 10 people and 100 events/s; counted in the checks, not in the latency figures) runs.

Checks (all must hold; the exit status is 1 otherwise). Each has a kind: *correctness* checks
fail when something is wrong whatever the speed, *capacity* checks when the server (or the
machine) is too slow for the load.

- correctness: no 5xx, no other status than 200, no request left without an answer;
- capacity: every acknowledgement within Slack's 3 s, for commands and for events (from due)
  separately, the warm-up included; events offered at no less than ``--events-per-second`` unique
  event ids; nothing left unsent (the time limit, or a removal whose add was not acknowledged
  within 5 s);
- correctness: afterwards, the stored reactions are exactly the distinct reactions acknowledged
  minus those removed (retries did not count twice, a retry of an add that was later removed did
  not bring it back, and nothing was stored for unknown messages); ``processed_events`` holds each
  acknowledged event on an answer once; every answer's ``reaction_count`` equals its rows from
  other people;
- the deferred replies (all commands but ``/prep help``, which answers in its ack): correctness,
  none went twice to its response_url, none was an error message, and none is missing once they
  stopped coming; capacity, all arrived within ``--reply-timeout`` s after the load (replies still
  coming in when the wait ends are counted late, not lost); ``/prep help``'s blocks came in its
  ack (correctness).

Also reported: the load average (at the start, the end and sampled during the run), the machine's
CPU use during the run and who used it (server, PostgreSQL backends, load generators, this
process with the stand-in), and the stand-in's Web API calls.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import sys
import threading
import time
import uuid
from array import array
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    SECRET,
    bench_database,
    cpu_seconds,
    free_port,
    job_worker_pids,
    gunicorn_workers,
    machine,
    start_coachbot,
    workdir,
)
from bench.stats import fmt_ms, summarize
from coachbot.standin.sender import USER_AGENT

LOOPBACK = "127.0.0.1"
SLACK_LIMIT_S = 3.0
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_MIX = "leadership:35,technical system-design:25,stats:20,leaderboard:10,help:10"
#: Commands answered in the ack itself (no deferred reply through the response_url).
INSTANT = frozenset({"help"})
EMOJIS = ("+1", "tada", "fire", "clap", "heart", "raised_hands", "100", "bulb", "rocket", "eyes", "star", "muscle")
REMOVE_AFTER_S = 1.5  # a removal is planned at least this long after its add was due
#: Deliveries are still started this long after the last one was due (any later one would be past Slack's 3 s).
LATE_GRACE_S = 3.0
DEPENDENCY_WAIT_S = 5.0  # how long a removal waits for its add's ack before it is given up (and counted)
REQUEST_TIMEOUT_S = 10.0
#: Checks of this kind fail when the server (or the machine) is too slow for the load; the others
#: (statuses, what was stored, the replies) fail when something is wrong whatever the speed.
CAPACITY = "capacity"


# --- settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    seconds: float = 60.0
    people: int = 50
    events_per_second: float = 300.0
    event_connections: int = 16
    think_ms: float = 250.0
    mix: str = DEFAULT_MIX
    remove_share: float = 0.10
    unknown_share: float = 0.03
    self_share: float = 0.01
    retry_share: float = 0.04
    answers: int = 400
    channels: int = 8
    reactors: int = 1500
    workers: int = 2
    warmup_seconds: float = 1.5
    database_url: str | None = DEFAULT_DATABASE
    database_as_is: bool = False  # use database_url itself (the tests' per-run database), not a scratch one
    reply_timeout: float = 30.0
    time_limit: float = 0.0  # seconds for everything; 0: seconds + 180
    seed: int = 1
    log_level: str = "WARNING"

    def mix_weights(self) -> list[tuple[str, float]]:
        return parse_mix(self.mix)


def parse_mix(text: str) -> list[tuple[str, float]]:
    found = []
    for part in text.split(","):
        command, _, weight = part.strip().rpartition(":")
        if not command or float(weight) < 0:
            raise ValueError(f"--mix: {part!r} is not TEXT:WEIGHT")
        found.append((command.strip(), float(weight)))
    if not found or sum(w for _, w in found) <= 0:
        raise ValueError("--mix has no positive weight")
    return found


# --- what is sent ----------------------------------------------------------------------------------

#: One unique event: (kind "added"/"removed", reacting user, emoji, channel, message ts, item_user or "",
#: event id, target "answer"/"self"/"unknown").
Event = tuple[str, str, str, str, str, str, str, str]
#: One delivery: (due offset in s, index of its unique event, index of the event whose ack it waits for
#: or -1, retry number (0: the first delivery)).
Item = tuple[float, int, int, int]


def person(n: int) -> str:
    return f"U0MXP{n:04d}"


def reactor(n: int) -> str:
    return f"U0MXR{n:05d}"


def channel_of(n: int) -> str:
    return f"C0MIX{n:04d}"


@dataclass(frozen=True)
class SeededAnswer:
    channel: str
    ts: str
    author: str


def seed_answers(url: str, slack: Any, s: Settings) -> list[SeededAnswer]:
    """Post a prompt in each channel and the answers as replies in its thread at the stand-in (so
    chat.getPermalink finds them), then migrate and store the answers through the ORM."""
    from coachbot.storage.db import Database
    from coachbot.storage.models import Answer

    rng = random.Random(s.seed)
    prompts = {}
    for c in range(s.channels):
        channel = channel_of(c)
        slack.add_channel(channel, f"practice-{c}", members=[person(n) for n in range(s.people) if n % s.channels == c])
        prompts[channel] = slack.post_as_user(channel, slack.bot_user_id, "Today's question: tell me about a time "
                                              "you changed a team's mind.").ts
    db = Database(url)
    seeded = []
    try:
        db.upgrade()
        now = datetime.now(UTC)
        with db.session() as session:
            for n in range(s.answers):
                channel = channel_of(n % s.channels)
                author = person(rng.randrange(s.people))
                reply = slack.post_as_user(channel, author, f"mixed-load answer {n}", thread_ts=prompts[channel])
                # Spread over the last two weeks, so stats and this week's leaderboard have something to read.
                created = now - timedelta(minutes=rng.randrange(14 * 24 * 60))
                track = rng.choice(("leadership", "technical"))
                session.add(Answer(
                    team_id=slack.team_id, user_id=author, question_id=f"mixed-q{n % 40}",
                    question_text="Tell me about a time you changed a team's mind.", track=track,
                    category="influence" if track == "leadership" else "system-design",
                    text=f"mixed-load answer {n}", source="thread", created_at=created,
                    local_day=created.date(), visibility="channel", channel_id=channel, message_ts=reply.ts,
                    thread_ts=prompts[channel], reaction_count=0,
                ))
                seeded.append(SeededAnswer(channel, reply.ts, author))
    finally:
        db.dispose()
    return seeded


class Planner:
    """Hands out unique events (distinct reactions, removals of acknowledged ones, reactions on
    unknown messages, self-reactions) and their Slack retries, deterministically from the seed."""

    def __init__(self, s: Settings, answers: list[SeededAnswer], tag: str) -> None:
        self.s = s
        self.answers = answers
        self.tag = tag
        self.rng = random.Random(s.seed + 1)
        self.events: list[Event] = []
        self.used: set[tuple[int, str, str]] = set()  # (answer, user, emoji) already planned
        # Recent answers draw more reactions: answer i is picked with weight 1 / (1 + rank / 20).
        order = list(range(len(answers)))
        self.rng.shuffle(order)
        self.answer_order = order
        self.weights = [1 / (1 + rank / 20) for rank in range(len(order))]
        self.cumulative = list(_accumulate(self.weights))

    def _event_id(self) -> str:
        return f"Ev0MX{self.tag}{len(self.events):08d}"

    def _pick_answer(self) -> int:
        x = self.rng.random() * self.cumulative[-1]
        lo, hi = 0, len(self.cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cumulative[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return self.answer_order[lo]

    def _new(self, event: Event) -> int:
        self.events.append(event)
        return len(self.events) - 1

    def add(self, target: str) -> int:
        if target == "unknown":
            c = self.rng.randrange(self.s.channels)
            ts = f"{1790000000 + len(self.events)}.{self.rng.randrange(10**6):06d}"
            return self._new(("added", reactor(self.rng.randrange(self.s.reactors)), self.rng.choice(EMOJIS),
                              channel_of(c), ts, "", self._event_id(), "unknown"))
        for _ in range(1000):  # bounded: the space of combinations is far larger than what is drawn
            a = self._pick_answer()
            answer = self.answers[a]
            user = answer.author if target == "self" else reactor(self.rng.randrange(self.s.reactors))
            emoji = self.rng.choice(EMOJIS)
            if (a, user, emoji) not in self.used:
                self.used.add((a, user, emoji))
                return self._new(("added", user, emoji, answer.channel, answer.ts, answer.author,
                                  self._event_id(), target))
        raise RuntimeError("ran out of distinct reactions: raise --answers or --reactors")

    def remove(self, added: int) -> int:
        _, user, emoji, channel, ts, item_user, _, target = self.events[added]
        return self._new(("removed", user, emoji, channel, ts, item_user, self._event_id(), target))

    def plan(self, seconds: float, rate: float, *, removals: bool, retries: bool) -> list[Item]:
        """Deliveries for ``seconds`` at ``rate`` unique events/s, sorted by due time."""
        s = self.s
        count = max(1, round(seconds * rate))
        items: list[Item] = []
        waiting: list[tuple[float, int]] = []  # (due, event) of adds not yet removable, in due order
        removable: list[int] = []
        w = 0
        for k in range(count):
            due = k / rate
            while w < len(waiting) and waiting[w][0] <= due - REMOVE_AFTER_S:
                removable.append(waiting[w][1])
                w += 1
            u = self.rng.random()
            if removals and u < s.remove_share and removable:
                i = self.rng.randrange(len(removable))
                removable[i], removable[-1] = removable[-1], removable[i]
                added = removable.pop()
                event, depends = self.remove(added), added
            elif u < s.remove_share + s.unknown_share:
                event, depends = self.add("unknown"), -1
            elif u < s.remove_share + s.unknown_share + s.self_share:
                event, depends = self.add("self"), -1
            else:
                event, depends = self.add("answer"), -1
                waiting.append((due, event))
            items.append((due, event, depends, 0))
            if retries and self.rng.random() < s.retry_share:
                again = due + self.rng.uniform(1.0, 3.0)
                if again < seconds:
                    items.append((again, event, depends, 1))
                    if self.rng.random() < 0.25 and again + 1.0 < seconds:
                        items.append((again + 1.0, event, depends, 2))
        items.sort(key=lambda item: (item[0], item[3]))
        return items


def _accumulate(values: list[float]) -> list[float]:
    total, out = 0.0, []
    for v in values:
        total += v
        out.append(total)
    return out


# --- the load generators (each runs in its own process) ---------------------------------------------


@dataclass(frozen=True)
class EventSpec:
    port: int
    team_id: str
    events: tuple[Event, ...]
    items: tuple[Item, ...]
    connections: int
    start_at: float  # time.time() at which delivery 0 is due
    time_limit: float  # seconds after start_at; nothing is started after it
    signing_secret: str = SECRET


@dataclass
class EventResult:
    status: list[int] = field(default_factory=list)  # per item: HTTP status, 0 no answer, -1 not sent, -2 gave up
    from_due: list[float] = field(default_factory=list)  # per item, seconds (NaN when not answered)
    from_send: list[float] = field(default_factory=list)
    send_lag: list[float] = field(default_factory=list)  # seconds from due to writing it
    first_send: float = math.nan  # seconds after start_at
    last_send: float = math.nan
    last_done: float = math.nan
    start_late: float = 0.0  # how late the senders began after start_at (preparation overran)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0


def _event_body(event: Event, team_id: str, event_time: int, n: int) -> bytes:
    from coachbot.standin.requests import (
        event_callback,
        reaction_added,
        reaction_removed,
    )

    kind, user, emoji, channel, ts, item_user, event_id, _ = event
    build = reaction_added if kind == "added" else reaction_removed
    payload = build(user, emoji, channel, ts, item_user=item_user or None,
                    event_ts=f"{event_time}.{n % 10**6:06d}")
    return event_callback(event=payload, team_id=team_id, event_id=event_id, event_time=event_time)[0]


def _connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT_S)


def _post(connection: http.client.HTTPConnection, port: int, body: bytes, headers: dict[str, str]
          ) -> tuple[http.client.HTTPConnection, int, bytes, int, str]:
    """POST with one reconnect on a dropped keep-alive connection: (connection, status or 0, body, reconnects, error)."""
    reconnects = 0
    error = ""
    for attempt in (1, 2):
        try:
            connection.request("POST", "/slack/events", body, headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = _connect(port)
            reconnects += 1
            error = f"{type(exc).__name__}: {exc}"
            continue
        if response.will_close:
            connection.close()
            connection = _connect(port)
            reconnects += 1
        return connection, int(response.status), data, reconnects, ""
    return connection, 0, b"", reconnects, error


def run_events(spec: EventSpec) -> EventResult:
    """Send every delivery of ``spec`` at its due time; runs inside an event load-generator process."""
    from coachbot.standin.signing import sign

    event_time = int(spec.start_at)
    bodies = [_event_body(e, spec.team_id, event_time, n) for n, e in enumerate(spec.events)]
    count = len(spec.items)
    status = array("i", [-1] * count)
    from_due = array("d", [math.nan] * count)
    from_send = array("d", [math.nan] * count)
    send_lag = array("d", [math.nan] * count)
    acked = bytearray(len(bodies))  # unique event answered 200 (any delivery of it)
    sent = bytearray(len(bodies))  # unique event written at least once
    acked_changed = threading.Condition()
    taken = [0]
    take_lock = threading.Lock()
    marks = {"first": math.inf, "last": -math.inf, "done": -math.inf}
    errors: list[str] = []
    reconnects = [0]
    # Wall clock only to meet the shared start; perf_counter for everything measured.
    zero = time.perf_counter() + (spec.start_at - time.time())
    stop = zero + spec.time_limit
    late = max(0.0, time.perf_counter() - zero)

    def sender() -> None:
        connection = _connect(spec.port)
        try:
            while True:
                with take_lock:
                    n = taken[0]
                    taken[0] += 1
                if n >= count:
                    return
                due_offset, ev, depends, retry = spec.items[n]
                due = zero + due_offset
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                if time.perf_counter() > stop:
                    continue  # status stays -1: not sent (time limit)
                if depends >= 0 and not acked[depends]:
                    # A removal goes out only once its add is acknowledged (bounded wait), so the
                    # expected end state does not depend on the order two threads happened to run in.
                    with acked_changed:
                        acked_changed.wait_for(lambda d=depends: acked[d], timeout=DEPENDENCY_WAIT_S)
                    if not acked[depends]:
                        status[n] = -2
                        continue
                if retry and not sent[ev]:
                    status[n] = -2  # the first delivery never went out (nothing to retry)
                    continue
                headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                           **sign(bodies[ev], spec.signing_secret, int(time.time()))}
                if retry:
                    headers["X-Slack-Retry-Num"] = str(retry)
                    headers["X-Slack-Retry-Reason"] = "http_timeout"
                began = time.perf_counter()
                sent[ev] = 1
                connection, code, _, again, error = _post(connection, spec.port, bodies[ev], headers)
                done = time.perf_counter()
                status[n] = code
                from_due[n] = done - due
                from_send[n] = done - began
                send_lag[n] = began - due
                with take_lock:
                    reconnects[0] += again
                    marks["first"] = min(marks["first"], began - zero)
                    marks["last"] = max(marks["last"], began - zero)
                    marks["done"] = max(marks["done"], done - zero)
                    if error and len(errors) < 5:
                        errors.append(error)
                    elif code not in (0, 200) and len(errors) < 5:
                        errors.append(f"HTTP {code}")
                if code == 200 and not acked[ev]:
                    with acked_changed:
                        acked[ev] = 1
                        acked_changed.notify_all()
        finally:
            connection.close()

    cpu0 = time.process_time()
    threads = [threading.Thread(target=sender, name=f"events-{i}", daemon=True) for i in range(spec.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, stop - time.perf_counter()) + DEPENDENCY_WAIT_S + 2 * REQUEST_TIMEOUT_S + 5)
    if any(thread.is_alive() for thread in threads):
        errors.append("a sender thread did not finish in time")
    return EventResult(
        status=status.tolist(), from_due=from_due.tolist(), from_send=from_send.tolist(),
        send_lag=send_lag.tolist(), first_send=marks["first"], last_send=marks["last"], last_done=marks["done"],
        start_late=late, reconnects=reconnects[0], errors=errors, cpu_seconds=time.process_time() - cpu0,
    )


@dataclass(frozen=True)
class CommandSpec:
    port: int
    team_id: str
    people: tuple[tuple[str, str, tuple[str, ...]], ...]  # (user id, channel id, response_urls to use in turn)
    mix: tuple[tuple[str, float], ...]
    think_ms: float
    seconds: float  # people stop starting commands this long after start_at
    start_at: float
    seed: int
    signing_secret: str = SECRET


@dataclass
class CommandResult:
    #: One per command: (person index, text, response_url, status or 0, latency s, time.time() when written,
    #: seconds after start_at when written, instant-reply check (None for deferred commands)).
    commands: list[tuple[int, str, str, int, float, float, float, bool | None]] = field(default_factory=list)
    out_of_urls: int = 0  # people who used up their response_urls before the time was up
    start_late: float = 0.0
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0


def run_commands(spec: CommandSpec) -> CommandResult:
    """Each person sends a command, waits for its ack, thinks, and so on; runs in the command load-generator."""
    from coachbot.standin.requests import slash_command
    from coachbot.standin.signing import sign

    texts = [t for t, _ in spec.mix]
    weights = [w for _, w in spec.mix]
    zero = time.perf_counter() + (spec.start_at - time.time())
    stop = zero + spec.seconds
    late = max(0.0, time.perf_counter() - zero)
    results: list[list[tuple[int, str, str, int, float, float, float, bool | None]]] = [[] for _ in spec.people]
    out_of_urls = [0]
    reconnects = [0]
    errors: list[str] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        user, channel, urls = spec.people[index]
        rng = random.Random(spec.seed * 100_003 + index)
        mine = results[index]
        connection = _connect(spec.port)
        try:
            # Stagger the first commands over the first think time, as people would not all press enter at once.
            first = min(stop, zero + rng.uniform(0, spec.think_ms / 1000))
            if first > time.perf_counter():
                time.sleep(first - time.perf_counter())
            for url in urls:
                if time.perf_counter() >= stop:
                    break
                text = rng.choices(texts, weights)[0]
                body = slash_command(text=text, user_id=user, team_id=spec.team_id, channel_id=channel,
                                     response_url=url)[0]
                headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT,
                           **sign(body, spec.signing_secret, int(time.time()))}
                wall = time.time()
                began = time.perf_counter()
                connection, code, data, again, error = _post(connection, spec.port, body, headers)
                took = time.perf_counter() - began
                # Answered in the ack (the reply is the ack's body), or deferred (None: an empty ack, the
                # reply follows through the response_url). /prep help must always be in its ack.
                carried = code == 200 and b'"blocks"' in data
                instant = carried if text.split()[0] in INSTANT else (True if carried else None)
                mine.append((index, text, url, code, took, wall, began - zero, instant))
                if again or error or code != 200:
                    with lock:
                        reconnects[0] += again
                        if len(errors) < 5 and (error or code != 200):
                            errors.append(error or f"HTTP {code}: {data[:200]!r}")
                think = rng.uniform(0, 2 * spec.think_ms / 1000)
                if think > 0:
                    time.sleep(max(0.0, min(think, stop - time.perf_counter())))
            else:
                if time.perf_counter() < stop:
                    with lock:
                        out_of_urls[0] += 1
        finally:
            connection.close()

    cpu0 = time.process_time()
    threads = [threading.Thread(target=one, args=(i,), name=f"person-{i}", daemon=True)
               for i in range(len(spec.people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, stop - time.perf_counter()) + 2 * REQUEST_TIMEOUT_S + 5)
    if any(thread.is_alive() for thread in threads):
        errors.append("a person thread did not finish in time")
    return CommandResult(commands=[c for part in results for c in part], out_of_urls=out_of_urls[0],
                         start_late=late, reconnects=reconnects[0], errors=errors,
                         cpu_seconds=time.process_time() - cpu0)


def _ready() -> int:
    """Run in a freshly spawned load generator before the clock, so spawning and imports are not timed."""
    import coachbot.standin.requests
    import coachbot.standin.signing

    del coachbot

    return os.getpid()


# --- machine readings ------------------------------------------------------------------------------


def _proc_stat() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return float(total - idle), float(total)


def _pg_backends(url: str) -> list[int]:
    """Pids of the PostgreSQL backends connected to this database, other than the one asking."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [int(pid) for pid in connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalars()]
    finally:
        engine.dispose()


class Sampler:
    """Load average and machine CPU use, sampled about once a second while the load runs."""

    def __init__(self) -> None:
        self.load: list[float] = []
        self.busy0, self.total0 = _proc_stat()
        self.began = time.monotonic()

    def sample(self) -> None:
        self.load.append(os.getloadavg()[0])

    def finish(self) -> dict[str, Any]:
        busy, total = _proc_stat()
        cpus = os.cpu_count() or 1
        wall = time.monotonic() - self.began
        return {
            "load_average_1min_samples": [round(x, 2) for x in self.load],
            "load_average_1min_mean": round(sum(self.load) / len(self.load), 2) if self.load else None,
            "load_average_1min_max": round(max(self.load), 2) if self.load else None,
            "machine_cpu_busy_share": (busy - self.busy0) / (total - self.total0) if total > self.total0 else None,
            "machine_cpu_busy_s": (busy - self.busy0) / os.sysconf("SC_CLK_TCK"),
            "wall_s": wall,
            "cpus": cpus,
        }


# --- the run -------------------------------------------------------------------------------------


class _Pools:
    """The two load-generator processes (spawned, kept for the whole run)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands = ProcessPoolExecutor(max_workers=1, mp_context=context)
        self.events = ProcessPoolExecutor(max_workers=1, mp_context=context)

    def start(self) -> tuple[int, int]:
        a, b = self.commands.submit(_ready), self.events.submit(_ready)
        return a.result(timeout=120), b.result(timeout=120)

    def close(self) -> None:
        self.commands.shutdown(wait=True, cancel_futures=True)
        self.events.shutdown(wait=True, cancel_futures=True)


def _issue_people(slack: Any, s: Settings, seconds: float, people: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """Each person with their channel and enough fresh response_urls for ``seconds`` (bounded)."""
    # A person sends at most one command per (ack + think); the mean think time bounds the mean rate.
    # Allow twice that and at least 40, at most 2,000 per person; running out is reported (and fails).
    per_second = 1000 / max(s.think_ms, 50.0)
    count = int(min(2000, max(40, math.ceil(seconds * per_second * 2))))
    found = []
    for n in range(people):
        user, channel = person(n), channel_of(n % s.channels)
        urls = tuple(slack.new_response_url(user_id=user, channel_id=channel) for _ in range(count))
        found.append((user, channel, urls))
    return found


def _wait_results(futures: list[Any], deadline: float, sampler: Sampler | None) -> list[Any]:
    while not all(f.done() for f in futures):
        if time.monotonic() > deadline:
            raise TimeoutError("the load generators did not finish within the time limit")
        if sampler is not None:
            sampler.sample()
        time.sleep(1.0 if sampler is not None else 0.1)
    return [f.result(timeout=1) for f in futures]


def run(s: Settings) -> dict[str, Any]:
    """The whole benchmark: set up, warm up, run, wait for replies, verify. Returns the report."""
    from coachbot.standin.server import StandInSlack

    began = time.monotonic()
    deadline = began + (s.time_limit or s.seconds + 180.0)
    tag = uuid.uuid4().hex[:6].upper()
    team_id = f"T0MIX{tag}"
    report: dict[str, Any] = {"benchmark": "mixed_load", "date": time.strftime("%Y-%m-%d"),
                              "settings": {k: v for k, v in asdict(s).items() if k != "database_url"},
                              "machine": machine()}
    with ExitStack() as stack:
        tmp = stack.enter_context(workdir("coachbot-bench-mixed-"))
        slack = StandInSlack(team_id=team_id).start()
        stack.callback(slack.stop)
        if s.database_url is None:
            raise ValueError("mixed_load runs on PostgreSQL: give --database-url")
        database = stack.enter_context(bench_database(s.database_url, tmp, as_is=s.database_as_is))
        if database.kind != "postgresql":
            raise ValueError("mixed_load runs on PostgreSQL: give a postgresql:// --database-url")
        report["database"] = {"kind": database.kind, "scratch": database.scratch}
        if not database.scratch:
            stack.callback(_forget_team, database.url, team_id)
        t0 = time.monotonic()
        answers = seed_answers(database.url, slack, s)
        report["seed_s"] = time.monotonic() - t0
        port = free_port()
        server = start_coachbot(port=port, workers=s.workers, slack_api_url=slack.api_url, bot_token=slack.bot_token,
                                database_url=database.url, cwd=tmp, log_level=s.log_level)
        stack.callback(server.stop)
        pools = _Pools()
        stack.callback(pools.close)
        pools.start()
        server.wait_healthy(timeout=max(1.0, min(90.0, deadline - time.monotonic())))
        workers = gunicorn_workers(server.pid, s.workers)
        report["startup_s"] = time.monotonic() - began

        planner = Planner(s, answers, tag)
        phases = []
        if s.warmup_seconds > 0:
            phases.append(("warm-up", s.warmup_seconds, min(s.people, 10), 100.0, False))
        phases.append(("measured", s.seconds, s.people, s.events_per_second, True))
        results: dict[str, Any] = {}
        for label, seconds, people_count, rate, full in phases:
            if deadline - time.monotonic() < seconds + 20:
                report["incomplete"] = f"time limit reached before the {label} run"
                break
            items = planner.plan(seconds, rate, removals=full, retries=full)
            people = _issue_people(slack, s, seconds, people_count)
            unique_kinds = Counter(f"{planner.events[ev][0]} ({planner.events[ev][7]})"
                                   for _, ev, _, retry in items if retry == 0)
            start_at = time.time() + 1.0 + len(items) / 20_000  # time to build and sign the bodies first
            event_spec = EventSpec(port=port, team_id=team_id, events=tuple(planner.events), items=tuple(items),
                                   connections=s.event_connections, start_at=start_at,
                                   time_limit=seconds + LATE_GRACE_S)
            command_spec = CommandSpec(port=port, team_id=team_id, people=tuple(people),
                                       mix=tuple(s.mix_weights()), think_ms=s.think_ms, seconds=seconds,
                                       start_at=start_at, seed=s.seed + len(results))
            calls0 = len(slack.calls)
            pg0 = {pid: cpu_seconds([pid]) for pid in _pg_backends(database.url)}
            # The server is the gunicorn master, its web workers and coachbot's job worker (PostgreSQL).
            server_pids = [server.pid, *workers, *job_worker_pids(server.pid)]
            server_cpu0 = cpu_seconds(server_pids)
            own_cpu0 = time.process_time()
            sampler = Sampler() if full else None
            futures = [pools.events.submit(run_events, event_spec), pools.commands.submit(run_commands, command_spec)]
            events_result, commands_result = _wait_results(
                futures, min(deadline, time.monotonic() + seconds + 60 + 2 * REQUEST_TIMEOUT_S), sampler)
            server.check_alive()
            replies = wait_replies(slack, commands_result, min(s.reply_timeout, max(1.0, deadline - time.monotonic())))
            # After the replies: the work deferred past the acks is part of what the commands cost.
            server_cpu = cpu_seconds(server_pids) - server_cpu0
            pg_after = _pg_backends(database.url)
            pg_cpu = sum(cpu_seconds([pid]) - pg0.get(pid, 0.0) for pid in pg_after)
            own_cpu = time.process_time() - own_cpu0
            calls = slack.calls[calls0:]
            results[label] = {
                "items": items, "mix": dict(sorted(unique_kinds.items())), "events": events_result,
                "commands": commands_result, "replies": replies,
                "cpu": {"server_s": server_cpu, "postgres_s": pg_cpu,
                        "postgres_backends": len(pg_after), "postgres_backends_lost": len(set(pg0) - set(pg_after)),
                        "event_loadgen_s": events_result.cpu_seconds,
                        "command_loadgen_s": commands_result.cpu_seconds,
                        "harness_and_standin_s": own_cpu},
                "web_api_calls": dict(Counter(c.method for c in calls)),
                "web_api_errors": dict(Counter(f"{c.method}: {c.error or c.status}" for c in calls
                                               if c.error or c.status != 200)),
                "machine": sampler.finish() if sampler is not None else None,
            }
            print(f"{label}: {summary_line(results[label])}", file=sys.stderr)
        report["verification"] = verify(database.url, team_id, planner.events, results)
        report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        server.stop()
        report["server_errors"] = server_errors(server.log_path)
    report["phases"] = {label: summarize_phase(r, s) for label, r in results.items()}
    report["duration_s"] = time.monotonic() - began
    report["checks"] = checks(report, s)
    return report


def server_errors(log_path: Path) -> dict[str, int]:
    """The exceptions and error lines in the server's log, counted (first 200 characters of each)."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return {}
    found: Counter[str] = Counter()
    for line in text.splitlines():
        stripped = line.strip()
        head = stripped.split(":", 1)[0]
        if ("Error" in head or "Exception" in head) and " " not in head and not stripped.startswith("File "):
            found[stripped[:200]] += 1
        else:
            for marker in (" ERROR ", "[ERROR] ", " CRITICAL ", "[CRITICAL] "):
                if marker in line:  # without the time stamp and pid before it
                    found[marker.strip(" []") + " " + line.split(marker, 1)[1].strip()[:200]] += 1
                    break
    return dict(found.most_common(10))


def _forget_team(url: str, team_id: str) -> None:
    """On a shared database (the tests'), remove this run's rows afterwards; they all carry its team id."""
    from sqlalchemy import create_engine, text

    from coachbot.storage.models import Base

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                if "team_id" in table.c:
                    connection.execute(text(f'DELETE FROM "{table.name}" WHERE team_id = :team'), {"team": team_id})
    finally:
        engine.dispose()


def wait_replies(slack: Any, result: CommandResult, timeout: float) -> dict[str, Any]:
    """Wait (bounded) until every acknowledged deferred command's response_url got a post; count them."""
    expected = {c[2]: c for c in result.commands if c[3] == 200 and c[7] is None}
    began = time.monotonic()
    seen = 0
    got: set[str] = set()
    last_new = began
    while True:  # polled, not woken on every post: each look copies the stand-in's list of posts
        posts = slack.response_posts()
        if len(posts) > seen:
            last_new = time.monotonic()
        got.update(p.url for p in posts[seen:])
        seen = len(posts)
        if expected.keys() <= got or time.monotonic() - began > timeout:
            break
        time.sleep(0.25)
    waited = time.monotonic() - began
    # Replies still coming in when the wait ended are late (the server is behind), not lost.
    still_arriving = not expected.keys() <= got and time.monotonic() - last_new < 1.5
    by_url: Counter[str] = Counter(p.url for p in posts)
    issued = {c[2] for c in result.commands}
    errors = 0
    latencies = []
    for post in posts:
        command = expected.get(post.url)
        if command is None:
            continue
        blocks = post.body.get("blocks") or []
        first = ""
        if blocks and isinstance(blocks[0], dict):
            first = str((blocks[0].get("text") or {}).get("text") or "")
        if first.startswith(":warning:") or str(post.body.get("text", "")).startswith(":warning:"):
            errors += 1
        latencies.append(post.at - command[5])
    instant = {c[2] for c in result.commands if c[7] is not None}
    # What a person feels: from pressing Enter to seeing the reply, in the ack or through the response_url.
    visible = [c[4] for c in result.commands if c[3] == 200 and c[7]] + latencies
    return {
        "expected": len(expected),
        "arrived": sum(1 for url in expected if by_url[url] > 0),
        "duplicates": sum(by_url[url] - 1 for url in expected if by_url[url] > 1),
        "to_instant_commands": sum(by_url[url] for url in instant),
        "to_unacked_commands": sum(by_url[url] for url in issued - instant - expected.keys()),
        "error_replies": errors,
        "waited_s": waited,
        "still_arriving": still_arriving,
        "latency": summarize(latencies),
        "in_ack": sum(1 for c in result.commands if c[3] == 200 and c[7]),
        "visible": summarize(visible),
    }


def verify(url: str, team_id: str, events: list[Event], results: dict[str, Any]) -> dict[str, Any]:
    """Read the database back and compare it with what was acknowledged."""
    from sqlalchemy import create_engine, text

    acked: set[int] = set()
    unknown_outcome: set[int] = set()
    for r in results.values():
        for (_, ev, _, _), code in zip(r["items"], r["events"].status):
            if code == 200:
                acked.add(ev)
            elif code != -1 and code != -2:
                unknown_outcome.add(ev)  # sent but not acknowledged: may or may not be stored
    unknown_outcome -= acked
    expected: set[tuple[str, str, str, str]] = set()
    undecided: set[tuple[str, str, str, str]] = set()
    distinct_added = removed = ignored = 0
    remembered = 0
    for n, (kind, user, emoji, channel, ts, _, _, target) in enumerate(events):
        key = (channel, ts, user, emoji)
        if n in unknown_outcome and target != "unknown":
            undecided.add(key)
        if n not in acked:
            continue
        if target == "unknown":
            ignored += 1
            continue
        remembered += 1
        if kind == "added":
            expected.add(key)
            distinct_added += 1
        else:
            expected.discard(key)
            removed += 1
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT a.channel_id, a.message_ts, r.user_id, r.emoji, r.is_self FROM reactions r "
                "JOIN answers a ON a.id = r.answer_id WHERE r.team_id = :team"), {"team": team_id}).all()
            all_rows = connection.execute(text("SELECT count(*) FROM reactions WHERE team_id = :team"),
                                          {"team": team_id}).scalar_one()
            counts = connection.execute(text(
                "SELECT a.id, a.reaction_count, (SELECT count(*) FROM reactions r "
                "WHERE r.answer_id = a.id AND NOT r.is_self) FROM answers a WHERE a.team_id = :team"),
                {"team": team_id}).all()
            processed = connection.execute(text("SELECT count(*) FROM processed_events WHERE team_id = :team"),
                                           {"team": team_id}).scalar_one()
    finally:
        engine.dispose()
    stored = {tuple(row[:4]) for row in rows}
    expected_other = sum(1 for key in expected if not key[2].startswith("U0MXP"))
    missing = expected - stored - undecided
    unexpected = stored - expected - undecided
    count_sum = sum(int(c[1]) for c in counts)
    other_rows = sum(int(c[2]) for c in counts)
    return {
        "distinct_reactions_acked": distinct_added,
        "removals_acked": removed,
        "ignored_unknown_message_events_acked": ignored,
        "expected_rows": len(expected),
        "stored_rows": int(all_rows),
        "duplicate_rows": len(rows) - len(stored),
        "missing_rows": len(missing),
        "unexpected_rows": len(unexpected),
        "undecided_rows": len(undecided),
        "self_rows": sum(1 for row in rows if row[4]),
        "expected_self_rows": sum(1 for key in expected if key[2].startswith("U0MXP")),
        "reaction_count_sum": count_sum,
        "non_self_rows": other_rows,
        "expected_non_self_rows": expected_other,
        "answers_with_count_mismatch": sum(1 for c in counts if int(c[1]) != int(c[2])),
        "processed_events": int(processed),
        "expected_processed_events": remembered,
    }


# --- summaries and checks ---------------------------------------------------------------------------


def _finite(values: list[float], codes: list[int] | None = None) -> list[float]:
    return [v for i, v in enumerate(values) if not math.isnan(v) and (codes is None or codes[i] == 200)]


def summarize_phase(r: dict[str, Any], s: Settings) -> dict[str, Any]:
    ev: EventResult = r["events"]
    cm: CommandResult = r["commands"]
    items = r["items"]
    codes = ev.status
    unique = sum(1 for item in items if item[3] == 0)
    retries = len(items) - unique
    planned_seconds = items[-1][0] if items else 0.0
    statuses = Counter(code for code in codes if code > 0)
    command_statuses = Counter(c[3] for c in cm.commands if c[3] > 0)
    sent_unique = sum(1 for item, code in zip(items, codes) if item[3] == 0 and code not in (-1, -2))
    span = ev.last_send - ev.first_send if not math.isnan(ev.last_send) else 0.0
    by_kind: dict[str, list[float]] = {}
    for c in cm.commands:
        if c[3] == 200:
            by_kind.setdefault(c[1], []).append(c[4])
    command_elapsed = max((c[6] + c[4] for c in cm.commands), default=0.0)
    cpu = dict(r["cpu"])
    ok_events = statuses.get(200, 0)
    ok_commands = command_statuses.get(200, 0)
    cpu["server_ms_per_request"] = cpu["server_s"] * 1000 / max(1, ok_events + ok_commands)
    return {
        "events": {
            "deliveries_planned": len(items), "unique_planned": unique, "retries_planned": retries,
            "unique_by_kind": r["mix"],
            "sent": sum(1 for code in codes if code not in (-1, -2)),
            "not_sent_time_limit": sum(1 for code in codes if code == -1),
            "given_up": sum(1 for code in codes if code == -2),
            "no_answer": sum(1 for code in codes if code == 0),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "offered_unique_per_s": sent_unique / span if span > 0 else 0.0,
            "planned_unique_per_s": unique / planned_seconds if planned_seconds > 0 else 0.0,
            "acked_per_s": ok_events / ev.last_done if ev.last_done and ev.last_done > 0 else 0.0,
            "from_due": summarize(_finite(ev.from_due, codes)),
            "from_send": summarize(_finite(ev.from_send, codes)),
            "send_lag": summarize(_finite(ev.send_lag, codes)),
            "start_late_s": ev.start_late, "reconnects": ev.reconnects, "errors": ev.errors,
        },
        "commands": {
            "sent": len(cm.commands), "statuses": {str(k): v for k, v in sorted(command_statuses.items())},
            "no_answer": sum(1 for c in cm.commands if c[3] == 0),
            "per_s": len(cm.commands) / command_elapsed if command_elapsed > 0 else 0.0,
            "latency": summarize([c[4] for c in cm.commands if c[3] == 200]),
            "by_text": {text: summarize(v) for text, v in sorted(by_kind.items())},
            "instant_without_blocks": sum(1 for c in cm.commands if c[7] is False),
            "out_of_urls": cm.out_of_urls, "start_late_s": cm.start_late, "reconnects": cm.reconnects,
            "errors": cm.errors,
        },
        "replies": r["replies"],
        "cpu": cpu,
        "web_api_calls": r["web_api_calls"],
        "web_api_errors": r["web_api_errors"],
        "machine": r["machine"],
    }


def checks(report: dict[str, Any], s: Settings) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def check(name: str, goal: str, observed: str, ok: bool, kind: str = "correctness") -> None:
        found.append({"check": name, "goal": goal, "observed": observed, "ok": bool(ok), "kind": kind})

    phases = report.get("phases", {})
    if report.get("incomplete") or "measured" not in phases:
        check("run complete", "all phases ran", report.get("incomplete", "measured phase missing"), False)
        return found
    statuses: Counter[str] = Counter()
    for p in phases.values():
        statuses.update(p["events"]["statuses"])
        statuses.update(p["commands"]["statuses"])
    five = sum(v for k, v in statuses.items() if k.startswith("5"))
    other = sum(v for k, v in statuses.items() if not k.startswith("5") and k != "200")
    failures = sum(p["events"]["no_answer"] + p["commands"]["no_answer"] for p in phases.values())
    unsent = sum(p["events"]["not_sent_time_limit"] + p["events"]["given_up"] for p in phases.values())
    check("5xx answers", "0", str(five), five == 0)
    check("other non-200 answers / no answer", "0 / 0", f"{other} / {failures}", other == 0 and failures == 0)
    check("deliveries left unsent", "0", f"{unsent} (time limit or removal whose add was not acked in "
          f"{DEPENDENCY_WAIT_S:.0f} s)" if unsent else "0", unsent == 0, CAPACITY)
    m = phases["measured"]
    cmax = m["commands"]["latency"].get("max_ms")
    emax = m["events"]["from_due"].get("max_ms")
    warm = phases.get("warm-up")
    warm_max = max([x for x in ((warm or {}).get("commands", {}).get("latency", {}).get("max_ms"),
                                (warm or {}).get("events", {}).get("from_due", {}).get("max_ms")) if x is not None],
                   default=0.0)
    check("command acks within 3 s", "max <= 3000 ms", f"max {fmt_ms(cmax)} ms (p99 "
          f"{fmt_ms(m['commands']['latency'].get('p99_ms'))})", cmax is not None and cmax <= SLACK_LIMIT_S * 1000, CAPACITY)
    check("event acks within 3 s (from due)", "max <= 3000 ms", f"max {fmt_ms(emax)} ms (p99 "
          f"{fmt_ms(m['events']['from_due'].get('p99_ms'))})", emax is not None and emax <= SLACK_LIMIT_S * 1000, CAPACITY)
    check("warm-up acks within 3 s", "max <= 3000 ms", f"max {fmt_ms(warm_max)} ms", warm_max <= SLACK_LIMIT_S * 1000,
          CAPACITY)
    offered = m["events"]["offered_unique_per_s"]
    check("event rate (unique event ids, as sent)", f">= {s.events_per_second:g}/s",
          f"{offered:.1f}/s (+ {m['events']['retries_planned']} retries)", offered >= s.events_per_second * 0.995, CAPACITY)
    check("people sending commands", f"{s.people} concurrently",
          f"{s.people}, {m['commands']['sent']:,} commands ({m['commands']['per_s']:.0f}/s); "
          f"{m['commands']['out_of_urls']} ran out of response_urls", m["commands"]["out_of_urls"] == 0, "harness")
    v = report["verification"]
    rows_ok = (v["missing_rows"] == 0 and v["unexpected_rows"] == 0 and v["duplicate_rows"] == 0
               and v["undecided_rows"] == 0 and v["stored_rows"] == v["expected_rows"])
    check("stored reactions = distinct acked - removed", f"{v['distinct_reactions_acked']:,} - {v['removals_acked']:,}"
          f" = {v['expected_rows']:,}", f"{v['stored_rows']:,} (missing {v['missing_rows']}, unexpected "
          f"{v['unexpected_rows']}, duplicates {v['duplicate_rows']})", rows_ok)
    check("each acked event on an answer remembered once (retries count once)",
          f"{v['expected_processed_events']:,}", f"{v['processed_events']:,}",
          v["processed_events"] == v["expected_processed_events"])
    check("answers.reaction_count agrees with reactions", "sum = non-self rows = expected, 0 answers off",
          f"{v['reaction_count_sum']:,} = {v['non_self_rows']:,} (expected {v['expected_non_self_rows']:,}), "
          f"{v['answers_with_count_mismatch']} off",
          v["reaction_count_sum"] == v["non_self_rows"] == v["expected_non_self_rows"]
          and v["answers_with_count_mismatch"] == 0)
    expected = sum(p["replies"]["expected"] for p in phases.values())
    arrived = sum(p["replies"]["arrived"] for p in phases.values())
    dup = sum(p["replies"]["duplicates"] for p in phases.values())
    errs = sum(p["replies"]["error_replies"] for p in phases.values())
    stray = sum(p["replies"]["to_instant_commands"] for p in phases.values())
    instant_bad = sum(p["commands"]["instant_without_blocks"] for p in phases.values())
    late = any(p["replies"]["still_arriving"] for p in phases.values())
    wait = max(p["replies"]["waited_s"] for p in phases.values())
    check("deferred replies: none lost, none twice, no error message",
          "0 / 0 / 0", f"{0 if late else expected - arrived} / {dup} / {errs}",
          (arrived == expected or late) and dup == 0 and errs == 0)
    check("deferred replies arrived within the wait after the load", f"{expected:,} (one per acked deferred "
          f"command) within {s.reply_timeout:g} s", f"{arrived:,} after {wait:.1f} s"
          + (" (still arriving: late, not lost)" if late else ""), arrived == expected, CAPACITY)
    visible = m["replies"]["visible"].get("p99_ms")
    check("time to visible (command to reply, in the ack or through the response_url)", "p99 < 1000 ms",
          f"p99 {fmt_ms(visible)} ms (median {fmt_ms(m['replies']['visible'].get('p50_ms'))}; "
          f"{m['replies']['in_ack']:,} answered in the ack)", visible is not None and visible < 1000, CAPACITY)
    check("/prep help answered in its ack", "blocks in every ack, no response_url post",
          f"{instant_bad} without blocks, {stray} posts", instant_bad == 0 and stray == 0)
    return found


def summary_line(r: dict[str, Any]) -> str:
    ev: EventResult = r["events"]
    cm: CommandResult = r["commands"]
    ok = sum(1 for code in ev.status if code == 200)
    lat = summarize(_finite(ev.from_due, ev.status))
    clat = summarize([c[4] for c in cm.commands if c[3] == 200])
    return (f"{ok}/{len(ev.status)} event deliveries 200 (p99 {fmt_ms(lat.get('p99_ms'))} ms from due, max "
            f"{fmt_ms(lat.get('max_ms'))}); {sum(1 for c in cm.commands if c[3] == 200)}/{len(cm.commands)} commands "
            f"200 (p99 {fmt_ms(clat.get('p99_ms'))} ms, max {fmt_ms(clat.get('max_ms'))}); replies "
            f"{r['replies']['arrived']}/{r['replies']['expected']}")


def render(report: dict[str, Any]) -> str:
    s = report["settings"]
    mach = report["machine"]
    m = report.get("phases", {}).get("measured")
    lines = [
        "## Mixed load: slash commands and reaction events together",
        "",
        (f"{s['seconds']:g} s; {s['people']} people (closed loop, think time uniform 0-{2 * s['think_ms']:g} ms); "
        f"{s['events_per_second']:g} unique reaction events/s offered open loop from {s['event_connections']} "
        f"connections (about {s['remove_share']:.0%} removals, {s['unknown_share']:.0%} on unknown messages, "
        f"{s['self_share']:.0%} self-reactions, {s['retry_share']:.0%} re-sent as Slack retries); "
        f"`coachbot serve --no-scheduler`, {s['workers']} gunicorn workers (gthread, 8 threads), PostgreSQL"
        f"{' (scratch database)' if report.get('database', {}).get('scratch') else ''}; {s['answers']} stored answers "
        f"in {s['channels']} channels. Machine: {mach['cpus']} CPUs, Python {mach['python']}, gunicorn "
        f"{mach.get('gunicorn')}, slack_bolt {mach.get('slack_bolt')}."),
        "",
    ]
    if m is not None:
        mm = m.get("machine") or {}
        la = mach["load_average_at_start"]
        lines += [
            (f"Load average (1, 5, 15 min): {la[0]}, {la[1]}, {la[2]} at the start; 1-min mean "
            f"{mm.get('load_average_1min_mean')}, max {mm.get('load_average_1min_max')} during the run; "
            f"{', '.join(str(x) for x in report.get('load_average_at_end', []))} at the end. "
            f"Machine CPU busy during the run and the reply wait: "
            f"{100 * (mm.get('machine_cpu_busy_share') or 0):.0f} % of {mm.get('cpus')} CPUs."),
            "",
            "| traffic | requests | per s | p50 ms | p99 ms | max ms | non-200 |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        c, e = m["commands"], m["events"]
        c_non = sum(v for k, v in c["statuses"].items() if k != "200") + c["no_answer"]
        e_non = sum(v for k, v in e["statuses"].items() if k != "200") + e["no_answer"]
        lines.append(_row("commands, all (ack)", c["latency"], c["per_s"], c_non))
        for text, summary in c["by_text"].items():
            lines.append(_row(f"&nbsp;&nbsp;`/prep {text}`", summary, None, None))
        lines.append(_row("events (ack, from due)", e["from_due"], e["acked_per_s"], e_non))
        lines.append(_row("events (ack, from writing it)", e["from_send"], None, None))
        lines.append(_row("events: send lag (due to written)", e["send_lag"], None, None))
        r = m["replies"]
        lines.append(_row("deferred replies (command to reply)", r["latency"], None, None))
        lines.append(_row("time to visible (command to reply)", r["visible"], None, None))
        cpu = m["cpu"]
        busy = mm.get("machine_cpu_busy_s") or 0.0
        ours = (cpu["server_s"] + cpu["postgres_s"] + cpu["event_loadgen_s"] + cpu["command_loadgen_s"]
                + cpu["harness_and_standin_s"])
        lines += [
            "",
            (f"Events: {e['unique_planned']:,} unique event ids + {e['retries_planned']:,} retries planned, "
            f"{e['sent']:,} sent, offered {e['offered_unique_per_s']:.1f} unique/s; statuses {e['statuses']}. "
            f"Commands: {c['sent']:,} sent by {s['people']} people, statuses {c['statuses']}. "
            f"Deferred replies: {r['arrived']:,}/{r['expected']:,} arrived."),
            "",
            (f"CPU seconds during the run and the reply wait: server {cpu['server_s']:.1f} "
            f"({cpu['server_ms_per_request']:.2f} ms per request), PostgreSQL backends {cpu['postgres_s']:.1f} (those still "
            f"open at the end: a lower bound), "
            f"event load generator {cpu['event_loadgen_s']:.1f}, command load generator {cpu['command_loadgen_s']:.1f}, "
            f"this process with the stand-in Slack {cpu['harness_and_standin_s']:.1f}; the whole machine "
            f"{busy:.1f} (so other work on it: about {max(0.0, busy - ours):.1f})."),
            "",
            f"Stand-in Web API calls: {dict(sorted(m['web_api_calls'].items()))}"
            + (f"; errors {m['web_api_errors']}" if m["web_api_errors"] else "") + ".",
        ]
    errors = report.get("server_errors") or {}
    if errors:
        lines += ["", "Errors in the server's log (count: line):", ""]
        lines += [f"- {count}: `{line}`" for line, count in errors.items()]
    lines += ["", "| check | kind | goal | observed | met |", "|---|---|---|---|---|"]
    for c in report.get("checks", []):
        lines.append(f"| {c['check']} | {c['kind']} | {c['goal']} | {c['observed']} | {'yes' if c['ok'] else '**NO**'} |")
    return "\n".join(lines)


def _row(label: str, summary: dict[str, Any], per_s: float | None, non_ok: int | None) -> str:
    return (f"| {label} | {summary.get('count', 0):,} | {'' if per_s is None else f'{per_s:.0f}'} | "
            f"{fmt_ms(summary.get('p50_ms'))} | {fmt_ms(summary.get('p99_ms'))} | {fmt_ms(summary.get('max_ms'))} | "
            f"{'' if non_ok is None else non_ok} |")


def all_met(report: dict[str, Any]) -> bool:
    return bool(report.get("checks")) and all(c["ok"] for c in report["checks"])


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> tuple[Settings, Path | None]:
    d = Settings()
    parser = argparse.ArgumentParser(prog="python -m bench.mixed_load", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--seconds", type=float, default=d.seconds, help="length of the measured run")
    parser.add_argument("--people", type=int, default=d.people, help="concurrent people sending slash commands")
    parser.add_argument("--events-per-second", type=float, default=d.events_per_second,
                        help="unique reaction events offered per second (retries come on top)")
    parser.add_argument("--event-connections", type=int, default=d.event_connections,
                        help="keep-alive connections the events are sent over")
    parser.add_argument("--think-ms", type=float, default=d.think_ms,
                        help="mean think time between a person's ack and their next command (uniform 0 to twice this)")
    parser.add_argument("--mix", default=d.mix, help="slash command texts and their weights")
    parser.add_argument("--remove-share", type=float, default=d.remove_share, help="share of reaction_removed events")
    parser.add_argument("--unknown-share", type=float, default=d.unknown_share,
                        help="share of reactions on messages that are not answers")
    parser.add_argument("--self-share", type=float, default=d.self_share, help="share of self-reactions")
    parser.add_argument("--retry-share", type=float, default=d.retry_share, help="share of events re-sent as retries")
    parser.add_argument("--answers", type=int, default=d.answers, help="stored answers the reactions go to")
    parser.add_argument("--channels", type=int, default=d.channels, help="channels the answers and people are in")
    parser.add_argument("--reactors", type=int, default=d.reactors, help="distinct people reacting")
    parser.add_argument("--workers", type=int, default=d.workers, help="gunicorn workers (coachbot serve's default: 2)")
    parser.add_argument("--warmup-seconds", type=float, default=d.warmup_seconds,
                        help="a light unmeasured warm-up first (0: none)")
    parser.add_argument("--database-url", default=d.database_url,
                        help="the PostgreSQL server: a scratch database is made on it and dropped afterwards")
    parser.add_argument("--database-as-is", action="store_true",
                        help="use the database named by --database-url itself (this run's rows are deleted after)")
    parser.add_argument("--reply-timeout", type=float, default=d.reply_timeout,
                        help="seconds to wait for the deferred replies after the run")
    parser.add_argument("--time-limit", type=float, default=0.0, help="seconds for everything (0: --seconds + 180)")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--log-level", default=d.log_level, help="LOG_LEVEL of the server")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the report as JSON")
    a = parser.parse_args(argv)
    for name in ("seconds", "events_per_second"):
        if getattr(a, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    for name in ("people", "event_connections", "answers", "channels", "reactors", "workers"):
        if getattr(a, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    try:
        parse_mix(a.mix)
    except ValueError as error:
        parser.error(str(error))
    settings = Settings(
        seconds=a.seconds, people=a.people, events_per_second=a.events_per_second,
        event_connections=a.event_connections, think_ms=a.think_ms, mix=a.mix, remove_share=a.remove_share,
        unknown_share=a.unknown_share, self_share=a.self_share, retry_share=a.retry_share, answers=a.answers,
        channels=a.channels, reactors=a.reactors, workers=a.workers, warmup_seconds=a.warmup_seconds,
        database_url=a.database_url, database_as_is=a.database_as_is, reply_timeout=a.reply_timeout,
        time_limit=a.time_limit, seed=a.seed, log_level=a.log_level,
    )
    return settings, a.json


def main(argv: list[str] | None = None) -> int:
    settings, json_path = parse_args(argv)
    report = run(settings)
    print(render(report))
    print(f"\n(took {report['duration_s']:.0f} s)", file=sys.stderr)
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if all_met(report) else 1


if __name__ == "__main__":
    # Run main() from the module under its own name, so what the load generators unpickle is
    # bench.mixed_load.*, not this __main__ copy.
    from bench.mixed_load import main as _main

    sys.exit(_main())
