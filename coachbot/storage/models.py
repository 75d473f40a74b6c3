"""The database schema: SQLAlchemy 2 typed models. Every row carries ``team_id``."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text as sql_text,
)
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from coachbot.schedule import first_due


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no timezone type)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Answer(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[str] = mapped_column(String(64))
    question_text: Mapped[str] = mapped_column(Text)
    track: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # modal | thread
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_day: Mapped[date] = mapped_column(Date)  # the day in the person's timezone, for streaks
    visibility: Mapped[str] = mapped_column(String(16))  # private | channel
    channel_id: Mapped[str | None] = mapped_column(String(32))  # where it is posted, when shared
    message_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    # Reactions from other people (self-reactions excluded), kept in step with ``reactions``
    # in the same transaction so "most reacted" and leaderboards are a plain ORDER BY / SUM.
    reaction_count: Mapped[int] = mapped_column(default=0)
    permalink: Mapped[str | None] = mapped_column(String(400))  # cached from chat.getPermalink

    __table_args__ = (
        # A person's answers newest first (history, App Home), with what their stats read (per category, days
        # practised, reactions received, most reacted, channels): those are index-only scans, not one heap page
        # per answer, and the whole ORDER BY of the newest first is in the index, so LIMIT stops after a few
        # rows whatever the plan. user_id leads so that queries over a whole workspace (the leaderboard) never
        # take it for a covering scan of the workspace. See bench/results/progress_scale.md.
        Index("ix_answers_user_team_progress", "user_id", "team_id", "created_at", "id", "visibility",
              "reaction_count", "track", "category", "local_day", "channel_id"),
        Index("ix_answers_team_message", "team_id", "channel_id", "message_ts"),
        Index("ix_answers_team_created", "team_id", "created_at"),
        Index("ix_answers_team_channel_created", "team_id", "channel_id", "created_at"),
        # A channel's answers per category, all time (the weekly digest's focus), as an index-only scan.
        Index("ix_answers_team_channel_category", "team_id", "channel_id", "visibility", "category"),
    )


class Reaction(Base):
    """One person's emoji on one stored answer. Removing the emoji in Slack deletes the row."""

    __tablename__ = "reactions"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    answer_id: Mapped[int] = mapped_column(ID, ForeignKey("answers.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))  # who wrote the answer
    user_id: Mapped[str] = mapped_column(String(32))  # who reacted
    emoji: Mapped[str] = mapped_column(String(100))
    is_self: Mapped[bool] = mapped_column(default=False)  # kept, never counted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("team_id", "answer_id", "user_id", "emoji", name="uq_reactions_one_each"),
        Index("ix_reactions_answer", "answer_id"),
        Index("ix_reactions_team_user", "team_id", "user_id"),
    )


class SeenQuestion(Base):
    """Rotation state: which questions a person (or a channel) has been shown in the current cycle."""

    __tablename__ = "seen_questions"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(48), primary_key=True)  # "user:U123" or "channel:C123"
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    """What we learned about a person from users.info, cached."""

    __tablename__ = "members"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(default=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedEvent(Base):
    """Slack retries an event with the same event_id; this makes handling idempotent."""

    __tablename__ = "processed_events"
    # Rows past Slack's retry window are deleted in batches by received_at (HousekeepingService).
    __table_args__ = (Index("ix_processed_events_received_at", "received_at"),)

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Schedule(Base):
    """A channel's daily practice prompt. One per channel."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))  # technical | leadership | alternate | mixed
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM
    weekdays: Mapped[str] = mapped_column(String(16))  # "0,1,2,3,4" (0 = Monday)
    tz: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(default=True)
    paused_until: Mapped[date | None] = mapped_column(Date)
    status_note: Mapped[str | None] = mapped_column(String(200))  # why it was stopped, when not by a person
    checked_through: Mapped[datetime] = mapped_column(UTCDateTime)  # slots at or before this are handled
    posted_count: Mapped[int] = mapped_column(default=0)  # drives alternate / mixed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The weekly digest goes to every channel with a daily prompt, in the schedule's timezone.
    digest_enabled: Mapped[bool] = mapped_column(default=True)
    digest_weekday: Mapped[int] = mapped_column(default=4)  # 0 = Monday; Friday by default
    digest_time: Mapped[str] = mapped_column(String(5), default="16:00")
    digest_checked_through: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The instant the next unhandled slot is due (UTC), kept by coachbot.storage.due on every change; NULL
    # when nothing can come due (off, removed, paused to the end of the calendar). A tick reads only the
    # rows whose instant has come, through these indexes, so an idle tick costs the same at any scale.
    next_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest_next_due: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", name="uq_schedules_team_channel"),
        Index("ix_schedules_next_due", "next_due", postgresql_where=sql_text("next_due IS NOT NULL"),
              sqlite_where=sql_text("next_due IS NOT NULL")),
        Index("ix_schedules_digest_next_due", "digest_next_due", postgresql_where=sql_text("digest_next_due IS NOT NULL"),
              sqlite_where=sql_text("digest_next_due IS NOT NULL")),
    )


def prompt_due(row: Schedule) -> datetime | None:
    """When the schedule's first unhandled daily slot is due; None while it is off."""
    if row.enabled is False:  # None: not set yet on a new row, which the column's default turns on
        return None
    weekdays = frozenset(int(d) for d in (row.weekdays or "").split(",") if d)
    return first_due(row.checked_through, row.local_time, weekdays, row.tz, paused_until=row.paused_until)


def digest_due(row: Schedule) -> datetime | None:
    """When the schedule's first unhandled weekly digest is due; None while either is off."""
    if row.enabled is False or row.digest_enabled is False:
        return None
    weekday = 4 if row.digest_weekday is None else row.digest_weekday
    return first_due(row.digest_checked_through or row.created_at, row.digest_time or "16:00", {weekday}, row.tz)


@event.listens_for(Schedule, "before_insert")
@event.listens_for(Schedule, "before_update")
def _next_due_in_step(_mapper, _connection, row: Schedule) -> None:
    # Every change made through the ORM writes both instants from the row's new state.
    row.next_due = prompt_due(row)
    row.digest_next_due = digest_due(row)


class PostingPace(Base):
    """A workspace's posting budget, shared by every process that posts to it: a token bucket in its
    virtual-time form (GCRA, as coachbot.pacing.Pacer), updated in one atomic statement per post."""

    __tablename__ = "posting_pace"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # When the bucket would next be empty-and-refilled, in seconds since the epoch.
    next_at: Mapped[float] = mapped_column(Double)


class Prompt(Base):
    """One posting slot of a schedule. The unique key is what makes posting exactly-once."""

    __tablename__ = "prompts"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    schedule_id: Mapped[int] = mapped_column(ID)
    slot_key: Mapped[str] = mapped_column(String(16))  # the local date, e.g. 2026-11-25
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending | claimed | posted | failed
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    question_id: Mapped[str] = mapped_column(String(64))
    question_text: Mapped[str] = mapped_column(Text)
    track: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "slot_key", name="uq_prompts_slot"),
        Index("ix_prompts_team_message", "team_id", "channel_id", "message_ts"),
    )


