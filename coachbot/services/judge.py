"""The LLM judge as a service: each workspace's switch, the cache, and failing safe.

The judge runs only when both hold: the operator configured an endpoint (a ``JudgeClient``
here) and an admin of the workspace switched it on. Nothing here raises to its caller on
the answer path: when anything goes wrong the person keeps the rule feedback they already
have, and a warning is logged without the answer's text.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from coachbot.bank import Question
from coachbot.clock import Clock
from coachbot.coaching.judge import PROMPT_VERSION, JudgeClient, JudgeFailure, Review, judge
from coachbot.errors import InvalidInputError
from coachbot.services.people import PeopleService
from coachbot.storage import judge as store
from coachbot.storage.db import Database

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "The AI review isn't available here: the person who runs coachbot hasn't configured a model "
    "(COACHBOT_LLM_URL and COACHBOT_LLM_MODEL). Every answer still gets the instant rule-based feedback."
)
NOT_PERMITTED = (
    "Only workspace admins and the people listed in COACHBOT_ADMINS can turn the AI review on or off, "
    "because it sends answers to the model the operator configured."
)


@dataclass(frozen=True)
class JudgeStatus:
    configured: bool
    enabled: bool  # the workspace's switch
    model: str | None
    changed: bool = False  # this request changed the switch

    @property
    def active(self) -> bool:
        return self.configured and self.enabled


@dataclass(frozen=True)
class JudgeStart:
    """What the answer path needs at once: whether a review will follow, or one already made."""

    active: bool
    cached: Review | None = None


OFF = JudgeStart(False)

# Calls to the model in flight at once, per process. A call can hold its thread for the whole
# timeout, and the threads that run work after an ack also post everyone's replies: past this,
# an answer keeps its rule feedback rather than queue behind the model.
MAX_CALLS_IN_FLIGHT = 4
# Longer answers keep their rule feedback only: a thread reply may be 40,000 characters, past
# what a small local model's context holds and more than a review of a practice answer is worth.
MAX_JUDGED_CHARS = 12_000
# How long a review is kept for an identical answer. Its quotes are words from the answer, so it
# is not kept for ever (nor past /prep forget-me, or the workspace switching the judge off).
KEEP_REVIEWS = timedelta(days=30)


def answer_hash(text: str) -> str:
    return hashlib.sha256(f"{PROMPT_VERSION}\0{text}".encode("utf-8")).hexdigest()


class JudgeService:
    def __init__(self, db: Database, clock: Clock, people: PeopleService, client: JudgeClient | None = None, *,
                 admins: frozenset[str] = frozenset(), max_in_flight: int = MAX_CALLS_IN_FLIGHT) -> None:
        self.db = db
        self.clock = clock
        self.people = people
        self.client = client
        self.admins = admins
        self._in_flight = threading.BoundedSemaphore(max_in_flight)

    @property
    def configured(self) -> bool:
        return self.client is not None

    # --- the switch (/prep coach llm) ------------------------------------------

    def status(self, team_id: str) -> JudgeStatus:
        if self.client is None:
            return JudgeStatus(False, False, None)
        with self.db.session() as session:
            return JudgeStatus(True, store.is_enabled(session, team_id), self.client.model)

    def announced(self, team_id: str) -> bool:
        """Whether to tell someone about to answer that the answer will go to the model.
        Never raises: a form must still open while the database is briefly away."""
        try:
            return self.status(team_id).active
        except Exception as exc:  # noqa: BLE001 - with no database nothing is judged either
            log.warning("LLM judge status unknown in team %s: %s", team_id, type(exc).__name__)
            return False

    def may_switch(self, team_id: str, user_id: str) -> bool:
        """Always an admin, even when COACHBOT_ADMINS is empty (unlike /prep daily): turning it on
        sends everyone's answers in the workspace to a model outside Slack."""
        return user_id in self.admins or self.people.info(team_id, user_id).is_admin

    def switch(self, team_id: str, user_id: str, on: bool) -> JudgeStatus:
        if self.client is None:
            raise InvalidInputError(NOT_CONFIGURED)
        if not self.may_switch(team_id, user_id):
            raise InvalidInputError(NOT_PERMITTED)
        with self.db.session() as session:
            was = store.is_enabled(session, team_id)
            store.set_enabled(session, team_id, on, user_id, self.clock.now())
            if not on:
                # Off means off: the stored reviews (which quote answers) go too.
                store.forget_reviews(session, team_id)
        log.info("LLM judge turned %s in team %s by %s", "on" if on else "off", team_id, user_id)
        return JudgeStatus(True, on, self.client.model, changed=was != on)

    def forget_old_reviews(self, keep: timedelta = KEEP_REVIEWS) -> int:
        """Delete reviews older than ``keep``; how many went. Run on each scheduler tick."""
        with self.db.session() as session:
            return store.forget_reviews_before(session, self.clock.now() - keep)

    # --- the answer path ---------------------------------------------------------

    def start(self, team_id: str, user_id: str, question: Question, text: str) -> JudgeStart:
        """Whether a review will follow this answer, and the cached one if it was judged before.
        One short read; never raises (the rule feedback must not wait on, or fail by, the judge)."""
        if self.client is None or len(text) > MAX_JUDGED_CHARS:
            return OFF
        try:
            with self.db.session() as session:
                if not store.is_enabled(session, team_id):
                    return OFF
                raw = store.cached_review(session, team_id, user_id, question.id, answer_hash(text),
                                          self.client.model)
            return JudgeStart(True, Review.from_json(raw) if raw is not None else None)
        except Exception as exc:  # noqa: BLE001 - the judge is optional; the rule feedback stands
            log.warning("LLM judge skipped in team %s: %s", team_id, type(exc).__name__)
            return OFF

    def review(self, team_id: str, user_id: str, question: Question, text: str) -> Review | None:
        """A checked review of ``text``: from the cache, or from the model (then cached).
        None on a timeout, refusal, malformed reply, 429, 5xx or any other fault."""
        client = self.client
        if client is None or len(text) > MAX_JUDGED_CHARS:
            return None
        key = answer_hash(text)
        try:
            with self.db.session() as session:
                if not store.is_enabled(session, team_id):
                    return None
                raw = store.cached_review(session, team_id, user_id, question.id, key, client.model)
            if raw is not None:
                return Review.from_json(raw)
            if not self._in_flight.acquire(blocking=False):
                raise JudgeFailure("busy")
            try:
                found = judge(client, question, text)
            finally:
                self._in_flight.release()
            with self.db.session() as session:
                store.save_review(session, team_id, user_id, question.id, key, client.model, found.to_json(),
                                  self.clock.now())
        except JudgeFailure as failure:
            log.warning("LLM judge gave no review in team %s (question %s): %s", team_id, question.id,
                        failure.reason)
            return None
        except Exception as exc:  # noqa: BLE001 - never the answer text: only the kind of fault
            log.warning("LLM judge failed in team %s (question %s): %s", team_id, question.id, type(exc).__name__)
            return None
        if found.capped or found.dropped_quotes:
            log.info("LLM judge review in team %s: grade %d capped to %d, %d quote(s) dropped", team_id,
                     found.model_grade, found.grade, found.dropped_quotes)
        return found
