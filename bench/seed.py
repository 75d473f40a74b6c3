"""A year of practice in many workspaces, generated fast, for ``bench.progress_scale``.

The rows are made in Python from one seeded ``random.Random`` (the same shape
and seed give the same data on every backend) and streamed into the database:
PostgreSQL through ``COPY`` (with the secondary indexes, unique constraints
and foreign keys of the loaded tables dropped first and rebuilt afterwards,
exactly as the migrations made them), SQLite through ``executemany``. The
schema itself comes from the migrations (``Database.upgrade()``), never from
the models.

Shape (see ``Shape`` and ``plan``):

* workspaces of 20-500 people (cubed-uniform: most are small, a few large; the
  first is the largest, 500), each with an engagement factor (log-normal);
  answers go to a workspace in proportion to people x engagement;
* within a workspace, who answers follows Zipf (s = 0.9): a few busy people,
  a long tail of occasional ones;
* answers spread over 365 days ending at ``YEAR_END``, growing through the
  year, fewer at weekends; 45-80 % of a workspace's answers are public
  (``visibility='channel'``), posted in one of its 1-5 channels (Zipf again:
  the first channel is the busiest), each channel with a daily schedule;
* reactions: 3 % of public answers carry a self-reaction (kept, not counted);
  a quarter of the public answers get no reaction from others, the rest a
  Pareto-distributed number, scaled so the total is exactly the number asked
  for; about 1 % of private answers get one or two (people react to a
  private answer someone showed them in a DM thread); ``reaction_count`` is
  the number of non-self reactions of each answer, as the app keeps it;
* one ``members`` row per person (timezone UTC, refreshed an hour before the
  benchmark's clock), so reading stats never asks the directory.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from coachbot import tracks

#: The end of the seeded year (a Friday, 18:00 UTC); the benchmark's clock stands here.
YEAR_END = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
DAYS = 365
YEAR_START = YEAR_END - timedelta(days=DAYS)

EMOJI = ("+1", "clap", "fire", "heart", "raised_hands", "100", "bulb", "tada")
EMOJI_WEIGHTS = (40, 15, 10, 10, 8, 7, 5, 5)
MAX_EMOJI_PER_REACTOR = 3  # one person rarely leaves more than three different emoji on one answer
MODES = ("leadership", "technical", "alternate", "mixed")

ANSWER_COLUMNS = ("id", "team_id", "user_id", "question_id", "question_text", "track", "category", "text",
                  "source", "created_at", "local_day", "visibility", "channel_id", "message_ts", "thread_ts",
                  "reaction_count", "permalink")
REACTION_COLUMNS = ("team_id", "answer_id", "author_id", "user_id", "emoji", "is_self", "created_at")
MEMBER_COLUMNS = ("team_id", "user_id", "tz", "is_admin", "refreshed_at")
SCHEDULE_COLUMNS = ("team_id", "channel_id", "mode", "local_time", "weekdays", "tz", "created_by", "enabled",
                    "paused_until", "status_note", "checked_through", "posted_count", "created_at", "updated_at",
                    "digest_enabled", "digest_weekday", "digest_time", "digest_checked_through")
LOADED_TABLES = ("answers", "reactions", "members", "schedules")


@dataclass(frozen=True)
class Shape:
    answers: int
    reactions: int
    teams: int
    seed: int = 1

    def as_dict(self) -> dict[str, int]:
        return {"answers": self.answers, "reactions": self.reactions, "teams": self.teams, "seed": self.seed}


def team_id(t: int) -> str:
    return f"TB{t:07d}"


def user_id(t: int, u: int) -> str:
    return f"U{t:04d}X{u:04d}"


def channel_id(t: int, c: int) -> str:
    return f"C{t:04d}X{c:02d}"


def _zipf_cum(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (k + 1) ** s for k in range(n)))


def _spread(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` summing exactly to ``total`` (cumulative flooring)."""
    whole = sum(weights)
    out, before, cum = [], 0, 0.0
    for w in weights:
        cum += w
        upto = math.floor(cum * total / whole + 1e-9) if whole else 0
        out.append(upto - before)
        before = upto
    out[-1] += total - sum(out)
    return out


@dataclass
class Plan:
    """Every answer of the year as compact arrays (index i is answer id i + 1), plus the workspaces."""

    shape: Shape
    sizes: list[int]  # people per workspace
    channels: list[int]  # channels per workspace
    modes: list[str]  # per channel, flattened in workspace order
    team: array  # per answer
    user: array
    created: array  # seconds since YEAR_START
    channel: array  # -1 when private
    category: array
    question: array
    thread: array  # 1: a reply in the prompt's thread; 0: through the modal
    body: array
    others: array  # reactions from other people (= reaction_count)
    self_reacted: array  # 1 when the author reacted to their own answer

    @property
    def answers(self) -> int:
        return len(self.team)

    @property
    def reactions(self) -> int:
        return sum(self.others) + sum(self.self_reacted)


