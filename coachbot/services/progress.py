"""Progress, history, the leaderboard, the App Home dashboard and forget-me.

Privacy rule, applied everywhere here: what other people see of someone is
built only from answers that person posted in a channel. Private (modal-only)
answers count in the person's own stats, history and dashboard, and nowhere
else. Knows nothing of Slack: permalinks and channel memberships come through
injected callables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Callable, Protocol

from coachbot import tracks
from coachbot.clock import Clock
from coachbot.errors import InvalidInputError
from coachbot.services.people import PeopleService
from coachbot.services.prompts import describe_schedule
from coachbot.storage import progress as store
from coachbot.storage.db import Database
from coachbot.storage.models import Answer
from coachbot.streaks import streaks

log = logging.getLogger(__name__)

PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}
PERIOD_WORDS = {"week": "week", "w": "week", "7d": "week", "month": "month", "m": "month", "30d": "month",
                "all": "all", "ever": "all", "all-time": "all", "alltime": "all"}
LEADERBOARD_SIZE = 10
HISTORY_SIZE = 10
HOME_RECENT = 5


class LinkResolver(Protocol):
    def __call__(self, team_id: str, channel_id: str, message_ts: str) -> str | None: ...


Memberships = Callable[[str, str], "set[str] | None"]  # (team, user) -> channel ids, None if unknown


@dataclass(frozen=True)
class AnswerSummary:
    id: int
    user_id: str
    question_text: str
    track: str
    category: str
    created_at: datetime
    local_day: date  # in the author's timezone when they answered
    visibility: str
    source: str
    channel_id: str | None
    reactions: int  # from other people
    emoji: dict[str, int]  # per emoji, from other people (filled where shown)
    permalink: str | None


@dataclass(frozen=True)
class CategoryCount:
    track: str
    category: str
    title: str
    answers: int


@dataclass(frozen=True)
class PersonStats:
    user_id: str
    own: bool  # the viewer is the person: private answers included
    total: int
    per_track: dict[str, int]
    per_category: tuple[CategoryCount, ...]
    days_practised: int
    current_streak: int
    best_streak: int
    reactions_received: int
    top_answer: AnswerSummary | None

    @property
    def areas_covered(self) -> int:
        return sum(1 for c in self.per_category if c.answers)


@dataclass(frozen=True)
class Rank:
    position: int
    user_id: str
    answers: int
    reactions: int


@dataclass(frozen=True)
class Leaderboard:
    period: str  # week | month | all
    by_answers: tuple[Rank, ...]
    by_reactions: tuple[Rank, ...]
    viewer_by_answers: Rank | None  # the viewer's own place, when outside the top
    viewer_by_reactions: Rank | None
    viewer_id: str


@dataclass(frozen=True)
class PromptChannel:
    channel_id: str
    description: str


@dataclass(frozen=True)
class Dashboard:
    stats: PersonStats
    recent: tuple[AnswerSummary, ...]
    channels: tuple[PromptChannel, ...]


@dataclass(frozen=True)
class Forgotten:
    answers: int
    reactions: int
    bot_posts: tuple[tuple[str, str], ...]  # the bot's posts of the person's shared answers, to delete in Slack


def parse_period(word: str | None) -> str:
    if not word:
        return "week"
    found = PERIOD_WORDS.get(word.strip().lower())
    if found is None:
        raise InvalidInputError(f"I don't know the period `{word[:20]}`. Try `/prep leaderboard week`, "
                                "`/prep leaderboard month` or `/prep leaderboard all`.")
    return found


def rank(tallies: list[store.Tally], key: str) -> list[Rank]:
    """Positions by answers (ties: more reactions, then whoever got there first) or by reactions
    (ties: fewer answers, i.e. more per answer, then first). Exact ties share a position."""
    if key == "answers":
        order = sorted(tallies, key=lambda t: (-t.answers, -t.reactions, t.last_at, t.user_id))
        score = [(-t.answers, -t.reactions, t.last_at) for t in order]
    else:
        order = sorted((t for t in tallies if t.reactions > 0),
                       key=lambda t: (-t.reactions, t.answers, t.last_at, t.user_id))
        score = [(-t.reactions, t.answers, t.last_at) for t in order]
    ranks: list[Rank] = []
    for i, t in enumerate(order):
        position = ranks[-1].position if i and score[i] == score[i - 1] else i + 1
        ranks.append(Rank(position, t.user_id, t.answers, t.reactions))
    return ranks


class ProgressService:
    def __init__(self, db: Database, people: PeopleService, clock: Clock, *,
                 links: LinkResolver | None = None, memberships: Memberships | None = None) -> None:
        self.db = db
        self.people = people
        self.clock = clock
        self.links = links
        self.memberships = memberships

    # --- one person -------------------------------------------------------

    def stats(self, team_id: str, user_id: str, viewer_id: str | None = None) -> PersonStats:
        own = viewer_id is None or viewer_id == user_id
        today = self.clock.now().astimezone(self.people.timezone(team_id, user_id)).date()
        with self.db.session() as session:
            counts = store.person_counts(session, team_id, user_id, public_only=not own)
            days = store.days_practised(session, team_id, user_id, public_only=not own)
            top = store.most_reacted(session, team_id, user_id, reactions=counts.most_reactions)
            top_found = self._summaries(session, team_id, [top], with_emoji=True) if top else None
        top_summary = self._linked(top_found)[0] if top_found else None
        per_category = tuple(CategoryCount(c.track, c.slug, c.title, counts.per_category.get((c.track, c.slug), 0))
                             for c in tracks.CATEGORIES)
        per_track = {t.slug: sum(c.answers for c in per_category if c.track == t.slug) for t in tracks.TRACKS}
        s = streaks(days, today)
        return PersonStats(user_id, own, sum(per_track.values()), per_track, per_category, s.days, s.current, s.best,
                           counts.reactions_received, top_summary)

    def history(self, team_id: str, user_id: str, limit: int = HISTORY_SIZE) -> list[AnswerSummary]:
        """The person's own recent answers, private ones included (shown only to them)."""
        with self.db.session() as session:
            answers = store.recent_answers(session, team_id, user_id, limit, public_only=False)
            found = self._summaries(session, team_id, answers, with_emoji=True)
        return self._linked(found)

    def dashboard(self, team_id: str, user_id: str) -> Dashboard:
        stats = self.stats(team_id, user_id)
        with self.db.session() as session:
            recent = self._summaries(session, team_id,
                                     store.recent_answers(session, team_id, user_id, HOME_RECENT, public_only=False),
                                     with_emoji=True)
        return Dashboard(stats, tuple(self._linked(recent)), tuple(self._prompt_channels(team_id, user_id)))

    def _prompt_channels(self, team_id: str, user_id: str) -> list[PromptChannel]:
        member_of = None
        if self.memberships is not None:
            try:
                member_of = self.memberships(team_id, user_id)
            except Exception:  # Slack's answer is a nicety here; fall back to what we know
                log.warning("could not list the channels of %s in %s", user_id, team_id)
        with self.db.session() as session:
            if member_of is None:  # what we know: where they answered, and the prompts they set up
                rows = store.schedules_taken_part(session, team_id, user_id)
            else:
                rows = store.schedules(session, team_id, member_of)
            return [PromptChannel(row.channel_id, describe_schedule(row)) for row in rows]

    # --- the team ---------------------------------------------------------

    def leaderboard(self, team_id: str, period: str, viewer_id: str) -> Leaderboard:
        span = PERIODS[period]
        since = None if span is None else self.clock.now() - span
        with self.db.session() as session:
            tallies = store.tallies(session, team_id, since)
        by_answers, by_reactions = rank(tallies, "answers"), rank(tallies, "reactions")

        def viewer(ranks: list[Rank]) -> Rank | None:
            mine = next((r for r in ranks if r.user_id == viewer_id), None)
            return mine if mine is not None and mine.position > LEADERBOARD_SIZE else None

        return Leaderboard(period, tuple(by_answers[:LEADERBOARD_SIZE]), tuple(by_reactions[:LEADERBOARD_SIZE]),
                           viewer(by_answers), viewer(by_reactions), viewer_id)

    # --- forget-me --------------------------------------------------------

    def forget(self, team_id: str, user_id: str) -> Forgotten:
        with self.db.session() as session:
            erased = store.erase_person(session, team_id, user_id)
        log.info("forgot user %s in team %s: %d answers, %d reactions", user_id, team_id, erased.answers,
                 erased.reactions)
        return Forgotten(erased.answers, erased.reactions, tuple(erased.bot_posts))

    # --- shared -----------------------------------------------------------

    def summaries(self, team_id: str, answers: list[Answer], *, with_emoji: bool = False) -> list[AnswerSummary]:
        with self.db.session() as session:
            found = self._summaries(session, team_id, answers, with_emoji=with_emoji)
        return self._linked(found)

    def _summaries(self, session, team_id: str, answers: list[Answer], *,
                   with_emoji: bool) -> list[tuple[AnswerSummary, str, str | None]]:
        """Each answer's summary, its team, and the message ts a permalink can still be asked for (None when
        it has one, or was never posted). Slack is asked later, by ``_linked``, with the session closed."""
        emoji = store.reactions_of(session, team_id, [a.id for a in answers]) if with_emoji else {}
        return [(AnswerSummary(a.id, a.user_id, a.question_text, a.track, a.category, a.created_at, a.local_day,
                               a.visibility, a.source, a.channel_id, a.reaction_count, emoji.get(a.id, {}),
                               a.permalink), a.team_id,
                 None if a.permalink or not (a.channel_id and a.message_ts) else a.message_ts) for a in answers]

    def _linked(self, found: list[tuple[AnswerSummary, str, str | None]]) -> list[AnswerSummary]:
        """Fill in the permalinks Slack has not given yet. Outside any database session: a slow
        Slack must not hold a connection (and its locks) while it answers."""
        linked, learnt = [], []
        for summary, team, message_ts in found:
            link = summary.permalink
            if message_ts is not None and self.links is not None and summary.channel_id:
                try:
                    link = self.links(team, summary.channel_id, message_ts)
                except Exception:  # a missing link must not hide the stats
                    log.warning("no permalink for answer %s", summary.id)
                    link = None
                if link:
                    learnt.append((team, summary.id, link))
            linked.append(replace(summary, permalink=link))
        if learnt:
            with self.db.session() as session:
                for team, answer_id, link in learnt:
                    store.save_permalink(session, team, answer_id, link)
        return linked

