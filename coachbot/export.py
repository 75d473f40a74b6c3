"""Export stored answers with their reactions, as JSON or CSV. Knows nothing of click or Slack.

``iter_answers`` streams answers in a stable order (team_id, created_at, id) in
batches: rows are fetched ``batch_size`` at a time (a server-side cursor on
PostgreSQL) and each batch's reactions come from one query, so memory stays
flat however many answers there are. ``write_json`` and ``write_csv`` write
pieces as rows arrive; neither builds the whole export in memory.

The schema is documented in ``docs/export.md``. Fields are only ever added;
any incompatible change bumps ``SCHEMA``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator, TextIO

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from coachbot import tracks
from coachbot.storage.models import Answer, Reaction

SCHEMA = "coachbot-export/1"
FORMATS = ("json", "csv")
BATCH_SIZE = 500  # rows per fetch, and answer ids per reaction query (well under SQLite's bind limit)

# The scalar fields of an answer, in output order: the JSON keys and the first CSV columns.
ANSWER_FIELDS: tuple[str, ...] = (
    "team_id",
    "answer_id",
    "user_id",
    "created_at",
    "local_day",
    "track",
    "category",
    "category_title",
    "question_id",
    "question_text",
    "source",
    "visibility",
    "channel_id",
    "message_ts",
    "thread_ts",
    "permalink",
    "text",
    "reaction_count",
)
CSV_COLUMNS: tuple[str, ...] = ANSWER_FIELDS + ("reactions",)
REACTION_FIELDS: tuple[str, ...] = ("user_id", "emoji", "is_self", "created_at")


@dataclass(frozen=True)
class ExportFilters:
    """Which answers to export. An empty tuple means no restriction on that field."""

    teams: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    @classmethod
    def of(cls, teams: Iterable[str] = (), users: Iterable[str] = ()) -> "ExportFilters":
        """Deduplicated and sorted, so the same request always describes itself the same way."""
        return cls(tuple(sorted(set(teams))), tuple(sorted(set(users))))

    def as_dict(self) -> dict[str, list[str]]:
        return {"teams": list(self.teams), "users": list(self.users)}


@dataclass(frozen=True)
class ExportedReaction:
    user_id: str  # who reacted
    emoji: str
    is_self: bool  # the author reacted to their own answer (kept, never counted)
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "emoji": self.emoji,
            "is_self": self.is_self,
            "created_at": iso_utc(self.created_at),
        }


@dataclass(frozen=True)
class ExportedAnswer:
    team_id: str
    answer_id: int
    user_id: str
    created_at: datetime
    local_day: date
    track: str
    category: str
    category_title: str | None
    question_id: str
    question_text: str
    source: str
    visibility: str
    channel_id: str | None
    message_ts: str | None
    thread_ts: str | None
    permalink: str | None
    text: str
    reaction_count: int
    reactions: tuple[ExportedReaction, ...] = field(default=())

    def scalars(self) -> dict[str, Any]:
        """The scalar fields, JSON-ready (dates as ISO 8601 strings)."""
        values = {name: getattr(self, name) for name in ANSWER_FIELDS}
        values["created_at"] = iso_utc(self.created_at)
        values["local_day"] = self.local_day.isoformat()
        return values

    def as_dict(self) -> dict[str, Any]:
        values = self.scalars()
        values["reactions"] = [reaction.as_dict() for reaction in self.reactions]
        return values


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with an explicit offset and fixed microsecond precision,
    e.g. ``2026-11-25T08:30:00.000000+00:00``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the export; pass an aware one")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def category_title(slug: str) -> str | None:
    try:
        return tracks.category(slug).title
    except KeyError:
        return None  # a category no longer in coachbot.tracks


_ANSWER_COLUMNS = (
    Answer.id,
    Answer.team_id,
    Answer.user_id,
    Answer.created_at,
    Answer.local_day,
    Answer.track,
    Answer.category,
    Answer.question_id,
    Answer.question_text,
    Answer.source,
    Answer.visibility,
    Answer.channel_id,
    Answer.message_ts,
    Answer.thread_ts,
    Answer.permalink,
    Answer.text,
    Answer.reaction_count,
)


def iter_answers(
    session: Session, filters: ExportFilters = ExportFilters(), *, batch_size: int = BATCH_SIZE
) -> Iterator[ExportedAnswer]:
    """Every answer the filters select, ordered by (team_id, created_at, id), each with its
    reactions ordered by (created_at, id).

    Rows are streamed ``batch_size`` at a time (``yield_per``: a server-side cursor on
    PostgreSQL) as plain column rows on the session's connection, so nothing accumulates in
    the session. Reactions are looked up with one query per batch. Run it inside one
    transaction (``Database.session()``), consume or close it before that transaction ends.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    query = select(*_ANSWER_COLUMNS)
    if filters.teams:
        query = query.where(Answer.team_id.in_(filters.teams))
    if filters.users:
        query = query.where(Answer.user_id.in_(filters.users))
    query = query.order_by(Answer.team_id, Answer.created_at, Answer.id).execution_options(yield_per=batch_size)
    connection = session.connection()  # Core rows: no ORM bookkeeping per row
    result = connection.execute(query)
    try:
        for page in result.partitions():
            reactions = _reactions_of(connection, [(row.team_id, row.id) for row in page])
            for row in page:
                yield ExportedAnswer(
                    team_id=row.team_id,
                    answer_id=row.id,
                    user_id=row.user_id,
                    created_at=row.created_at,
                    local_day=row.local_day,
                    track=row.track,
                    category=row.category,
                    category_title=category_title(row.category),
                    question_id=row.question_id,
                    question_text=row.question_text,
                    source=row.source,
                    visibility=row.visibility,
                    channel_id=row.channel_id,
                    message_ts=row.message_ts,
                    thread_ts=row.thread_ts,
                    permalink=row.permalink,
                    text=row.text,
                    reaction_count=row.reaction_count,
                    reactions=tuple(reactions.get((row.team_id, row.id), ())),
                )
    finally:
        result.close()  # a consumer that stops early releases the server-side cursor


