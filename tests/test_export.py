"""``coachbot export``: the library (streamed answers, JSON and CSV writers) and the command,
against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from coachbot.cli_export import export
from coachbot.export import (
    ANSWER_FIELDS,
    CSV_COLUMNS,
    SCHEMA,
    ExportFilters,
    iter_answers,
    parse_reactions,
    write_csv,
    write_json,
)
from coachbot.storage.db import Database
from coachbot.storage.models import Answer, Reaction

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc)
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
TRICKY = 'Line one, with a comma.\nLine "two" has quotes;\r\nand a CRLF, a tab\tand ünïcödé 🎉 :emoji:.'


@dataclass
class Seeded:
    answers: list[Answer]  # as inserted (ids assigned)
    reactions: list[Reaction]

    def answer(self, text_start: str) -> Answer:
        return next(a for a in self.answers if a.text.startswith(text_start))


def _answer(team: str, user: str, at: datetime, text: str, **extra) -> Answer:
    values = dict(
        team_id=team, user_id=user, question_id="dm-001", question_text="Tell me about a hard decision.",
        track="leadership", category="decision-making", text=text, source="modal", created_at=at,
        local_day=at.date(), visibility="private", channel_id=None, message_ts=None, thread_ts=None,
        reaction_count=0, permalink=None,
    )
    values.update(extra)
    return Answer(**values)


def seed(url: str) -> Seeded:
    """Two teams; user U1 exists in both. Inserted out of order, with a created_at tie in T1."""
    database = Database(url)
    with database.session() as session:
        answers = [
            _answer("T2", "U1", T0 + timedelta(minutes=5), "T2 U1 answer", track="technical", category="coding",
                    question_id="code-003", question_text="Reverse a linked list.", source="thread",
                    visibility="channel", channel_id="C2", message_ts="1764000300.000200",
                    thread_ts="1764000000.000100", permalink="https://example.slack.com/archives/C2/p1764000300000200"),
            _answer("T1", "U1", T0 + timedelta(minutes=10, microseconds=123456), "T1 U1 later " + TRICKY),
            _answer("T1", "U2", T0, "T1 U2 tie first", visibility="channel", channel_id="C1",
                    message_ts="1764000000.000300"),
            _answer("T1", "U1", T0, "T1 U1 tie second", category="retired-category"),
            _answer("T2", "U3", T0, "T2 U3 answer"),
        ]
        for answer in answers:
            session.add(answer)
            session.flush()  # ids in insertion order: the tie in T1 is broken by id
        t2_u1, t1_later, t1_u2 = answers[0], answers[1], answers[2]
        reactions = [
            # T1's later answer: two from others (one with a colon-bearing emoji), one from the author.
            Reaction(team_id="T1", answer_id=t1_later.id, author_id="U1", user_id="U2", emoji="+1", is_self=False,
                     created_at=T0 + timedelta(hours=2)),
            Reaction(team_id="T1", answer_id=t1_later.id, author_id="U1", user_id="U1", emoji="tada", is_self=True,
                     created_at=T0 + timedelta(hours=1)),
            Reaction(team_id="T1", answer_id=t1_later.id, author_id="U1", user_id="U3", emoji="wave::skin-tone-2",
                     is_self=False, created_at=T0 + timedelta(hours=2)),  # same instant as +1: id breaks the tie
            Reaction(team_id="T1", answer_id=t1_u2.id, author_id="U2", user_id="U1", emoji="eyes", is_self=False,
                     created_at=T0 + timedelta(minutes=30)),
            Reaction(team_id="T2", answer_id=t2_u1.id, author_id="U1", user_id="U9", emoji="+1", is_self=False,
                     created_at=T0 + timedelta(minutes=6)),
        ]
        for reaction in reactions:
            session.add(reaction)
            session.flush()
        t1_later.reaction_count, t1_u2.reaction_count, t2_u1.reaction_count = 2, 1, 1
    database.dispose()
    return Seeded(answers, reactions)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def expected(seeded: Seeded, *, teams=(), users=()) -> list[dict]:
    """What the export must say, computed from what was inserted."""
    titles = {"decision-making": "Decision making", "coding": "Coding"}
    chosen = [a for a in seeded.answers if (not teams or a.team_id in teams) and (not users or a.user_id in users)]
    chosen.sort(key=lambda a: (a.team_id, a.created_at, a.id))
    rows = []
    for a in chosen:
        mine = sorted((r for r in seeded.reactions if r.answer_id == a.id), key=lambda r: (r.created_at, r.id))
        rows.append({
            "team_id": a.team_id, "answer_id": a.id, "user_id": a.user_id, "created_at": iso(a.created_at),
            "local_day": a.local_day.isoformat(), "track": a.track, "category": a.category,
            "category_title": titles.get(a.category), "question_id": a.question_id,
            "question_text": a.question_text, "source": a.source, "visibility": a.visibility,
            "channel_id": a.channel_id, "message_ts": a.message_ts, "thread_ts": a.thread_ts,
            "permalink": a.permalink, "text": a.text, "reaction_count": a.reaction_count,
            "reactions": [
                {"user_id": r.user_id, "emoji": r.emoji, "is_self": r.is_self, "created_at": iso(r.created_at)}
                for r in mine
            ],
        })
    return rows


def export_json(url: str, filters: ExportFilters = ExportFilters(), batch_size: int = 500) -> str:
    database = Database(url)
    stream = io.StringIO()
    with database.session() as session:
        write_json(iter_answers(session, filters, batch_size=batch_size), stream, now=NOW, filters=filters)
    database.dispose()
    return stream.getvalue()


def export_csv(url: str, filters: ExportFilters = ExportFilters()) -> str:
    database = Database(url)
    stream = io.StringIO(newline="")
    with database.session() as session:
        write_csv(iter_answers(session, filters), stream)
    database.dispose()
    return stream.getvalue()


def csv_as_json_shape(text: str) -> tuple[list[str], list[dict]]:
    """Parse CSV output back into the JSON answer shape (values typed as in JSON)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    parsed = []
    for values in body:
        assert len(values) == len(header)
        row: dict = dict(zip(header, values))
        for name in ("category_title", "channel_id", "message_ts", "thread_ts", "permalink"):
            row[name] = row[name] or None
        row["answer_id"] = int(row["answer_id"])
        row["reaction_count"] = int(row["reaction_count"])
        row["reactions"] = parse_reactions(row["reactions"])
        parsed.append(row)
    return header, parsed