def plan(shape: Shape) -> Plan:
    rng = random.Random(shape.seed)
    n_teams = shape.teams
    sizes = [20 + int(480 * rng.random() ** 3) for _ in range(n_teams)]
    sizes[0] = 500
    if n_teams > 1:
        sizes[1] = 20
    engagement = [rng.lognormvariate(0.0, 0.5) for _ in range(n_teams)]
    public_share = [rng.uniform(0.45, 0.8) for _ in range(n_teams)]
    channels = [1 + int(4 * rng.random() ** 2) for _ in range(n_teams)]
    channels[0] = 5
    modes = [rng.choice(MODES) for t in range(n_teams) for _ in range(channels[t])]
    team_cum = list(itertools.accumulate(sizes[t] * engagement[t] for t in range(n_teams)))
    people_cum = {s: _zipf_cum(s, 0.9) for s in set(sizes)}
    channel_cum = {c: _zipf_cum(c, 1.0) for c in set(channels)}
    category_cum = list(itertools.accumulate((14, 10, 9, 7, 12, 11, 14, 9, 14)))
    bank_sizes = [len(QUESTIONS[c.slug]) for c in tracks.CATEGORIES]

    day_weights = [(0.6 + 0.8 * d / (DAYS - 1)) * (0.35 if (YEAR_START + timedelta(days=d)).weekday() >= 5 else 1.0)
                   for d in range(DAYS)]
    per_day = _spread(shape.answers, day_weights)

    p = Plan(shape, sizes, channels, modes, array("H"), array("H"), array("l"), array("b"), array("B"), array("H"),
             array("B"), array("H"), array("I"), array("B"))
    for day, n in enumerate(per_day):
        base = day * 86400
        for second in sorted(rng.randrange(86400) for _ in range(n)):
            t = bisect.bisect(team_cum, rng.random() * team_cum[-1])
            size = sizes[t]
            cum = people_cum[size]
            u = min(bisect.bisect(cum, rng.random() * cum[-1]), size - 1)
            public = rng.random() < public_share[t]
            if public:
                ccum = channel_cum[channels[t]]
                c = min(bisect.bisect(ccum, rng.random() * ccum[-1]), channels[t] - 1)
            else:
                c = -1
            k = bisect.bisect(category_cum, rng.random() * category_cum[-1])
            p.team.append(t)
            p.user.append(u)
            p.created.append(base + second)
            p.channel.append(c)
            p.category.append(k)
            p.question.append(rng.randrange(bank_sizes[k]))
            p.thread.append(1 if public and rng.random() < 0.7 else 0)
            p.body.append(rng.randrange(len(BODIES)))

    # Reactions: weights first, then scaled to the exact total asked for.
    weights: list[float] = []
    caps: list[int] = []
    for i in range(p.answers):
        t = p.team[i]
        cap = (sizes[t] - 1) * MAX_EMOJI_PER_REACTOR
        caps.append(cap)
        if p.channel[i] >= 0:
            p.self_reacted.append(1 if rng.random() < 0.03 else 0)
            weights.append(0.0 if rng.random() < 0.25 else rng.paretovariate(2.0) * engagement[t])
        else:
            p.self_reacted.append(0)
            weights.append(rng.uniform(0.05, 0.3) if rng.random() < 0.01 else 0.0)
    wanted = max(0, shape.reactions - sum(p.self_reacted))
    counts = [min(k, cap) for k, cap in zip(_spread(wanted, weights), caps)]
    short = wanted - sum(counts)
    room = [i for i in range(p.answers) if weights[i] > 0 and counts[i] < caps[i]]
    while short > 0 and room:  # what the caps cut goes to other reacted answers, one each
        for i in rng.sample(room, min(short, len(room))):
            counts[i] += 1
            short -= 1
        room = [i for i in room if counts[i] < caps[i]]
    p.others.extend(counts)
    return p


# --- what the rows say ------------------------------------------------------------------

def _load_questions() -> dict[str, list[tuple[str, str]]]:
    from coachbot.bank import load_bank

    bank = load_bank()
    return {c.slug: [(q.id, q.text) for q in bank.select(category=c.slug)] or [(f"{c.slug}-1", c.title)]
            for c in tracks.CATEGORIES}


