"""Reading progress at scale: stats, leaderboard, App Home and the weekly digest on a big database.

    python -m bench.progress_scale                    # 1,000,000 answers, 5,000,000 reactions, 200 workspaces
    python -m bench.progress_scale --quick            # 50,000 / 250,000 / 20: a smoke run, under a minute
    python -m bench.progress_scale --keep             # keep the seeded database and print its name
    python -m bench.progress_scale --reuse NAME       # measure a database kept earlier (migrated first)
    python -m bench.progress_scale --quick --sqlite   # the same queries on a SQLite file, for reference
    python -m bench.progress_scale --database-url postgresql://postgres@127.0.0.1:5432/test --explain

Seeds a scratch PostgreSQL database (``coachbot_bench_progress_<random>`` on
the server of ``--database-url``, migrated with ``Database.upgrade()``, then
filled through COPY by ``bench.seed``: a year of answers over many workspaces,
with reactions and schedules; then VACUUM ANALYZE), and times the real
service methods, built as the app builds them (a stub directory answering
UTC, ``links=None``, ``memberships=None`` so App Home falls back to the
database, a fixed clock at the end of the seeded year):

* ``/prep stats``: ``ProgressService.stats(team, user, user)``, for the
  busiest people and for ordinary ones;
* ``/prep leaderboard week``: ``ProgressService.leaderboard(team, "week",
  viewer)``, for the biggest workspaces and typical ones;
* App Home: ``ProgressService.dashboard(team, user)``, busy and ordinary people;
* the weekly digest: ``DigestService.build(team, channel, until)`` for the
  busiest channels, each for one of the last four Fridays.

The calls of all kinds run shuffled together (so noise from other work on
the machine spreads over all of them), after an unmeasured warm-up, and each
is timed from call to return. Reported per kind: p50, p95, p99 and max
(nearest rank), and the SQL statements each call ran. Goal: p95 under 50 ms.
``--explain`` adds EXPLAIN (ANALYZE, BUFFERS) of every statement the heaviest
call of each kind runs. The scratch database is dropped afterwards unless
``--keep``; ``--reuse NAME`` measures a kept one again (after running the
migrations on it, so new indexes get built on the existing rows).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine, make_url

from bench import seed
from bench.common import machine, workdir
from bench.stats import fmt_ms, percentile
from coachbot.storage.models import Answer

GOAL_MS = 50.0
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX = "coachbot_bench_progress_"
KINDS = (
    ("stats_busy", "/prep stats, busy people"),
    ("stats_ordinary", "/prep stats, ordinary people"),
    ("leaderboard_biggest", "/prep leaderboard week, biggest workspaces"),
    ("leaderboard_typical", "/prep leaderboard week, typical workspaces"),
    ("home_busy", "App Home, busy people"),
    ("home_ordinary", "App Home, ordinary people"),
    ("digest_busy", "weekly digest, busiest channels"),
)
EXPLAINED = ("stats_busy", "leaderboard_biggest", "home_busy", "digest_busy")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.progress_scale", description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--answers", type=int, default=1_000_000, help="answers to seed")
    parser.add_argument("--reactions", type=int, default=5_000_000, help="reactions to seed")
    parser.add_argument("--teams", type=int, default=200, help="workspaces to seed")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data and of the call order")
    parser.add_argument("--calls", type=int, default=200, help="measured calls of each kind")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured calls of each kind first")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER,
                        help="the PostgreSQL server to make the scratch database on (the database it names is "
                             "only used to create and drop that one); $TEST_DATABASE_URL when set")
    parser.add_argument("--sqlite", action="store_true", help="use a new SQLite file instead of PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database and print its name")
    parser.add_argument("--reuse", metavar="NAME", default=None,
                        help="measure a database seeded and kept earlier (its own shape is used; migrated first)")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) every statement of the heaviest call of each kind")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds allowed for the whole benchmark, checked between steps and between calls "
                             "(default: 1800, with --quick 55)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="50,000 answers, 250,000 reactions, 20 workspaces, 200 calls each (under a minute)")
    args = parser.parse_args(argv)
    if args.quick:
        args.answers, args.reactions, args.teams = 50_000, 250_000, 20
    if args.time_limit is None:
        args.time_limit = 55.0 if args.quick else 1800.0
    for name in ("answers", "teams", "calls"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.reactions < 0 or args.warmup < 0:
        parser.error("--reactions and --warmup must not be negative")
    if args.sqlite and (args.reuse or args.keep):
        parser.error("--reuse and --keep are for PostgreSQL (a SQLite run seeds a new file in a temporary folder)")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- the database -------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    kind: str  # postgresql | sqlite
    name: str  # the database (PostgreSQL) or "sqlite file"
    reused: bool


@contextmanager
def target_database(args: argparse.Namespace, tmp: Path) -> Iterator[Target]:
    from coachbot.config import parse_database_url

    if args.sqlite:
        yield Target(f"sqlite:///{tmp / 'progress.db'}", "sqlite", "a new SQLite file", False)
        return
    server = parse_database_url(args.database_url)
    if not server.startswith("postgresql"):
        raise SystemExit("--database-url must name a PostgreSQL server (use --sqlite for SQLite)")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        if args.reuse:
            with admin.connect() as connection:
                found = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": args.reuse})
            if not found:
                raise SystemExit(f"no database {args.reuse!r} on that server")
            yield Target(make_url(server).set(database=args.reuse).render_as_string(hide_password=False),
                         "postgresql", args.reuse, True)
            return
        name = PREFIX + uuid.uuid4().hex[:10]
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield Target(make_url(server).set(database=name).render_as_string(hide_password=False), "postgresql",
                         name, False)
        finally:
            if args.keep:
                log(f"kept the database {name}: measure it again with --reuse {name}")
            else:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def stored_shape(engine: Engine, name: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        note = connection.scalar(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                      "WHERE datname = :n"), {"n": name})
    try:
        return json.loads(note) if note else None
    except ValueError:
        return None


def remember_shape(engine: Engine, name: str, shape: dict[str, Any]) -> None:
    note = json.dumps(shape).replace("'", "''")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{note}'"))


def reaction_count_mismatches(engine: Engine) -> int:
    """Answers whose reaction_count is not the number of their reactions from other people (should be 0)."""
    with engine.connect() as connection:
        return int(connection.scalar(text(
            "SELECT count(*) FROM answers a LEFT JOIN (SELECT answer_id, count(*) AS n FROM reactions "
            "WHERE NOT is_self GROUP BY answer_id) r ON r.answer_id = a.id "
            "WHERE a.reaction_count <> coalesce(r.n, 0)")))


def table_sizes(engine: Engine) -> dict[str, dict[str, int]]:
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT c.relname, pg_relation_size(c.oid), pg_indexes_size(c.oid), pg_total_relation_size(c.oid) "
            "FROM pg_class c WHERE c.relname IN ('answers', 'reactions') ORDER BY c.relname")).all()
        indexes = connection.execute(text(
            "SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname IN ('answers', 'reactions') ORDER BY 1")).all()
    sizes: dict[str, dict[str, int]] = {r[0]: {"heap": r[1], "indexes": r[2], "total": r[3]} for r in rows}
    sizes["index"] = {name: size for name, size in indexes}
    return sizes


# --- who and what is asked about -------------------------------------------------------------


@dataclass
class Subjects:
    busy_people: list[tuple[str, str, int]]  # team, user, answers
    ordinary_people: list[tuple[str, str, int]]
    biggest_teams: list[tuple[str, int, int]]  # team, people, answers
    typical_teams: list[tuple[str, int, int]]
    members: dict[str, list[str]]
    busy_channels: list[tuple[str, str, int, str, str]]  # team, channel, public answers, mode, tz
    shape: dict[str, Any]


def pick_subjects(engine: Engine, rng: random.Random, now: datetime) -> Subjects:
    with engine.connect() as connection:
        people = connection.execute(text(
            "SELECT team_id, user_id, count(*) FROM answers GROUP BY team_id, user_id")).all()
        members: dict[str, list[str]] = {}
        for team, user in connection.execute(text("SELECT team_id, user_id FROM members ORDER BY 1, 2")):
            members.setdefault(team, []).append(user)
        channels = connection.execute(text(
            "SELECT a.team_id, a.channel_id, count(*), s.mode, s.tz FROM answers a JOIN schedules s "
            "ON s.team_id = a.team_id AND s.channel_id = a.channel_id WHERE a.visibility = 'channel' "
            "GROUP BY a.team_id, a.channel_id, s.mode, s.tz")).all()
        week = connection.execute(select(func.count()).select_from(Answer)
                                  .where(Answer.created_at >= now - timedelta(days=7))).scalar_one()
        public = connection.execute(text("SELECT count(*) FROM answers WHERE visibility = 'channel'")).scalar_one()
        reactions = connection.execute(text(
            "SELECT count(*), sum(CASE WHEN is_self THEN 1 ELSE 0 END) FROM reactions")).one()
        on_private = connection.execute(text(
            "SELECT count(*) FROM reactions r JOIN answers a ON a.id = r.answer_id "
            "WHERE a.visibility <> 'channel'")).scalar_one()
        counted = connection.execute(text("SELECT coalesce(sum(reaction_count), 0) FROM answers")).scalar_one()
        n_schedules = connection.execute(text("SELECT count(*) FROM schedules")).scalar_one()
    people = sorted(((t, u, int(n)) for t, u, n in people), key=lambda p: (-p[2], p[0], p[1]))
    counts = sorted(p[2] for p in people)
    low, high = percentile(counts, 25), percentile(counts, 75)
    ordinary = [p for p in people if low <= p[2] <= high]
    rng.shuffle(ordinary)
    per_team: dict[str, int] = {}
    for t, _, n in people:
        per_team[t] = per_team.get(t, 0) + n
    teams = sorted(((t, len(members.get(t, [])), n) for t, n in per_team.items()), key=lambda x: (-x[2], x[0]))
    sizes = sorted(x[1] for x in teams)
    s_low, s_high = percentile(sizes, 25), percentile(sizes, 75)
    typical = [x for x in teams if s_low <= x[1] <= s_high]
    rng.shuffle(typical)
    channels = sorted(((t, c, int(n), m, z) for t, c, n, m, z in channels), key=lambda x: (-x[2], x[0], x[1]))
    shape = {
        "answers": sum(counts), "public_answers": int(public), "answers_last_week": int(week),
        "reactions": int(reactions[0]), "self_reactions": int(reactions[1] or 0),
        "reactions_on_private_answers": int(on_private), "sum_reaction_count": int(counted),
        "workspaces": len(members), "people": sum(len(v) for v in members.values()),
        "people_who_answered": len(people), "channels_with_schedules": int(n_schedules),
        "people_per_workspace": {"min": sizes[0], "median": percentile(sizes, 50), "max": sizes[-1]},
        "answers_per_person": {"median": percentile(counts, 50), "p99": percentile(counts, 99), "max": counts[-1]},
        "answers_per_workspace": {"median": percentile(sorted(per_team.values()), 50), "max": teams[0][2]},
        "public_answers_per_channel": {"median": percentile(sorted(c[2] for c in channels), 50),
                                       "max": channels[0][2]},
    }
    return Subjects(people[:50], ordinary[:200], teams[:5], typical[:20], members, channels[:20], shape)


def describe_subjects(subjects: Subjects) -> dict[str, str]:
    def span(values: list[int]) -> str:
        return f"{min(values):,}-{max(values):,}" if values else "none"

    return {
        "busy people": f"the {len(subjects.busy_people)} with the most answers ("
                       f"{span([p[2] for p in subjects.busy_people])} answers)",
        "ordinary people": f"{len(subjects.ordinary_people)} drawn from the middle half by answers ("
                           f"{span([p[2] for p in subjects.ordinary_people])} answers)",
        "biggest workspaces": f"the {len(subjects.biggest_teams)} with the most answers ("
                              f"{span([t[2] for t in subjects.biggest_teams])} answers, "
                              f"{span([t[1] for t in subjects.biggest_teams])} people)",
        "typical workspaces": f"{len(subjects.typical_teams)} drawn from the middle half by people ("
                              f"{span([t[1] for t in subjects.typical_teams])} people, "
                              f"{span([t[2] for t in subjects.typical_teams])} answers)",
        "busiest channels": f"the {len(subjects.busy_channels)} with the most public answers ("
                            f"{span([c[2] for c in subjects.busy_channels])}), each for one of the last 4 Fridays",
    }


# --- the calls --------------------------------------------------------------------------------


@dataclass
class Call:
    kind: str
    label: str
    run: Callable[[], Any]


def digest_untils(now: datetime, weeks: int = 4) -> list[datetime]:
    """The Friday 16:00 UTC digest slots at or before ``now``, newest first."""
    friday = now.replace(hour=16, minute=0, second=0, microsecond=0) - timedelta(days=(now.weekday() - 4) % 7)
    if friday > now:
        friday -= timedelta(days=7)
    return [friday - timedelta(weeks=w) for w in range(weeks)]


def make_calls(subjects: Subjects, progress, digest, now: datetime, rng: random.Random, per_kind: int
               ) -> dict[str, list[Call]]:
    untils = digest_untils(now)

    def cycle(items: list[Any], n: int) -> list[Any]:
        order = list(items)
        rng.shuffle(order)
        return [order[i % len(order)] for i in range(n)]

    def viewer(team: str) -> str:
        return rng.choice(subjects.members[team])

    calls: dict[str, list[Call]] = {}
    calls["stats_busy"] = [Call("stats_busy", f"{t}/{u} ({n} answers)",
                                lambda t=t, u=u: progress.stats(t, u, u))
                           for t, u, n in cycle(subjects.busy_people, per_kind)]
    calls["stats_ordinary"] = [Call("stats_ordinary", f"{t}/{u} ({n} answers)",
                                    lambda t=t, u=u: progress.stats(t, u, u))
                               for t, u, n in cycle(subjects.ordinary_people, per_kind)]
    for kind, teams in (("leaderboard_biggest", subjects.biggest_teams),
                        ("leaderboard_typical", subjects.typical_teams)):
        asked = [(t, p, n, viewer(t)) for t, p, n in cycle(teams, per_kind)]
        calls[kind] = [Call(kind, f"{t} ({p} people, {n} answers)",
                            lambda t=t, v=v: progress.leaderboard(t, "week", v)) for t, p, n, v in asked]
    calls["home_busy"] = [Call("home_busy", f"{t}/{u} ({n} answers)", lambda t=t, u=u: progress.dashboard(t, u))
                          for t, u, n in cycle(subjects.busy_people, per_kind)]
    calls["home_ordinary"] = [Call("home_ordinary", f"{t}/{u} ({n} answers)",
                                   lambda t=t, u=u: progress.dashboard(t, u))
                              for t, u, n in cycle(subjects.ordinary_people, per_kind)]
    calls["digest_busy"] = [Call("digest_busy", f"{t}/{c} ({n} public answers) until {until:%Y-%m-%d}",
                                 lambda t=t, c=c, m=m, z=z, until=until: digest.build(t, c, until, mode=m, tz=z))
                            for (t, c, n, m, z), until in zip(cycle(subjects.busy_channels, per_kind),
                                                              cycle(untils, per_kind))]
    return calls


class StatementLog:
    """Counts (and on request keeps) the SQL statements an engine runs."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.keeping: list[tuple[str, Any]] | None = None
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, parameters, _context, _executemany) -> None:
        self.count += 1
        if self.keeping is not None:
            self.keeping.append((statement, parameters))


