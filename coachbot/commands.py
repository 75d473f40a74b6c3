"""Parsing the text after ``/prep`` into a command. Pure: no Slack, no database.

Words are case-insensitive and take unique prefixes and aliases, so
``/prep lead``, ``/prep tech sd`` and ``/prep technical system design`` all
work. Anything else becomes ``Unknown`` with the closest valid suggestion.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable, Union

from coachbot import tracks

MAX_ECHO = 60


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Ask:
    track: str | None  # None: any track (random)
    category: str | None  # None: any category of the track


@dataclass(frozen=True)
class ListCategories:
    pass


@dataclass(frozen=True)
class Compare:
    pass


@dataclass(frozen=True)
class Stats:
    user_id: str | None = None  # someone else's public progress: /prep stats @person


@dataclass(frozen=True)
class History:
    pass


@dataclass(frozen=True)
class Leaderboard:
    period: str  # week | month | all


@dataclass(frozen=True)
class Digest:
    words: str  # the rest, parsed by coachbot.schedule.parse_digest


@dataclass(frozen=True)
class ForgetMe:
    pass


@dataclass(frozen=True)
class Daily:
    words: str  # the rest, parsed by coachbot.schedule with the person's timezone as default


@dataclass(frozen=True)
class CoachLlm:
    """The workspace's switch for the LLM judge: ``/prep coach llm on|off``; None shows it."""

    on: bool | None = None


@dataclass(frozen=True)
class Unknown:
    text: str  # what the person typed, made safe to echo
    suggestion: str | None  # a full valid command, e.g. "/prep leadership"


Command = Union[Help, Ask, ListCategories, Compare, Stats, History, Leaderboard, Digest, ForgetMe, Daily, CoachLlm,
                Unknown]

_SPACE = re.compile(r"[\s_]+")
# Slack markup (<@U1>, <#C1|x>, <!here>, <http://...|x>) is never a command word.
_MARKUP = re.compile(r"<[^<>]*>")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|[^<>]*)?>")


def normalize(text: str) -> str:
    text = _MARKUP.sub(" ", text or "")
    text = text.replace("&amp;", "&").replace("&", " and ").replace("-", " ").replace("/", " ")
    return _SPACE.sub(" ", text).strip().lower()


def safe_echo(text: str) -> str:
    """What the person typed, short and with nothing Slack would turn into a mention or link."""
    cleaned = "".join(ch for ch in (text or "") if ch.isprintable() and ch not in "<>`*_~")
    cleaned = _SPACE.sub(" ", cleaned).strip()
    return cleaned if len(cleaned) <= MAX_ECHO else cleaned[: MAX_ECHO - 1] + "…"


# --- vocabulary -----------------------------------------------------------

def _phrases(slug: str, title: str, aliases: tuple[str, ...]) -> set[str]:
    return {normalize(slug), normalize(title), *(normalize(a) for a in aliases)}


_TRACK_PHRASES = {t.slug: _phrases(t.slug, t.title, t.aliases) for t in tracks.TRACKS}
_CATEGORY_PHRASES = {c.slug: _phrases(c.slug, c.title, c.aliases) for c in tracks.CATEGORIES}


def _match(phrase: str, table: dict[str, set[str]]) -> list[str]:
    """Slugs whose phrases equal ``phrase``, else those that start with it (a unique prefix wins)."""
    exact = [slug for slug, names in table.items() if phrase in names]
    if exact:
        return exact
    if len(phrase) < 2:
        return []
    return [slug for slug, names in table.items() if any(n.startswith(phrase) for n in names)]


def match_track(phrase: str) -> str | None:
    found = _match(normalize(phrase), _TRACK_PHRASES)
    return found[0] if len(found) == 1 else None


def match_category(phrase: str, track: str | None = None) -> str | None:
    table = {s: p for s, p in _CATEGORY_PHRASES.items() if track is None or tracks.category(s).track == track}
    found = _match(normalize(phrase), table)
    return found[0] if len(found) == 1 else None


# --- verbs ----------------------------------------------------------------

def _ask_track(track: str) -> Callable[[str], Command]:
    def parse(rest: str) -> Command:
        if not rest:
            return Ask(track, None)
        category = match_category(rest, track)
        if category is not None:
            return Ask(track, category)
        return Unknown(safe_echo(f"{track} {rest}"), _suggest_category(rest, track))

    return parse


def _no_args(command: Command, name: str) -> Callable[[str], Command]:
    def parse(rest: str) -> Command:
        if rest:
            return Unknown(safe_echo(f"{name} {rest}"), f"/prep {name}")
        return command

    return parse