def json_to_csv_shape(rows: list[dict]) -> list[dict]:
    return [{**r, "reactions": [(x["emoji"], x["user_id"], x["is_self"]) for x in r["reactions"]]} for r in rows]


# --- library ----------------------------------------------------------------

def test_json_round_trips_what_was_stored(database_url: str):
    seeded = seed(database_url)
    output = export_json(database_url)
    document = json.loads(output)
    assert list(document) == ["schema", "exported_at", "filters", "answers"]
    assert document["schema"] == SCHEMA == "coachbot-export/1"
    assert document["exported_at"] == "2026-11-25T08:30:00.000000+00:00"
    assert datetime.fromisoformat(document["exported_at"]) == NOW
    assert document["filters"] == {"teams": [], "users": []}
    assert document["answers"] == expected(seeded)
    assert [list(a) for a in document["answers"]] == [list(ANSWER_FIELDS) + ["reactions"]] * len(seeded.answers)
    later = seeded.answer("T1 U1 later")
    assert next(a for a in document["answers"] if a["answer_id"] == later.id)["text"] == "T1 U1 later " + TRICKY
    assert output.endswith("\n]}\n") and output.count("\n") == len(seeded.answers) + 2  # one answer per line


def test_csv_round_trips_texts_with_newlines_commas_and_quotes(database_url: str):
    seeded = seed(database_url)
    output = export_csv(database_url)
    assert output.startswith(",".join(CSV_COLUMNS) + "\r\n")
    header, rows = csv_as_json_shape(output)
    assert header == list(CSV_COLUMNS) == list(ANSWER_FIELDS) + ["reactions"]
    assert rows == json_to_csv_shape(expected(seeded))
    later = seeded.answer("T1 U1 later")
    (row,) = [r for r in rows if r["answer_id"] == later.id]
    assert row["text"] == "T1 U1 later " + TRICKY
    assert row["reactions"] == [("tada", "U1", True), ("+1", "U2", False), ("wave::skin-tone-2", "U3", False)]
    assert "tada:U1:self;+1:U2;wave::skin-tone-2:U3" in output


