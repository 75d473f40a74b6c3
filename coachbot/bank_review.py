"""Editorial checks over a loaded bank: near-duplicates, labels that don't fit, and the bank's shape.

``coachbot questions check`` runs these after the schema checks in ``bank.py``.
Every finding names the file, the question id and what is wrong. Errors fail
the check; warnings are printed for a person to judge:

- error: two questions are near-duplicates (similar wording, or the same ask in other words);
- error: a question has director/VP-level scope (the bank stops at staff: an individual
  contributor or team lead), or an entry question demands multi-team scope;
- error: a question has none of its category's markers (for the categories that have a table);
- error: a category has fewer than 40 questions or fewer than 7 at some level;
- warning: two questions are worded alike but under the near-duplicate line;
- warning: a staff question names no scope beyond one team.

The rules are tables of data below; the code only applies them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from typing import Iterable, Sequence

from coachbot import tracks
from coachbot.bank import CODE_INDENT, Question

ERROR, WARNING = "error", "warning"

# --- the bank's shape ------------------------------------------------------------------------------

MIN_PER_CATEGORY = 40
MIN_PER_LEVEL = 7  # in each category, for each of tracks.DIFFICULTIES

# --- near-duplicates by wording ----------------------------------------------------------------------
#
# Each question becomes two TF-IDF vectors (log-scaled term counts times smoothed inverse document
# frequency over the bank being checked, unit length): one of its question text without the code
# block, one of that text plus its look-for points. A pair's score is the mean of the two cosines:
# the text alone catches the same question reworded, the look-for points catch two questions that
# want the same answer.
#
# The lines were chosen on the version 1 bank (243 questions, 29,403 pairs), whose duplicates issue 15
# lists. The six pairs there that share their wording score 0.444 to 0.574; the highest pair that is
# not a duplicate (a decision you got wrong / a hire that turned out wrong) scores 0.372, then 0.369
# (saying no to a senior stakeholder / to someone on your team). 0.40 sits in that gap. Between 0.33
# and 0.40 the pairs are on one topic but ask different things, worth a look and no more: a warning.
# The other listed duplicates share too few words for any line that spares those neighbours; the
# asks table below finds them.
DUPLICATE_SCORE = 0.40
SIMILAR_SCORE = 0.33

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my nor of off on once only or other
    our ours out over own same she should so some such than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself also one use using used uses way ways get gets got make makes made
    e g eg etc rather instead like
    """.split()
)
# Words every interview question or look-for point uses, whatever it asks: they say nothing about
# which question it is.
INTERVIEW_WORDS = frozenset(
    """
    tell describe time times walk give example explain explains explained mention mentions name names
    identify identifies show shows describes recognise recognises recognize recognizes consider considers
    state states understand understands candidate answer question talk
    """.split()
)
_WORD = re.compile(r"[a-z][a-z0-9+#]*")
_SUFFIXES = (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))


def _stem(word: str) -> str:
    """A light suffix strip, so 'decisions' meets 'decision' and 'refusing' meets 'refused'."""
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + replacement
    return word


def terms(text: str) -> list[str]:
    return [
        _stem(w)
        for w in _WORD.findall(text.lower())
        if len(w) > 1 and w not in STOP_WORDS and w not in INTERVIEW_WORDS
    ]


def prose(text: str) -> str:
    """A question's text without its indented code block."""
    return "\n".join(line for line in text.splitlines() if not line.startswith(CODE_INDENT))


Vector = dict[str, float]