VERBS: dict[str, Callable[[str], Command]] = {
    "help": _no_args(Help(), "help"),
    "technical": _ask_track("technical"),
    "leadership": _ask_track("leadership"),
    "random": _no_args(Ask(None, None), "random"),
    "categories": _no_args(ListCategories(), "categories"),
    "compare": _no_args(Compare(), "compare"),
    "stats": _no_args(Stats(), "stats"),
    "history": _no_args(History(), "history"),
    "leaderboard": lambda rest: _leaderboard(rest),
    "digest": lambda rest: Digest(rest),
    "forget me": _no_args(ForgetMe(), "forget-me"),
    "daily": lambda rest: Daily(rest),
    "coach": lambda rest: _coach(rest),
}
PERIODS = {"week": "week", "month": "month", "all": "all", "all time": "all", "ever": "all"}


def _leaderboard(rest: str) -> Command:
    if not rest:
        return Leaderboard("week")
    found = [period for word, period in PERIODS.items() if word.startswith(rest) or rest == word]
    if len(set(found)) == 1:
        return Leaderboard(found[0])
    return Unknown(safe_echo(f"leaderboard {rest}"), "/prep leaderboard week")
_SWITCH = {"on": True, "enable": True, "off": False, "disable": False}


def _coach(rest: str) -> Command:
    words = rest.split()
    if words[:1] in ([], ["llm"], ["ai"]) and len(words) <= 2:
        setting = words[1] if len(words) == 2 else None
        if setting is None:
            return CoachLlm(None)
        if setting in _SWITCH:
            return CoachLlm(_SWITCH[setting])
    return Unknown(safe_echo(f"coach {rest}"), "/prep coach llm on")


_VERB_PHRASES: dict[str, set[str]] = {verb: {verb} for verb in VERBS}
for _slug, _names in _TRACK_PHRASES.items():
    _VERB_PHRASES[_slug] |= _names
_VERB_PHRASES["help"] |= {"?", "usage"}
_VERB_PHRASES["random"] |= {"any", "surprise me"}
_VERB_PHRASES["categories"] |= {"list", "topics", "areas"}
_VERB_PHRASES["compare"] |= {"difference", "differences", "vs"}
_VERB_PHRASES["stats"] |= {"progress", "me"}
_VERB_PHRASES["history"] |= {"answers", "recent"}
_VERB_PHRASES["leaderboard"] |= {"leaders", "top", "board"}
_VERB_PHRASES["forget me"] |= {"forgetme", "delete me", "delete my data"}


def parse(text: str) -> Command:
    phrase = normalize(text)
    if not phrase:
        return Help()
    if phrase in _VERB_PHRASES["forget me"]:  # several words: "delete my data"
        return ForgetMe()
    head, _, rest = phrase.partition(" ")
    verbs = _match(head, _VERB_PHRASES)
    if verbs == ["daily"]:
        # Timezone names need their slashes and case: hand over the words as typed.
        return Daily(_MARKUP.sub(" ", text).strip().partition(" ")[2].strip())
    if verbs == ["digest"]:
        return Digest(_MARKUP.sub(" ", text).strip().partition(" ")[2].strip())
    if verbs == ["stats"]:
        mentioned = _MENTION.findall(text or "")
        if len(mentioned) == 1 and _MENTION.sub(" ", text).split()[1:] == []:
            return Stats(mentioned[0])
        if len(mentioned) > 1:
            return Unknown(safe_echo(_MENTION.sub("@someone", text)), "/prep stats @someone")
    if len(verbs) == 1:
        return VERBS[verbs[0]](rest)
    # A category on its own ("/prep sd", "/prep system design") asks for that category.
    category = match_category(phrase)
    if category is not None:
        return Ask(tracks.category(category).track, category)
    return Unknown(safe_echo(text), _suggest(phrase, verbs))


def _suggest(phrase: str, ambiguous: list[str]) -> str | None:
    if ambiguous:
        return f"/prep {sorted(ambiguous)[0]}"
    vocabulary = {name: verb for verb, names in _VERB_PHRASES.items() for name in names if len(name) > 1}
    vocabulary.update({name: slug for slug, names in _CATEGORY_PHRASES.items() for name in names if len(name) > 2})
    head = phrase.split(" ", 1)[0]
    for candidate in (phrase, head):
        close = difflib.get_close_matches(candidate[:40], list(vocabulary), n=1, cutoff=0.6)
        if close:
            target = vocabulary[close[0]]
            if target in VERBS:
                return f"/prep {target}"
            return f"/prep {tracks.category(target).track} {target}"
    return None


def _suggest_category(rest: str, track: str) -> str:
    elsewhere = match_category(rest)
    if elsewhere is not None:
        # Right category, wrong track: "/prep technical decision making".
        return f"/prep {tracks.category(elsewhere).track} {elsewhere}"
    names = {n: s for s, ns in _CATEGORY_PHRASES.items() if tracks.category(s).track == track for n in ns}
    close = difflib.get_close_matches(normalize(rest)[:40], list(names), n=1, cutoff=0.4)
    if close:
        return f"/prep {track} {names[close[0]]}"
    return f"/prep {track}"