def _bodies() -> list[str]:
    rng = random.Random(7)
    pieces = [
        "Situation: our checkout service started timing out during the spring sale.",
        "Task: I owned the on-call rotation that week and had to restore service.",
        "Action: I split the problem, added a circuit breaker, and paired with the database team on the slow query.",
        "Result: error rate fell from 9 % to 0.2 % within the hour, and we wrote a runbook others have used since.",
        "I would start by clarifying the requirements and the expected load, then sketch the data model.",
        "The trade-off is consistency against latency; I chose to cache reads for thirty seconds.",
        "Looking back, I should have asked for help a day earlier; now I raise risks at stand-up.",
        "We measured it with a load test at twice the peak traffic before shipping.",
        "I disagreed with my manager, wrote down both options with their costs, and we agreed on a trial.",
        "The key was to keep the team informed every morning, even when there was no news.",
    ]
    return [" ".join(rng.choice(pieces) for _ in range(rng.randint(2, 10))) for _ in range(64)]


QUESTIONS = _load_questions()
BODIES = _bodies()


_START = YEAR_START.replace(tzinfo=None)  # naive UTC, as stored


def _at(seconds: int) -> datetime:
    return _START + timedelta(seconds=seconds)


def answer_rows(p: Plan) -> Iterator[tuple[Any, ...]]:
    cats = [(c.track, c.slug, QUESTIONS[c.slug]) for c in tracks.CATEGORIES]
    teams = [team_id(t) for t in range(len(p.sizes))]
    people = [[user_id(t, u) for u in range(size)] for t, size in enumerate(p.sizes)]
    channels = [[channel_id(t, c) for c in range(n)] for t, n in enumerate(p.channels)]
    start = int(YEAR_START.timestamp())
    for i in range(p.answers):
        t, c = p.team[i], p.channel[i]
        track, category, questions = cats[p.category[i]]
        qid, qtext = questions[p.question[i]]
        at = _at(p.created[i])
        answer_id = i + 1
        if c >= 0:
            seconds = start + p.created[i]
            thread = p.thread[i] == 1
            yield (answer_id, teams[t], people[t][p.user[i]], qid, qtext, track, category, BODIES[p.body[i]],
                   "thread" if thread else "modal", at, at.date(), "channel", channels[t][c],
                   f"{seconds}.{answer_id % 1_000_000:06d}",
                   f"{seconds - seconds % 86400 + 9 * 3600}.000100" if thread else None,  # the day's prompt
                   p.others[i], None)
        else:
            yield (answer_id, teams[t], people[t][p.user[i]], qid, qtext, track, category, BODIES[p.body[i]],
                   "modal", at, at.date(), "private", None, None, None, p.others[i], None)