def test_reactions_are_attached_to_the_right_answers_with_self_flags(database_url: str):
    seeded = seed(database_url)
    answers = {a["answer_id"]: a for a in json.loads(export_json(database_url))["answers"]}
    later, tie_u2 = seeded.answer("T1 U1 later"), seeded.answer("T1 U2 tie")
    t2_u1, t2_u3, tie_u1 = seeded.answer("T2 U1"), seeded.answer("T2 U3"), seeded.answer("T1 U1 tie")

    def summary(answer: Answer) -> list[tuple[str, str, bool]]:
        return [(r["emoji"], r["user_id"], r["is_self"]) for r in answers[answer.id]["reactions"]]

    # oldest first; the +1 and the wave share an instant, so the row id orders them
    assert summary(later) == [("tada", "U1", True), ("+1", "U2", False), ("wave::skin-tone-2", "U3", False)]
    assert answers[later.id]["reaction_count"] == 2  # the author's own is listed, never counted
    assert summary(tie_u2) == [("eyes", "U1", False)]
    assert summary(t2_u1) == [("+1", "U9", False)]
    assert summary(t2_u3) == summary(tie_u1) == []
    assert answers[tie_u1.id]["category_title"] is None  # a slug coachbot no longer knows


@pytest.mark.parametrize(
    ("teams", "users"),
    [
        (("T1",), ()),
        (("T2",), ()),
        (("T1", "T2"), ()),
        ((), ("U1",)),
        (("T2",), ("U1",)),
        (("T1",), ("U1", "U2")),
        (("T1",), ("U3",)),  # U3 only answered in T2
        (("T3",), ()),
    ],
)
def test_filters_never_leak_other_teams_or_people(database_url: str, teams, users):
    seeded = seed(database_url)
    filters = ExportFilters.of(teams, users)
    document = json.loads(export_json(database_url, filters))
    assert document["filters"] == {"teams": sorted(teams), "users": sorted(users)}
    assert document["answers"] == expected(seeded, teams=teams, users=users)
    for answer in document["answers"]:
        assert not teams or answer["team_id"] in teams
        assert not users or answer["user_id"] in users
    if teams == ("T1",) and users == ():
        assert {a["team_id"] for a in document["answers"]} == {"T1"} and len(document["answers"]) == 3
        assert all(r["user_id"] != "U9" for a in document["answers"] for r in a["reactions"])  # T2's reactor
    _, rows = csv_as_json_shape(export_csv(database_url, filters))
    assert rows == json_to_csv_shape(expected(seeded, teams=teams, users=users))


def test_filters_are_deduplicated_and_sorted():
    assert ExportFilters.of(["T2", "T1", "T2"], ["U1", "U1"]).as_dict() == {"teams": ["T1", "T2"], "users": ["U1"]}


def test_order_is_stable_and_independent_of_batch_size(database_url: str):
    seeded = seed(database_url)
    answers = json.loads(export_json(database_url))["answers"]
    keys = [(a["team_id"], a["created_at"], a["answer_id"]) for a in answers]
    assert keys == sorted(keys)
    tie_u2, tie_u1 = seeded.answer("T1 U2 tie"), seeded.answer("T1 U1 tie")
    assert [a["answer_id"] for a in answers if a["team_id"] == "T1"][:2] == [tie_u2.id, tie_u1.id]  # by id
    once = export_json(database_url)
    assert export_json(database_url) == once
    for batch_size in (1, 2, 3):
        assert export_json(database_url, batch_size=batch_size) == once


def test_reactions_are_read_once_per_batch_not_per_answer(database_url: str):
    seed(database_url)
    database = Database(database_url)
    statements: list[str] = []
    with database.session() as session:
        session.connection()  # connect first, so only the export's own statements are counted

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split()).lower())

        event.listen(database.engine, "before_cursor_execute", record)
        try:
            exported = list(iter_answers(session, batch_size=2))
        finally:
            event.remove(database.engine, "before_cursor_execute", record)
    database.dispose()
    assert len(exported) == 5
    assert sum("from answers" in s for s in statements) == 1
    assert sum("from reactions" in s for s in statements) == 3  # pages of 2, 2 and 1
    assert len(statements) == 4