def measure(calls: dict[str, list[Call]], statements: StatementLog, warmup: int, rng: random.Random,
            deadline: float) -> tuple[dict[str, list[float]], dict[str, list[int]], str | None]:
    for items in calls.values():
        for call in rng.sample(items, min(warmup, len(items))):
            if time.monotonic() > deadline:
                return ({k: [] for k in calls}, {k: [] for k in calls},
                        "time limit reached before the measured calls (seeding or warm-up took it)")
            call.run()
    order = [call for items in calls.values() for call in items]
    rng.shuffle(order)
    latencies: dict[str, list[float]] = {kind: [] for kind in calls}
    per_call: dict[str, list[int]] = {kind: [] for kind in calls}
    for n, call in enumerate(order):
        if time.monotonic() > deadline:
            return latencies, per_call, f"time limit reached after {n:,} of {len(order):,} calls"
        before = statements.count
        started = time.perf_counter()
        call.run()
        latencies[call.kind].append(time.perf_counter() - started)
        per_call[call.kind].append(statements.count - before)
    return latencies, per_call, None


def summary(latencies: list[float], statements: list[int]) -> dict[str, Any]:
    ordered = sorted(latencies)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "p50_ms": percentile(ordered, 50) * 1000,
        "p95_ms": percentile(ordered, 95) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "max_ms": ordered[-1] * 1000,
        "mean_ms": sum(ordered) / len(ordered) * 1000,
        "statements_per_call": [min(statements), max(statements)],
    }