def reaction_rows(p: Plan) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(p.shape.seed + 1)
    end = int((YEAR_END - YEAR_START).total_seconds()) - 1
    teams = [team_id(t) for t in range(len(p.sizes))]
    people = [[user_id(t, u) for u in range(size)] for t, size in enumerate(p.sizes)]
    for i in range(p.answers):
        k, own = p.others[i], p.self_reacted[i]
        if not (k or own):
            continue
        t, author = p.team[i], p.user[i]
        size = p.sizes[t]
        names = people[t]
        tid, aid = teams[t], names[author]
        created = p.created[i]
        shift = rng.randrange(size - 1)
        first = bisect.bisect(_EMOJI_CUM, rng.random() * _EMOJI_CUM[-1])
        for j in range(k):
            # (reactor, emoji) pairs are distinct for j < (size - 1) * len(EMOJI), and never the author.
            reactor = (author + 1 + (shift + j) % (size - 1)) % size
            emoji = EMOJI[(first + j // (size - 1)) % len(EMOJI)]
            at = _at(min(end, created + 60 + int(rng.expovariate(1 / 14400))))
            yield (tid, i + 1, aid, names[reactor], emoji, False, at)
        if own:
            yield (tid, i + 1, aid, aid, EMOJI[first], True, _at(min(end, created + 30)))


_EMOJI_CUM = list(itertools.accumulate(EMOJI_WEIGHTS))


def member_rows(p: Plan, refreshed: datetime) -> Iterator[tuple[Any, ...]]:
    naive = refreshed.astimezone(UTC).replace(tzinfo=None)
    for t, size in enumerate(p.sizes):
        for u in range(size):
            yield (team_id(t), user_id(t, u), "UTC", u == 0, naive)


def schedule_rows(p: Plan, now: datetime) -> Iterator[tuple[Any, ...]]:
    naive = now.astimezone(UTC).replace(tzinfo=None)
    created = _at(0)
    flat = 0
    for t, n in enumerate(p.channels):
        for c in range(n):
            yield (team_id(t), channel_id(t, c), p.modes[flat], "09:00", "0,1,2,3,4", "UTC", user_id(t, c % p.sizes[t]),
                   True, None, None, naive, 260, created, created, True, 4, "16:00", naive)
            flat += 1


# --- loading ---------------------------------------------------------------------------

@dataclass
class Loaded:
    answers: int
    reactions: int
    members: int
    schedules: int
    seconds: dict[str, float]


def load(engine: Engine, p: Plan, now: datetime, log: Callable[[str], None] = print) -> Loaded:
    """Stream the planned rows into an empty, migrated database."""
    timings: dict[str, float] = {}
    is_pg = engine.dialect.name == "postgresql"
    started = time.monotonic()
    saved = _drop_secondary(engine) if is_pg else _drop_sqlite_indexes(engine)
    timings["drop_indexes_s"] = time.monotonic() - started
    counts = {}
    tables = (("answers", ANSWER_COLUMNS, answer_rows(p)), ("reactions", REACTION_COLUMNS, reaction_rows(p)),
              ("members", MEMBER_COLUMNS, member_rows(p, now - timedelta(hours=1))),
              ("schedules", SCHEDULE_COLUMNS, schedule_rows(p, now)))
    for name, columns, rows in tables:
        began = time.monotonic()
        counts[name] = (_copy if is_pg else _insert_sqlite)(engine, name, columns, rows)
        timings[f"load_{name}_s"] = time.monotonic() - began
        log(f"  {name}: {counts[name]:,} rows in {timings[f'load_{name}_s']:.1f} s")
    began = time.monotonic()
    if is_pg:
        _restore_secondary(engine, saved)
        timings["build_indexes_s"] = time.monotonic() - began
        log(f"  indexes and constraints rebuilt in {timings['build_indexes_s']:.1f} s")
        began = time.monotonic()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT setval(pg_get_serial_sequence('answers', 'id'), "
                                    "(SELECT max(id) FROM answers))"))
            # VACUUM sets the visibility map (as autovacuum would on an insert-mostly table); ANALYZE the statistics.
            connection.execute(text("VACUUM (ANALYZE) answers, reactions, members, schedules"))
            # Write the loaded pages out now rather than in a checkpoint during the measurements.
            if connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
                connection.execute(text("CHECKPOINT"))
        timings["vacuum_analyze_checkpoint_s"] = time.monotonic() - began
    else:
        with engine.begin() as connection:
            for statement in saved:
                connection.execute(text(statement))
        timings["build_indexes_s"] = time.monotonic() - began
        log(f"  indexes rebuilt in {timings['build_indexes_s']:.1f} s")
        began = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        timings["analyze_s"] = time.monotonic() - began
    log(f"  analyzed{' and checkpointed' if is_pg else ''} in {time.monotonic() - began:.1f} s")
    return Loaded(counts["answers"], counts["reactions"], counts["members"], counts["schedules"], timings)


def _copy(engine: Engine, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
    raw = engine.raw_connection()
    try:
        n = 0
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        raw.commit()
        return n
    finally:
        raw.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLAlchemy's SQLite storage format for DateTime
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _insert_sqlite(engine: Engine, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
    raw = engine.raw_connection()
    try:
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        cursor = raw.cursor()
        n = 0
        it = iter(rows)
        while batch := [tuple(_sqlite_value(v) for v in row) for row in itertools.islice(it, 20_000)]:
            cursor.executemany(statement, batch)
            n += len(batch)
        raw.commit()
        cursor.close()
        return n
    finally:
        raw.close()


def _drop_secondary(engine: Engine) -> list[str]:
    """Drop the foreign keys, unique constraints and plain indexes of the loaded tables (not the primary keys);
    return the statements that make them again, in the order to run them."""
    tables = list(LOADED_TABLES)
    with engine.begin() as connection:
        constraints = connection.execute(text(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(:tables) AND c.contype IN ('f', 'u') "
            "ORDER BY c.contype DESC, c.conname"), {"tables": tables}).all()  # u before f when making them
        owned = {name for _, name, _, _ in constraints}
        indexes = connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(:tables) AND indexname NOT LIKE '%\\_pkey' ORDER BY indexname"),
            {"tables": tables}).all()
        indexes = [(name, definition) for name, definition in indexes if name not in owned]
        for table, name, contype, _ in sorted(constraints, key=lambda c: c[2] != "f"):  # foreign keys first
            connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _ in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
    remake = [definition for _, definition in indexes]
    remake += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
               for table, name, contype, definition in constraints if contype == "u"]
    remake += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
               for table, name, contype, definition in constraints if contype == "f"]
    return remake


def _drop_sqlite_indexes(engine: Engine) -> list[str]:
    """Drop the named indexes of the loaded tables (those backing UNIQUE constraints stay); return their SQL."""
    with engine.begin() as connection:
        rows = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join(repr(t) for t in LOADED_TABLES)}) ORDER BY name")).all()
        for name, _ in rows:
            connection.execute(text(f'DROP INDEX "{name}"'))
    return [sql for _, sql in rows]


def _restore_secondary(engine: Engine, statements: list[str]) -> None:
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for statement in statements:
            connection.execute(text(statement))