class Digest(Base):
    """One weekly digest slot of a channel; the unique key makes posting exactly-once, as for prompts."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    schedule_id: Mapped[int] = mapped_column(ID)
    slot_key: Mapped[str] = mapped_column(String(16))  # the local date the digest is for
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending | claimed | posted | failed
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("team_id", "channel_id", "slot_key", name="uq_digests_slot"),)


class JudgeSetting(Base):
    """A workspace's choice about the LLM judge: off unless an admin turned it on."""

    __tablename__ = "judge_settings"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JudgeReview(Base):
    """A checked review from the LLM judge, so the same answer is never sent twice.

    Keyed by a hash of the answer text (with the prompt's version), not the text: the answer
    itself stays in ``answers``. ``review`` is the validated review as JSON; its quotes are
    words from the answer, so a person's rows go with ``/prep forget-me``."""

    __tablename__ = "judge_reviews"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[str] = mapped_column(String(64))
    answer_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex
    model: Mapped[str] = mapped_column(String(200))
    review: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "question_id", "answer_hash", "model", name="uq_judge_reviews_key"),
        Index("ix_judge_reviews_created", "created_at"),  # reviews expire (JudgeService.forget_old_reviews)
    )


class JobRun(Base):
    """One job's side effect, by its idempotency key (``coachbot.jobs``): a retried job whose
    key is here does not act again. ``finished_at`` is empty while its one Slack call is out."""

    __tablename__ = "job_runs"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