def tfidf(documents: Sequence[str]) -> list[Vector]:
    counts = [Counter(terms(d)) for d in documents]
    frequency = Counter(t for c in counts for t in c)
    n = len(documents)
    vectors = []
    for c in counts:
        v = {t: (1 + math.log(k)) * (math.log((1 + n) / (1 + frequency[t])) + 1) for t, k in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({t: x / norm for t, x in v.items()})
    return vectors


def cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def similarity_scores(questions: Sequence[Question]) -> dict[tuple[int, int], float]:
    """Every pair's score (see DUPLICATE_SCORE), keyed by index pairs (i < j)."""
    text = tfidf([prose(q.text) for q in questions])
    full = tfidf([prose(q.text) + "\n" + "\n".join(q.look_for) for q in questions])
    return {
        (i, j): (cosine(text[i], text[j]) + cosine(full[i], full[j])) / 2
        for i, j in combinations(range(len(questions)), 2)
    }


# --- near-duplicates by ask --------------------------------------------------------------------------
#
# Asks the bank puts once. Word overlap can't see that "a decision you got wrong" and "a decision
# you reversed" are one ask, so each entry here names one ask and the patterns (over the question
# text, lower case, code left out) that word it; two questions matching the same entry are
# near-duplicates. An entry is one ask, not a topic: "saying no to a senior stakeholder" is here,
# saying no to your own team is a different question and matches nothing.


@dataclass(frozen=True)
class Ask:
    name: str
    patterns: tuple[str, ...]
    # Most asks are read from the question text only: many different questions want, say, a plain
    # explanation for non-technical people among their look-for points. Some asks live in the
    # answer (a slow endpoint whose look-for names the N+1 pattern): those read both.
    in_look_for: bool = False


ASKS: tuple[Ask, ...] = (
    Ask("saying no to a senior stakeholder",
        (r"\bno\b.{0,40}\bstakeholder", r"\bstakeholder\b.{0,60}\b(refus|declin|turn(ed)? down)")),
    Ask("explaining something technical to a non-technical audience",
        (r"non-?technical", r"without (a )?technical background", r"not technical")),
    Ask("build versus buy",
        (r"\bbuild\b.{0,30}\b(versus|vs\.?|or)\b.{0,30}\bbuy\b", r"in-house or (buy|adopt)")),
    Ask("making the case for paying down technical debt",
        (r"(case|argu|justif|convinc|persuad).{0,50}(technical|tech) debt",
         r"(technical|tech) debt.{0,60}(instead of|versus|over|or) (new )?features")),
    Ask("the first months in a new team or with a team you have just taken over",
        (r"just joined", r"(taking|took|take) over (an existing|a) team", r"\bnew (lead|manager) of\b",
         r"first (few )?(weeks|months|90 days) (as|in|with|leading)")),
    Ask("deciding without all the information",
        (r"without (all|enough) (the )?(data|information|facts)", r"(incomplete|missing|partial) (data|information)",
         r"stop (investigating|analys)", r"more (analysis|research) was possible")),
    Ask("deciding under pressure in a production incident",
        (r"(decision|decide|call).{0,60}during (a|an) (production )?(incident|outage)", r"roll(ed)? back .{0,40}fix forward",
         r"fix forward")),
    Ask("a decision you got wrong or reversed",
        (r"decision you got wrong", r"\b(revers|undid|undo)\w* (one of )?your (own )?decisions?")),
    Ask("shortest path on a grid",
        (r"grid\b.{0,200}\b(shortest|minimum number of steps|fewest (steps|moves))",
         r"(shortest|minimum number of steps|fewest (steps|moves)).{0,200}\bgrid\b")),
    Ask("an order that respects dependencies (topological sort)",
        (r"topological", r"(build|valid|run|install) order", r"order to run all")),
    Ask("the most frequent items in a stream (top k)",
        (r"(most frequent|top (k|ten|\d+)|heavy hitters).{0,80}\b(stream|queries)\b",
         r"\bstream\b.{0,80}(most frequent|top (k|ten|\d+)|heavy hitters)")),
    Ask("N+1 queries", (r"\bn\s*\+\s*1\b",), in_look_for=True),
    Ask("a blocking call stalling an asyncio event loop",
        (r"\b(blocking|time\.sleep)\b.{0,80}\b(blocks|stalls) (the|every|all)\b.{0,40}(event loop|tasks?|requests?)",
         r"\bevent loop\b.{0,80}\bblocking call\b", r"\bblocking call\b.{0,80}\bevent loop\b"),
        in_look_for=True),
    Ask("search autocomplete",
        (r"auto-?complet", r"type-?ahead", r"suggestions as (the user|someone|they|people) types?")),
)
_ASK_PATTERNS = tuple((ask, tuple(re.compile(p) for p in ask.patterns)) for ask in ASKS)


def asks_of(question: Question) -> tuple[str, ...]:
    text = _flat(prose(question.text))
    with_look_for = _flat(" ".join((text, *question.look_for)))
    return tuple(
        ask.name
        for ask, patterns in _ASK_PATTERNS
        if any(p.search(with_look_for if ask.in_look_for else text) for p in patterns)
    )


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


# --- labels that don't fit ---------------------------------------------------------------------------
#
# Patterns over the question text (lower case, code left out).


@dataclass(frozen=True)
class LevelRule:
    levels: tuple[str, ...]  # the levels the rule applies to
    patterns: tuple[str, ...]  # any match is a finding
    severity: str
    says: str
    track: str | None = None  # None: both tracks


# The bank's questions stop at staff: an individual contributor or a team lead. These mark a
# question for someone who manages managers or runs an organisation.
DIRECTOR_SCOPE = (
    r"(?<!such )\bas (a |an |the )?(director|vp|vice president|cto|head of engineering)\b",
    r"\byour (directors|vps)\b",
    r"\bmanag\w+ (of )?managers\b", r"\bmanagers (who )?report(ing)? to you\b",
    r"\b(hire|hiring|develop\w*|coach\w*|grow\w*) (your |new |the )?managers\b",
    r"\b(led|lead|leading|ran|run|planned|plan|designed|drove|drive|announc\w*|communicat\w*) "
    r"(a |the )?(major )?(re-?org|reorgani[sz]ation)",
    r"\b(cut|cutting|cuts to) (roles|headcount|jobs)\b", r"\bdecisions? about headcount\b",
    r"\bheadcount (decision|plan|budget)s?\b",
    r"\b(decid\w*|choos\w*|plan\w*|carr(y|ied) out|ran|run) (a |the )?lay-?offs?\b",
    r"\b(own|owned|set|setting) (the |a |your )?(department|organi[sz]ation|division)'?s? budget\b",
    r"\bto a large (engineering )?organi[sz]ation\b",
)
# Entry level is a new graduate or a first-time lead: one person's or one small team's work.
MULTI_TEAM_SCOPE = (
    r"\b(several|many|multiple|three|four|five|\d+) teams\b", r"\bacross (the )?(teams|organi[sz]ation|company)\b",
    r"\b(organi[sz]ation|company)-wide\b", r"\bmulti-team\b", r"\bcross-team\b", r"\bengineering strategy\b",
)
# A staff question spans teams or sets direction; without a word of that it may be a senior one.
STAFF_SCOPE = (
    r"\bteams\b", r"\borgani[sz]ation", r"\bcompany\b", r"\bdirection\b", r"\bstrateg", r"\broadmap",
    r"\bstandards?\b", r"\bplatform\b", r"\barchitecture\b", r"\byears?\b", r"\bbusiness\b", r"\bleadership\b",
    r"\bexecutives?\b", r"\bpolicy\b", r"\bmigrat", r"\bproduct\b", r"\bglobal\b", r"\bworldwide\b",
    r"\bmillions?\b", r"\bbillions?\b", r"\bdepartments?\b", r"\bengineers\b", r"\bcross-", r"\bwide\b",
)

LEVEL_RULES: tuple[LevelRule, ...] = (
    LevelRule(tracks.DIFFICULTIES, DIRECTOR_SCOPE, ERROR,
              "has director/VP-level scope ({match!r}); the bank stops at staff (an IC or team lead)"),
    LevelRule(("entry",), MULTI_TEAM_SCOPE, ERROR, "is entry level but demands multi-team scope ({match!r})"),
)
# Leadership only: a staff technical question is staff by the depth of its answer (a hard design,
# a subtle bug), which no word in the question marks.
STAFF_RULE = LevelRule(("staff",), STAFF_SCOPE, WARNING,
                       "is staff level but names no scope beyond one team (teams, organisation, direction, ...)",
                       track="leadership")

# A question in these categories has at least one of its category's words, or it is probably
# filed in the wrong category.
CATEGORY_MARKERS: dict[str, tuple[str, ...]] = {
    "vision-strategy": (
        r"\bvision", r"\bstrateg", r"\bdirection\b", r"\broadmap", r"\blong[- ]term\b", r"\byears?\b",
        r"\bfuture\b", r"\bgoals?\b", r"\bbets?\b", r"\binvest", r"\bnorth star\b", r"\bmission\b",
        r"\btrends?\b", r"\bquarters?\b", r"\bmonths\b", r"\bplan\b", r"\bpriorit", r"\bevolv", r"\bambiti",
        r"\bobjectives?\b", r"\bokrs?\b", r"\bcompetit", r"\bmarket\b", r"\bsunset", r"\bdeprecat",
        r"\banticipat", r"\bahead\b", r"\blegacy\b", r"\bretir", r"\bplatform", r"\bstandards?\b", r"\badopt",
        r"\btechnolog", r"\bbalanc", r"\bnext (year|quarter|half)\b",
    ),
    "coding": (
        r"\bwrite\b", r"\bimplement", r"\bfunction\b", r"\bcode\b", r"\bbug\b", r"\bfix\b", r"\bclass\b",
        r"\breturns?\b", r"\bprints?\b", r"\brefactor", r"\btests?\b", r"\balgorithm", r"\bcomplexity\b",
        r"\bdebug", r"\bprogram\b", r"\bscript\b",
    ),
    "system-design": (
        r"\bdesign", r"\barchitect", r"\bscal", r"\bservices?\b", r"\bsystem", r"\bschema\b", r"\bstor(e|age)\b",
        r"\bapi\b", r"\bdatabase", r"\bqueue", r"\bcache",
    ),
    "decision-making": (
        r"\bdecid", r"\bdecision", r"\bchoos", r"\bchose", r"\bcall\b", r"\btrade-?offs?\b", r"\boptions?\b",
        r"\bjudg", r"\bpriorit", r"\bweigh", r"\brisk", r"\bcommit", r"\bbet\b", r"\bintuition", r"\binstinct",
        r"\bgut\b", r"\bdilemma",
    ),
}


# --- findings ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    severity: str
    file: str  # "<track>/<category>.yaml"; "" for the bank as a whole
    question_id: str  # "" for a category
    says: str

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.question_id) if p)
        return f"{self.severity}: {where}: {self.says}"