def _reactions_of(
    connection: Connection, keys: list[tuple[str, int]]
) -> dict[tuple[str, int], list[ExportedReaction]]:
    """The reactions of one page of answers, in one query, keyed by (team_id, answer_id).
    Keying by team as well keeps a reaction from ever attaching to another team's answer."""
    found: dict[tuple[str, int], list[ExportedReaction]] = {}
    if not keys:
        return found
    rows = connection.execute(
        select(Reaction.team_id, Reaction.answer_id, Reaction.user_id, Reaction.emoji, Reaction.is_self,
               Reaction.created_at)
        .where(Reaction.answer_id.in_(sorted({answer_id for _, answer_id in keys})),
               Reaction.team_id.in_(sorted({team_id for team_id, _ in keys})))
        .order_by(Reaction.answer_id, Reaction.created_at, Reaction.id)
    )
    for row in rows:
        found.setdefault((row.team_id, row.answer_id), []).append(
            ExportedReaction(user_id=row.user_id, emoji=row.emoji, is_self=row.is_self, created_at=row.created_at)
        )
    return found


# --- writers ----------------------------------------------------------------

def write_json(
    rows: Iterable[ExportedAnswer],
    stream: TextIO,
    *,
    now: datetime,
    filters: ExportFilters = ExportFilters(),
) -> int:
    """One JSON object, written a piece at a time: the header, then one answer per line.
    ``now`` is the export time (injected; the CLI passes the current time).
    Returns the number of answers written."""
    header = json.dumps({"schema": SCHEMA, "exported_at": iso_utc(now), "filters": filters.as_dict()},
                        ensure_ascii=False)
    stream.write(header[:-1] + ', "answers": [')  # the header object, left open for the answers
    count = 0
    for row in rows:
        stream.write(",\n" if count else "\n")
        stream.write(json.dumps(row.as_dict(), ensure_ascii=False))
        count += 1
    stream.write("\n]}\n" if count else "]}\n")
    return count


def format_reactions(reactions: Iterable[ExportedReaction]) -> str:
    """``emoji:user_id[:self]`` joined by ``;``, e.g. ``+1:U2;wave::skin-tone-2:U1:self``."""
    return ";".join(f"{r.emoji}:{r.user_id}{':self' if r.is_self else ''}" for r in reactions)


def parse_reactions(cell: str) -> list[tuple[str, str, bool]]:
    """The inverse of ``format_reactions``: (emoji, user_id, is_self) per reaction.
    Parsed from the right, since emoji names may hold colons (``wave::skin-tone-2``)
    and Slack user ids never do."""
    parsed = []
    for item in cell.split(";") if cell else ():
        is_self = item.endswith(":self")
        if is_self:
            item = item[: -len(":self")]
        emoji, user_id = item.rsplit(":", 1)
        parsed.append((emoji, user_id, is_self))
    return parsed


def write_csv(rows: Iterable[ExportedAnswer], stream: TextIO) -> int:
    """A header, then one row per answer. RFC 4180: CRLF line ends, fields holding commas,
    quotes or line breaks are quoted, quotes doubled. An absent value is an empty field.
    Open ``stream`` with ``newline=""``. Returns the number of answers written."""
    writer = csv.writer(stream, dialect="excel", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        values = row.scalars()
        writer.writerow([_cell(values[name]) for name in ANSWER_FIELDS] + [format_reactions(row.reactions)])
        count += 1
    return count


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