def explain(engine: Engine, statements: StatementLog, heaviest: dict[str, Call]) -> list[dict[str, Any]]:
    """Run the heaviest call of each kind with its statements kept, then EXPLAIN each distinct one.

    PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) twice, with the values (a custom
    plan, what the first five runs of a statement on a connection get) and as
    a prepared statement forced onto its generic plan (what psycopg's
    automatic preparing, after five runs, may switch to when the planner
    thinks the generic plan is no dearer). SQLite: EXPLAIN QUERY PLAN.
    """
    plans: list[dict[str, Any]] = []
    seen: set[str] = set()
    for kind in EXPLAINED:
        call = heaviest.get(kind)
        if call is None:
            continue
        statements.keeping = []
        call.run()
        kept, statements.keeping = statements.keeping, None
        for statement, parameters in kept:
            if statement in seen or not statement.lstrip().upper().startswith("SELECT"):
                continue
            seen.add(statement)
            entry = {"kind": kind, "call": call.label, "statement": " ".join(statement.split()),
                     "parameters": _printable(parameters)}
            if engine.dialect.name == "postgresql":
                entry["plan"], entry["generic_plan"] = _explain_postgresql(engine, statement, parameters)
            else:
                entry["plan"] = _explain_sqlite(engine, statement, parameters)
            plans.append(entry)
    return plans


