"""JudgeService on SQLite and PostgreSQL: the per-workspace switch, the cache, forgetting,
and failing safe."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from coachbot.bank import load_bank
from coachbot.clock import FixedClock
from coachbot.coaching.judge import JudgeFailure, rubric
from coachbot.errors import InvalidInputError, StorageUnavailableError
from coachbot.services.judge import NOT_CONFIGURED, NOT_PERMITTED, JudgeService
from coachbot.services.people import PeopleService, PersonInfo
from coachbot.services.progress import ProgressService
from coachbot.storage.db import Database
from coachbot.storage.models import JudgeReview, JudgeSetting

BANK = load_bank()
QUESTION = next(q for q in BANK if q.track == "leadership")
PHRASES = ("Our team kept missing sprint goals", "My job was to fix reviews", "I proposed a trial of pair reviews",
           "I met each engineer one to one", "Review time halved within a month", "We hit four sprint goals in a row")
ANSWER = ". ".join(PHRASES) + "."
START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ADMIN, MEMBER, LISTED = "U0ADMIN", "U0MEMBER", "U0LISTED"


def good_reply(grade: int = 4) -> str:
    items = [{"id": c.id, "verdict": "met", "quote": PHRASES[n % len(PHRASES)]}
             for n, c in enumerate(rubric(QUESTION).criteria)]
    return json.dumps({"criteria": items, "grade": grade, "fix": "Say what you measured."})


class FakeClient:
    """A JudgeClient that replays what it is given (a reply, or a JudgeFailure to raise)."""

    def __init__(self, *steps, model: str = "fake-model", gate: threading.Event | None = None) -> None:
        self.model = model
        self.steps = list(steps)
        self.calls: list[list[dict[str, str]]] = []
        self.gate = gate
        self.entered = threading.Event()

    def complete(self, messages):
        self.calls.append(messages)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, BaseException):
            raise step
        return step


def make(database: Database, client=None, **extra) -> JudgeService:
    def directory(team: str, user: str) -> PersonInfo:
        return PersonInfo("UTC", is_admin=user == ADMIN)

    clock = FixedClock(START)
    return JudgeService(database, clock, PeopleService(database, directory, clock), client,
                        admins=frozenset({LISTED}), **extra)


def count(database: Database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_off_until_an_admin_switches_it_on(database: Database):
    client = FakeClient(good_reply())
    judge = make(database, client)
    assert judge.status("T1").active is False
    assert judge.start("T1", "U1", QUESTION, ANSWER).active is False
    assert judge.review("T1", "U1", QUESTION, ANSWER) is None
    assert client.calls == []  # switched off: nothing is sent anywhere

    shown = judge.switch("T1", ADMIN, True)
    assert (shown.active, shown.changed, shown.model) == (True, True, "fake-model")
    assert judge.switch("T1", ADMIN, True).changed is False
    assert judge.status("T1").active and not judge.status("T2").active  # per workspace
    assert judge.start("T1", "U1", QUESTION, ANSWER).active


def test_only_admins_switch_it(database: Database):
    judge = make(database, FakeClient(good_reply()))
    with pytest.raises(InvalidInputError, match="Only workspace admins"):
        judge.switch("T1", MEMBER, True)
    assert str(NOT_PERMITTED).startswith("Only workspace admins")
    assert count(database, JudgeSetting) == 0
    assert judge.switch("T1", LISTED, True).enabled  # listed in COACHBOT_ADMINS
    assert judge.switch("T1", ADMIN, False).enabled is False  # a workspace admin


def test_not_configured_says_so_and_changes_nothing(database: Database):
    judge = make(database, None)
    assert judge.status("T1").configured is False
    with pytest.raises(InvalidInputError) as refused:
        judge.switch("T1", ADMIN, True)
    assert str(refused.value) == NOT_CONFIGURED and "hasn't configured a model" in NOT_CONFIGURED
    assert count(database, JudgeSetting) == 0
    assert judge.start("T1", "U1", QUESTION, ANSWER).active is False
    assert judge.review("T1", "U1", QUESTION, ANSWER) is None


def test_a_review_is_cached_by_question_and_answer(database: Database):
    client = FakeClient(good_reply())
    judge = make(database, client)
    judge.switch("T1", ADMIN, True)
    judge.switch("T2", ADMIN, True)
    first = judge.review("T1", "U1", QUESTION, ANSWER)
    assert first is not None and first.grade == 4
    assert judge.review("T1", "U1", QUESTION, ANSWER) == first
    assert judge.start("T1", "U1", QUESTION, ANSWER).cached == first
    assert len(client.calls) == 1
    judge.review("T1", "U1", QUESTION, ANSWER + " Then I wrote it down.")  # another answer
    other = next(q for q in BANK if q.track == "leadership" and q.id != QUESTION.id)
    judge.review("T1", "U1", other, ANSWER)  # another question
    judge.review("T2", "U1", QUESTION, ANSWER)  # another workspace never sees T1's cache
    assert len(client.calls) == 4
    with database.session() as session:
        rows = list(session.scalars(select(JudgeReview)))
    assert len(rows) == 4 and all(len(r.answer_hash) == 64 for r in rows)
    assert all(ANSWER not in r.review for r in rows)  # the answer itself is not stored again

    moved = make(database, FakeClient(good_reply(2), model="another-model"))
    assert moved.review("T1", "U1", QUESTION, ANSWER).grade == 2  # a new model is asked afresh


def test_switching_off_deletes_that_workspace_s_reviews(database: Database):
    judge = make(database, FakeClient(good_reply()))
    for team in ("T1", "T2"):
        judge.switch(team, ADMIN, True)
        judge.review(team, "U1", QUESTION, ANSWER)
    judge.switch("T1", ADMIN, False)
    with database.session() as session:
        assert [r.team_id for r in session.scalars(select(JudgeReview))] == ["T2"]
    assert judge.review("T1", "U1", QUESTION, ANSWER) is None


def test_forget_me_deletes_the_person_s_reviews(database: Database):
    judge = make(database, FakeClient(good_reply()))
    judge.switch("T1", ADMIN, True)
    for user in ("U1", "U2"):
        judge.review("T1", user, QUESTION, ANSWER)
    ProgressService(database, judge.people, judge.clock).forget("T1", "U1")
    with database.session() as session:
        assert [r.user_id for r in session.scalars(select(JudgeReview))] == ["U2"]


@pytest.mark.parametrize("step, reason", [
    (JudgeFailure("timeout"), "timeout"),
    (JudgeFailure("rate_limited"), "rate_limited"),
    (JudgeFailure("server_error"), "server_error"),
    (JudgeFailure("refused"), "refused"),
    ("not json at all", "malformed"),
    (RuntimeError(ANSWER), "RuntimeError"),
])
def test_a_failure_gives_no_review_and_logs_no_answer_text(database: Database, caplog: pytest.LogCaptureFixture,
                                                            step, reason: str):
    judge = make(database, FakeClient(step))
    judge.switch("T1", ADMIN, True)
    with caplog.at_level(logging.INFO, logger="coachbot"):
        assert judge.review("T1", "U1", QUESTION, ANSWER) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and reason in warnings[0].getMessage()
    assert ANSWER not in caplog.text
    assert count(database, JudgeReview) == 0  # a failure is not cached: the next answer tries again


def test_a_database_fault_leaves_the_rule_feedback(database: Database, monkeypatch: pytest.MonkeyPatch):
    client = FakeClient(good_reply())
    judge = make(database, client)
    judge.switch("T1", ADMIN, True)

    def down():
        raise StorageUnavailableError("the database is unavailable")

    monkeypatch.setattr(database, "session", down)
    assert judge.start("T1", "U1", QUESTION, ANSWER).active is False
    assert judge.review("T1", "U1", QUESTION, ANSWER) is None
    assert client.calls == []


def test_calls_in_flight_are_bounded_and_the_rest_keep_the_rule_feedback(database: Database):
    gate = threading.Event()
    client = FakeClient(good_reply(), gate=gate)
    judge = make(database, client, max_in_flight=1)
    judge.switch("T1", ADMIN, True)
    results = []
    first = threading.Thread(target=lambda: results.append(judge.review("T1", "U1", QUESTION, ANSWER)))
    first.start()
    assert client.entered.wait(5)
    assert judge.review("T1", "U2", QUESTION, "Another answer entirely, while the first is out.") is None
    gate.set()
    first.join(5)
    assert results[0] is not None and len(client.calls) == 1


def test_reviews_expire_after_their_keeping_time(database: Database):
    from datetime import timedelta

    from coachbot.services.judge import KEEP_REVIEWS

    judge = make(database, FakeClient(good_reply()))
    judge.switch("T1", ADMIN, True)
    judge.review("T1", "U1", QUESTION, ANSWER)
    judge.clock.advance(KEEP_REVIEWS - timedelta(minutes=1))
    judge.review("T1", "U2", QUESTION, ANSWER)
    assert judge.forget_old_reviews() == 0
    judge.clock.advance(timedelta(minutes=2))
    assert judge.forget_old_reviews() == 1
    with database.session() as session:
        assert [r.user_id for r in session.scalars(select(JudgeReview))] == ["U2"]


def test_answers_too_long_to_review_keep_their_rule_feedback(database: Database):
    from coachbot.services.judge import MAX_JUDGED_CHARS

    client = FakeClient(good_reply())
    judge = make(database, client)
    judge.switch("T1", ADMIN, True)
    long_answer = (ANSWER + " ") * (MAX_JUDGED_CHARS // len(ANSWER) + 1)
    long_answer = long_answer[: MAX_JUDGED_CHARS + 1]
    assert judge.start("T1", "U1", QUESTION, long_answer).active is False
    assert judge.review("T1", "U1", QUESTION, long_answer) is None
    assert client.calls == []
    assert judge.review("T1", "U1", QUESTION, long_answer[:MAX_JUDGED_CHARS]) is not None