def test_an_empty_database_gives_a_valid_empty_export(database_url: str):
    output = export_json(database_url)
    assert json.loads(output) == {
        "schema": SCHEMA, "exported_at": "2026-11-25T08:30:00.000000+00:00",
        "filters": {"teams": [], "users": []}, "answers": [],
    }
    assert export_csv(database_url) == ",".join(CSV_COLUMNS) + "\r\n"
    assert list(csv.reader(io.StringIO(export_csv(database_url), newline=""))) == [list(CSV_COLUMNS)]


def test_the_export_time_must_be_aware():
    with pytest.raises(ValueError):
        write_json([], io.StringIO(), now=datetime(2026, 11, 25, 8, 30))


def test_a_consumer_that_stops_early_releases_the_cursor(database_url: str):
    seed(database_url)
    database = Database(database_url)
    with database.session() as session:
        rows = iter_answers(session, batch_size=1)
        first = next(rows)
        rows.close()
        assert first.team_id == "T1"
        assert len(list(iter_answers(session))) == 5  # the session is still usable
    database.dispose()


# --- the command ------------------------------------------------------------

@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Invoke ``coachbot export`` in an empty directory (no .env) with DATABASE_URL set."""
    monkeypatch.chdir(tmp_path)

    def invoke(url: str, *args: str):
        monkeypatch.setenv("DATABASE_URL", url)
        return CliRunner().invoke(export, list(args))

    return invoke


def test_the_command_writes_json_by_default(database_url: str, run):
    seeded = seed(database_url)
    before = datetime.now(timezone.utc)
    result = run(database_url)
    after = datetime.now(timezone.utc)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document = json.loads(result.stdout_bytes.decode("utf-8"))
    assert document["schema"] == SCHEMA
    exported_at = datetime.fromisoformat(document["exported_at"])
    assert exported_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= exported_at <= after + timedelta(seconds=1)
    assert document["answers"] == expected(seeded)


def test_the_command_filters_and_writes_csv(database_url: str, run):
    seeded = seed(database_url)
    result = run(database_url, "--format", "csv", "--team", "T1", "--team", "T2", "--user", "U1")
    assert result.exit_code == 0, result.output
    output = result.stdout_bytes.decode("utf-8")  # Result.stdout would turn the CRLFs into LFs
    assert output.startswith(",".join(CSV_COLUMNS) + "\r\n")
    _, rows = csv_as_json_shape(output)
    assert rows == json_to_csv_shape(expected(seeded, teams=("T1", "T2"), users=("U1",)))
    assert {r["team_id"] for r in rows} == {"T1", "T2"} and {r["user_id"] for r in rows} == {"U1"}

    result = run(database_url, "--format", "json", "--team", "T2")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["filters"] == {"teams": ["T2"], "users": []}
    assert {a["team_id"] for a in document["answers"]} == {"T2"}


def test_the_command_on_an_empty_database(database_url: str, run):
    result = run(database_url, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (",".join(CSV_COLUMNS) + "\r\n").encode()


def _one_line_error(result) -> str:
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    return lines[0]


def test_an_unreachable_database_is_one_line_and_a_non_zero_exit(run):
    line = _one_line_error(run("postgresql://postgres@127.0.0.1:1/none"))
    assert "cannot reach the database named by DATABASE_URL" in line


def test_a_missing_sqlite_file_is_refused_and_not_created(run, tmp_path: Path):
    line = _one_line_error(run("sqlite:///missing.db"))
    assert "no SQLite database at missing.db" in line
    assert not (tmp_path / "missing.db").exists()


def test_an_unmigrated_database_is_refused_and_not_migrated(run, tmp_path: Path):
    sqlite3.connect(tmp_path / "empty.db").close()
    line = _one_line_error(run("sqlite:///empty.db"))
    assert "coachbot db upgrade" in line
    connection = sqlite3.connect(tmp_path / "empty.db")
    try:
        assert connection.execute("select name from sqlite_master").fetchall() == []
    finally:
        connection.close()


def test_an_invalid_format_is_refused_by_click(run, tmp_path: Path):
    result = run(f"sqlite:///{tmp_path / 'unused.db'}", "--format", "xml")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr
    assert result.stdout == ""