def _explain_postgresql(engine: Engine, statement: str, parameters: dict[str, Any]) -> tuple[str, str]:
    import psycopg

    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", number, statement)
    raw = engine.raw_connection()
    try:
        cursor = psycopg.ClientCursor(raw.driver_connection)  # values inlined as literals, as psql would send them
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        custom = "\n".join(r[0] for r in cursor.fetchall())
        name = f"bench_explained_{uuid.uuid4().hex[:8]}"
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE {name} AS {prepared}")
        try:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE {name} ({', '.join('%s' for _ in names)})",
                           [parameters[n] for n in names])
            generic = "\n".join(r[0] for r in cursor.fetchall())
        finally:
            raw.rollback()
            try:  # whether a PREPARE survives the rollback of its transaction, make sure it is gone
                cursor.execute(f"DEALLOCATE {name}")
            except psycopg.errors.InvalidSqlStatementName:
                pass
            raw.rollback()
            cursor.close()
    finally:
        raw.close()
    return custom, generic


def _explain_sqlite(engine: Engine, statement: str, parameters: Any) -> str:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()
    return "\n".join(f"{r[0]:>3} {r[1]:>3} {r[3]}" for r in rows)


def _printable(parameters: Any) -> Any:
    if isinstance(parameters, dict):
        return {k: str(v) for k, v in parameters.items()}
    return [str(v) for v in parameters]