def file_of(question: Question) -> str:
    return f"{question.track}/{question.category}.yaml"


def _first_match(patterns: Iterable[str], text: str) -> str | None:
    for pattern in patterns:
        found = re.search(pattern, text)
        if found:
            return found.group(0)
    return None


def near_duplicates(questions: Sequence[Question]) -> list[Finding]:
    findings = []
    scores = similarity_scores(questions)
    asks = [asks_of(q) for q in questions]
    for (i, j), score in sorted(scores.items()):
        a, b = questions[i], questions[j]
        shared = sorted(set(asks[i]) & set(asks[j]))
        other = f"{b.id} ({file_of(b)})"
        if shared:
            findings.append(Finding(ERROR, file_of(a), a.id, f"near-duplicate of {other}: both ask {shared[0]!r}"))
        elif score >= DUPLICATE_SCORE:
            findings.append(Finding(ERROR, file_of(a), a.id,
                                    f"near-duplicate of {other}: worded alike (score {score:.2f} >= {DUPLICATE_SCORE})"))
        elif score >= SIMILAR_SCORE:
            findings.append(Finding(WARNING, file_of(a), a.id,
                                    f"worded like {other} (score {score:.2f}); check they ask different things"))
    return findings


def label_findings(questions: Iterable[Question]) -> list[Finding]:
    findings = []
    for q in questions:
        text = _flat(prose(q.text))
        for rule in LEVEL_RULES:
            match = _first_match(rule.patterns, text) if q.difficulty in rule.levels else None
            if match:
                findings.append(Finding(rule.severity, file_of(q), q.id, rule.says.format(match=match)))
        if q.difficulty in STAFF_RULE.levels and q.track == STAFF_RULE.track and _first_match(STAFF_RULE.patterns, text) is None:
            findings.append(Finding(STAFF_RULE.severity, file_of(q), q.id, STAFF_RULE.says))
        markers = CATEGORY_MARKERS.get(q.category)
        if markers and _first_match(markers, text) is None:
            findings.append(Finding(ERROR, file_of(q), q.id,
                                    f"has none of the {q.category} markers; is it in the right category?"))
    return findings


def level_counts(questions: Iterable[Question]) -> dict[str, Counter[str]]:
    """Questions per category slug, per level."""
    out: dict[str, Counter[str]] = {c.slug: Counter() for c in tracks.CATEGORIES}
    for q in questions:
        out[q.category][q.difficulty] += 1
    return out


def shape_findings(questions: Iterable[Question]) -> list[Finding]:
    findings = []
    for slug, levels in level_counts(questions).items():
        category = tracks.category(slug)
        file = f"{category.track}/{slug}.yaml"
        total = sum(levels.values())
        if total < MIN_PER_CATEGORY:
            findings.append(Finding(ERROR, file, "", f"{total} questions (at least {MIN_PER_CATEGORY})"))
        short = [f"{level} {levels[level]}" for level in tracks.DIFFICULTIES if levels[level] < MIN_PER_LEVEL]
        if short:
            findings.append(Finding(ERROR, file, "", f"fewer than {MIN_PER_LEVEL} at a level: {', '.join(short)}"))
    return findings


def review(questions: Sequence[Question]) -> list[Finding]:
    """Every finding for a whole bank, errors first, then by file and id."""
    findings = near_duplicates(questions) + label_findings(questions) + shape_findings(questions)
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.file, f.question_id))
