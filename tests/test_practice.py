"""The practice service against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from coachbot.bank import load_bank
from coachbot.clock import FixedClock
from coachbot.errors import InvalidInputError, NotFoundError
from coachbot.services.people import PeopleService, PersonInfo
from coachbot.services.practice import PracticeService
from coachbot.services.progress import ProgressService
from coachbot.storage.db import Database
from coachbot.storage.models import Base

BANK = load_bank()
START = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
STORY = (
    "Last year the toughest decision I made was to stop our release train for a month. Releases were slow "
    "and risky, and I weighed three options with the team. I chose trunk-based development, I set up the "
    "pipeline and I talked to every team that shipped through it. As a result we reduced lead time from "
    "2 weeks to 2 days."
)


def make(database: Database, zones: dict[str, str] | None = None, clock: FixedClock | None = None):
    clock = clock or FixedClock(START)
    lookups: list[str] = []

    def directory(team: str, user: str) -> PersonInfo:
        lookups.append(user)
        return PersonInfo((zones or {}).get(user, "UTC"))

    people = PeopleService(database, directory, clock)
    return PracticeService(database, BANK, people, clock, random.Random(3)), clock, lookups


def stats_of(practice: PracticeService, team_id: str, user_id: str):
    return ProgressService(practice.db, practice.people, practice.clock).stats(team_id, user_id)


def _ours(name: str | None, kind: str, _parent: object) -> bool:
    """The job queue's own tables (procrastinate_*, PostgreSQL only, migration 0008) are not our models."""
    return not (name or "").startswith("procrastinate_")


def test_migrations_match_the_models(database: Database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _ours})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert database.current_revision() == database.head_revision()


def test_a_person_sees_a_whole_category_before_a_repeat(database: Database):
    practice, _, _ = make(database)
    size = len(BANK.select(category="communication"))
    shown = [practice.next_question("T1", "U1", "leadership", "communication").id for _ in range(size)]
    assert len(set(shown)) == size
    again = practice.next_question("T1", "U1", "leadership", "communication")
    assert again.category == "communication" and again.id != shown[-1]


def test_rotation_is_per_person_and_per_team(database: Database):
    practice, _, _ = make(database)
    size = len(BANK.select(category="coding"))
    for _ in range(size):
        practice.next_question("T1", "U1", "technical", "coding")
    # Another person, and the same person id in another workspace, start fresh.
    for team, user in (("T1", "U2"), ("T2", "U1")):
        shown = {practice.next_question(team, user, "technical", "coding").id for _ in range(size)}
        assert len(shown) == size


def test_recording_an_answer_stores_it_and_coaches_it(database: Database):
    practice, _, _ = make(database)
    question = BANK.select(category="decision-making")[0]
    stored, feedback = practice.record_answer(
        team_id="T1", user_id="U1", question_id=question.id, text=f"  {STORY}  ", source="modal"
    )
    assert stored.text == STORY and stored.track == "leadership" and stored.visibility == "private"
    assert feedback.kind == "story"  # the question decides the rubric
    assert {c.key for c in feedback.passed} >= {"story", "situation", "ownership", "result", "measurable"}
    stats = stats_of(practice, "T1", "U1")
    assert stats.total == 1 and stats.per_track == {"technical": 0, "leadership": 1}
    assert [c.answers for c in stats.per_category if c.category == "decision-making"] == [1]
    assert stats_of(practice, "T2", "U1").total == 0  # another workspace sees nothing


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_answer_is_refused_and_nothing_is_stored(database: Database, text: str):
    practice, _, _ = make(database)
    with pytest.raises(InvalidInputError, match="Write an answer"):
        practice.record_answer(team_id="T1", user_id="U1", question_id=BANK.select()[0].id, text=text, source="modal")
    assert stats_of(practice, "T1", "U1").total == 0


def test_an_answer_over_the_limit_is_refused_whole_not_truncated(database: Database):
    practice, _, _ = make(database)
    question_id = BANK.select()[0].id
    with pytest.raises(InvalidInputError, match="3,001 characters; the limit is 3,000"):
        practice.record_answer(team_id="T1", user_id="U1", question_id=question_id, text="x" * 3001,
                               source="modal", limit=3000)
    stored, _ = practice.record_answer(team_id="T1", user_id="U1", question_id=question_id, text="y" * 40000,
                                       source="thread")
    assert len(stored.text) == 40000
    assert stats_of(practice, "T1", "U1").total == 1


def test_unknown_question_is_refused(database: Database):
    practice, _, _ = make(database)
    with pytest.raises(NotFoundError):
        practice.record_answer(team_id="T1", user_id="U1", question_id="nope-001", text="hi", source="modal")


def test_streaks_count_local_days(database: Database):
    # 23:30 UTC is already the next day in Berlin; days are counted where the person lives.
    clock = FixedClock(datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc))
    practice, clock, lookups = make(database, {"U1": "Europe/Berlin"}, clock)
    question_id = BANK.select()[0].id
    for _ in range(3):
        practice.record_answer(team_id="T1", user_id="U1", question_id=question_id, text="An answer.", source="modal")
        clock.advance(timedelta(days=1))
    stats = stats_of(practice, "T1", "U1")
    assert (stats.days_practised, stats.current_streak, stats.best_streak) == (3, 3, 3)
    clock.advance(timedelta(days=2))
    stats = stats_of(practice, "T1", "U1")
    assert (stats.current_streak, stats.best_streak) == (0, 3)
    before = len(lookups)
    for _ in range(3):
        stats_of(practice, "T1", "U1")
    assert len(lookups) == before  # the timezone is cached for a day, not fetched per call


def test_mark_shared_is_scoped_to_the_team(database: Database):
    practice, _, _ = make(database)
    stored, _ = practice.record_answer(team_id="T1", user_id="U1", question_id=BANK.select()[0].id, text="hi",
                                       source="modal")
    with pytest.raises(NotFoundError):
        practice.mark_shared("T2", stored.id, "C1", "1.2")
    practice.mark_shared("T1", stored.id, "C1", "1.2")