# --- the report ---------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    cfg = report["config"]
    shape = report.get("dataset", {})
    lines = [f"## Reading progress at scale ({cfg['database']}{', reused' if cfg.get('reused') else ''})", "",
             f"- Command: `python -m bench.progress_scale {' '.join(report['argv'])}`".rstrip(),
             (f"- Machine: {cfg['machine']['cpus']} CPUs, Python {cfg['machine']['python']}, "
              f"{cfg.get('server_version', '')}; load average {report['load_average']['before_measuring']} "
              f"(1, 5, 15 min) before measuring, {report['load_average']['after_measuring']} after"),
             (f"- Clock: {cfg['clock']}; {cfg['calls']} measured calls per kind (after {cfg['warmup']} warm-up), "
              "all kinds shuffled together")]
    if report.get("seeding"):
        s = report["seeding"]
        lines.append(f"- Seeding: {s['total_s']:.0f} s (" + ", ".join(f"{k} {v:.1f}" for k, v in s.items()
                                                                          if k != "total_s") + ")")
    if report.get("reaction_count_mismatches") is not None:
        lines.append(f"- Answers whose reaction_count differs from their reactions by others: "
                     f"{report['reaction_count_mismatches']}")
    if report.get("migration_s") is not None:
        lines.append(f"- Migrations on the existing data: {report['migration_s']:.1f} s")
    if shape:
        lines += ["", "Dataset: " + ", ".join([
            (f"{shape['answers']:,} answers ({shape['public_answers']:,} public, {shape['answers_last_week']:,} "
             "in the last week)"),
            (f"{shape['reactions']:,} reactions ({shape['self_reactions']:,} self, "
             f"{shape['reactions_on_private_answers']:,} on private answers; sum of reaction_count "
             f"{shape['sum_reaction_count']:,})"),
            (f"{shape['workspaces']} workspaces of {shape['people_per_workspace']['min']}-"
             f"{shape['people_per_workspace']['max']} people (median {shape['people_per_workspace']['median']}, "
             f"{shape['people']:,} in all, {shape['people_who_answered']:,} with answers)"),
            f"{shape['channels_with_schedules']} channels with schedules",
            (f"answers per person median {shape['answers_per_person']['median']}, "
             f"p99 {shape['answers_per_person']['p99']}, max {shape['answers_per_person']['max']}"),
            (f"per workspace median {shape['answers_per_workspace']['median']:,}, "
             f"max {shape['answers_per_workspace']['max']:,}"),
            (f"public answers per channel median {shape['public_answers_per_channel']['median']:,}, "
             f"max {shape['public_answers_per_channel']['max']:,}")]) + "."]
    sizes = report.get("sizes") or {}
    if sizes.get("answers"):
        mib = 1024 * 1024
        lines += ["", "Sizes: " + "; ".join(
            f"{t} {sizes[t]['heap'] / mib:.0f} MiB + indexes {sizes[t]['indexes'] / mib:.0f} MiB"
            for t in ("answers", "reactions") if t in sizes) + "."]
    if report.get("subjects"):
        lines += ["", "Asked about: " + "; ".join(f"{k}: {v}" for k, v in report["subjects"].items()) + "."]
    lines += ["", "| query | calls | p50 ms | p95 ms | p99 ms | max ms | statements/call | p95 < 50 ms |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for kind, title in KINDS:
        r = report["results"].get(kind, {"count": 0})
        if not r["count"]:
            lines.append(f"| {title} | 0 | | | | | | |")
            continue
        lo, hi = r["statements_per_call"]
        lines.append(f"| {title} | {r['count']} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p95_ms'])} | "
                     f"{fmt_ms(r['p99_ms'])} | {fmt_ms(r['max_ms'])} | {lo if lo == hi else f'{lo}-{hi}'} | "
                     f"{'yes' if r['p95_ms'] < GOAL_MS else '**no**'} |")
    if report.get("incomplete"):
        lines += ["", f"**Incomplete:** {report['incomplete']}"]
    for p in report.get("explain", []):
        lines += ["", f"{p['kind']}: {p['call']}", "", "```sql", p["statement"], "```",
                  f"parameters: {p['parameters']}", "", "```", p["plan"], "```"]
        if p.get("generic_plan"):
            lines += ["", "as a prepared statement, generic plan:", "", "```", p["generic_plan"], "```"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    deadline = began + args.time_limit
    from coachbot.clock import FixedClock
    from coachbot.services.digest import DigestService
    from coachbot.services.people import PeopleService, PersonInfo
    from coachbot.services.progress import ProgressService
    from coachbot.storage.db import Database

    now = seed.YEAR_END
    shape = seed.Shape(args.answers, args.reactions, args.teams, args.seed)
    report: dict[str, Any] = {"benchmark": "progress_scale", "date": time.strftime("%Y-%m-%d"), "argv": sys.argv[1:],
                              "load_average": {"at_start": load_average()}}
    with ExitStack() as stack:
        tmp = stack.enter_context(workdir("coachbot-bench-progress-"))
        target = stack.enter_context(target_database(args, tmp))
        db = Database(target.url)
        stack.callback(db.dispose)
        report["config"] = {"database": target.kind, "reused": target.reused, "calls": args.calls,
                            "warmup": args.warmup, "clock": now.isoformat(), "quick": args.quick,
                            "machine": machine()}
        with db.engine.connect() as connection:
            report["config"]["server_version"] = (
                "PostgreSQL " + connection.scalar(text("SHOW server_version")) if target.kind == "postgresql"
                else "SQLite " + connection.scalar(text("SELECT sqlite_version()")))
        started = time.monotonic()
        db.upgrade()
        if target.reused:
            report["migration_s"] = time.monotonic() - started
            report["shape"] = stored_shape(db.engine, target.name)
            if report["shape"] is None:
                raise SystemExit(f"{target.name} was not seeded by this benchmark (no shape noted on it)")
            log(f"reusing {target.name} ({report['shape']}); migrations took {report['migration_s']:.1f} s")
        else:
            log(f"seeding {target.name}: {shape.answers:,} answers, {shape.reactions:,} reactions, "
                f"{shape.teams} workspaces")
            began_plan = time.monotonic()
            planned = seed.plan(shape)
            plan_s = time.monotonic() - began_plan
            log(f"  planned in {plan_s:.1f} s")
            loaded = seed.load(db.engine, planned, now, log)
            report["seeding"] = {"total_s": time.monotonic() - started, "plan_s": plan_s, **loaded.seconds}
            report["shape"] = shape.as_dict()
            report["reaction_count_mismatches"] = reaction_count_mismatches(db.engine)
            log(f"  answers whose reaction_count differs from their reactions: {report['reaction_count_mismatches']}")
            if target.kind == "postgresql":
                remember_shape(db.engine, target.name, shape.as_dict())
        report["sizes"] = table_sizes(db.engine)
        rng = random.Random(args.seed)
        subjects = pick_subjects(db.engine, rng, now)
        report["dataset"] = subjects.shape
        report["subjects"] = describe_subjects(subjects)
        clock = FixedClock(now)
        people = PeopleService(db, lambda team, user: PersonInfo("UTC"), clock)
        progress = ProgressService(db, people, clock, links=None, memberships=None)
        digest = DigestService(db, progress, clock)
        calls = make_calls(subjects, progress, digest, now, rng, args.calls)
        statements = StatementLog(db.engine)
        report["load_average"]["before_measuring"] = load_average()
        log(f"measuring {sum(len(c) for c in calls.values()):,} calls (load average "
            f"{report['load_average']['before_measuring']})")
        latencies, per_call, incomplete = measure(calls, statements, args.warmup, rng, deadline)
        report["load_average"]["after_measuring"] = load_average()
        if incomplete:
            report["incomplete"] = incomplete
        report["results"] = {kind: summary(latencies[kind], per_call[kind]) for kind in latencies}
        if args.explain:
            (bt, bu, bn), (lt, lp, ln), (dt, dc, dn, dm, dz) = (subjects.busy_people[0], subjects.biggest_teams[0],
                                                                subjects.busy_channels[0])
            until = digest_untils(now)[0]
            viewer = subjects.members[lt][-1]
            heaviest = {
                "stats_busy": Call("stats_busy", f"{bt}/{bu} ({bn} answers)", lambda: progress.stats(bt, bu, bu)),
                "leaderboard_biggest": Call("leaderboard_biggest", f"{lt} ({lp} people, {ln} answers)",
                                            lambda: progress.leaderboard(lt, "week", viewer)),
                "home_busy": Call("home_busy", f"{bt}/{bu} ({bn} answers)", lambda: progress.dashboard(bt, bu)),
                "digest_busy": Call("digest_busy", f"{dt}/{dc} ({dn} public answers) until {until:%Y-%m-%d}",
                                    lambda: digest.build(dt, dc, until, mode=dm, tz=dz)),
            }
            report["explain"] = explain(db.engine, statements, heaviest)
        report["database_name"] = target.name if target.kind == "postgresql" else None
    report["duration_s"] = time.monotonic() - began
    print(render(report))
    log(f"\n(took {report['duration_s']:.0f} s)")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if not report.get("incomplete") else 1


if __name__ == "__main__":
    sys.exit(main())
