"""Instant, deterministic, explainable coaching feedback on a practice answer.

``coach(text, track, category)`` reads an answer the way a friendly interviewer
would skim it and returns a ``Feedback``: a short list of named checks, each
with the phrases from the answer that satisfied it and one sentence of advice.

The module is pure: no Slack, no database, no I/O, no clock, no randomness.
All the judgement lives in the data tables below; the engine at the bottom is
a small loop that applies a table to the text.

Pattern conventions (applied when the tables are compiled at import):

* every pattern is matched case-insensitively; use ``(?-i:...)`` to opt out;
* a plain space means "one or more whitespace characters", so phrases still
  match across line breaks and double spaces (never write ``" ?"``, ``" *"``,
  ``" +"`` or ``" {"``; write ``\\s*`` instead; this is checked at import);
* a plain ``'`` also matches the typographic apostrophes ``’`` and ``ʼ``.

Patterns are kept simple (no nested unbounded repetition) so that matching
stays linear on long or hostile input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from coachbot.tracks import CATEGORIES, TRACK_SLUGS

__all__ = ["Check", "Feedback", "coach"]


# --------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    passed: bool
    evidence: tuple[str, ...]
    advice: str


@dataclass(frozen=True)
class Feedback:
    kind: str
    checks: tuple[Check, ...]
    word_count: int
    headline: str
    next_step: str

    @property
    def score(self) -> int:
        return sum(1 for check in self.checks if check.passed)

    @property
    def total(self) -> int:
        return len(self.checks)


# --------------------------------------------------------------------------
# Pattern compilation (see the conventions in the module docstring)
# --------------------------------------------------------------------------

_APOSTROPHE = "['\u2019\u02bc]"
_BAD_SPACE = re.compile(r" [?*+{]|\[[^\]]* ")  # quantified space, or a space in [...]


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    for pattern in patterns:
        if _BAD_SPACE.search(pattern):
            raise ValueError(f"use \\s instead of a quantified or bracketed space: {pattern!r}")
    expanded = (p.replace("'", _APOSTROPHE).replace(" ", r"\s+") for p in patterns)
    return re.compile("|".join(f"(?:{p})" for p in expanded), re.IGNORECASE)


# --------------------------------------------------------------------------
# Rules as data
# --------------------------------------------------------------------------

MAX_EVIDENCE = 3  # phrases quoted per check
MAX_EVIDENCE_CHARS = 60  # length of one quoted phrase
TAIL_WORDS = 4  # words of context quoted after the matched phrase

STAR_WORDS = (120, 450)  # a 2-3 minute spoken story, written down
TECHNICAL_WORDS = (60, 500)  # a whiteboard walk-through can be shorter
OWNERSHIP_MAX_WE_PER_I = 3  # "we" may outnumber "I", but not by more than this

# First-person pronouns, for the ownership check. Word boundaries keep "I"
# out of "AI" and "we" out of "were", "weekly" and "answer".
SINGULAR_PRONOUNS = r"\b(?:i|me|my|mine|myself)\b"
PLURAL_PRONOUNS = r"\b(?:we|us|our|ours|ourselves)\b"
I_STATEMENT = r"\bI\b"  # quoted, with the words after it, as ownership evidence

# Verbs that describe something the speaker did, for the STAR "action" check.
_ACTION_VERBS = (
    r"(?:proposed|suggested|pitched|set up|setup|met|decided|chose|wrote|rewrote|drafted"
    r"|organi[sz]ed|planned|scheduled|ran|led|started|introduced|built|created|designed"
    r"|implemented|refactored|automated|added|removed|replaced|moved|split|broke"
    r"|changed|reviewed|presented|explained|documented|gathered|asked|talked|spoke"
    r"|called|reached out|sat down|listened|interviewed|paired|coached|mentored"
    r"|delegated|negotiated|escalated|prioriti[sz]ed|measured|analy[sz]ed"
    r"|investigated|convinced|agreed|aligned|facilitated|invited|hired|rolled out"
    r"|worked|pushed|focused|mapped|tested|took|gave|held|offered|shared|made|set)\b"
)
_ACTION_ADVERB = r"(?:(?:then|also|first|quickly|personally|immediately|eventually|finally) )?"

_TIME_UNITS = r"(?:ms|milliseconds?|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|weeks?|months?|quarters?|years?|sprints?)"
# "one" is left out: "the one hour that suited everyone" is not a measurement.
_NUMBER_WORDS = r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"


@dataclass(frozen=True)
class PhraseRule:
    """Passes when any pattern matches; quotes the first matches as evidence."""

    key: str
    label: str
    patterns: tuple[str, ...]
    praise: str  # advice when the check passed
    missing: str  # advice when it did not
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", _compile(self.patterns))

    def evaluate(self, answer: _Answer) -> Check:
        evidence = _evidence(answer.text, self.regex)
        passed = bool(evidence)
        return Check(self.key, self.label, passed, evidence, self.praise if passed else self.missing)


@dataclass(frozen=True)
class OwnershipRule:
    """Passes when "I" statements are present and not swamped by "we".

    Advice may use {singular} and {plural}: how often the answer said
    I/me/my and we/our/us (already written as "once", "3 times", ...).
    """

    key: str
    label: str
    praise: str
    no_pronouns: str
    no_singular: str
    swamped: str
    singular: re.Pattern[str] = field(init=False, repr=False, compare=False)
    plural: re.Pattern[str] = field(init=False, repr=False, compare=False)
    statement: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "singular", _compile((SINGULAR_PRONOUNS,)))
        object.__setattr__(self, "plural", _compile((PLURAL_PRONOUNS,)))
        object.__setattr__(self, "statement", _compile((I_STATEMENT,)))

    def evaluate(self, answer: _Answer) -> Check:
        singular = sum(1 for _ in self.singular.finditer(answer.text))
        plural = sum(1 for _ in self.plural.finditer(answer.text))
        passed = singular > 0 and plural <= OWNERSHIP_MAX_WE_PER_I * singular
        if passed:
            template = self.praise
        elif singular == 0 and plural == 0:
            template = self.no_pronouns
        elif singular == 0:
            template = self.no_singular
        else:
            template = self.swamped
        evidence: tuple[str, ...] = ()
        if passed:  # prefer "I ..." statements; fall back to "my ..." / "me"
            evidence = _evidence(answer.text, self.statement) or _evidence(answer.text, self.singular)
        advice = template.format(singular=_times(singular), plural=_times(plural))
        return Check(self.key, self.label, passed, evidence, advice)


@dataclass(frozen=True)
class LengthRule:
    """Passes when the word count is within [low, high].

    Advice may use {words} ("87 words"), {low} and {high}.
    """

    key: str
    label: str
    low: int
    high: int
    fine: str
    short: str
    long: str

    def evaluate(self, answer: _Answer) -> Check:
        n = answer.words
        template = self.short if n < self.low else self.long if n > self.high else self.fine
        advice = template.format(words=_words(n), low=self.low, high=self.high)
        return Check(self.key, self.label, self.low <= n <= self.high, (), advice)


Rule = PhraseRule | OwnershipRule | LengthRule


# --- Leadership: STAR stories ----------------------------------------------

SITUATION = PhraseRule(
    key="situation",
    label="Situation",
    patterns=(
        r"\blast (?:year|month|quarter|summer|spring|autumn|fall|winter|week)\b",
        r"\b(?:at|in) my (?:previous|last|current|old|first|former) (?:company|job|role|team|employer|position|startup)\b",
        r"\bwhen I (?:joined|started|was)\b",
        r"\bwe had\b",
        r"\bthe team (?:was|had)\b",
        r"\b(?:there was|there were)\b",
        r"\bback (?:in|when)\b",
        r"\bin (?:early |late |mid-)?(?:19|20)\d\d\b",
        r"\ba (?:few|couple of) (?:years|months|weeks) ago\b",
        r"\bI was (?:working|leading|the|a|an|on)\b",
    ),
    praise="You set the scene, so the listener knows where and when this happened.",
    missing="Open with one or two sentences of context: where you worked, the team, and what was going on.",
)

TASK = PhraseRule(
    key="task",
    label="Task",
    patterns=(
        r"\bmy (?:goal|job|task|role|responsibility|mandate|aim) was\b",
        r"\bI was (?:responsible|accountable|in charge|tasked|asked|expected|supposed)\b",
        r"\bI (?:needed|had|wanted) to\b",
        r"\b(?:the|our|my) (?:challenge|problem|goal|objective|aim|ask|deadline) was\b",
        r"\b(?:we|our team|the team) (?:needed|had|was asked|were asked) to\b",
        r"\bI owned\b",
    ),
    praise="You made clear what you were on the hook for.",
    missing="Say what you personally had to achieve, e.g. 'My goal was to...' or 'I was responsible for...'.",
)

ACTION = PhraseRule(
    key="action",
    label="Action",
    # "We decided" counts as an action here; whether the actions were *yours*
    # is judged separately by the ownership check, so a "we" story is not
    # penalised twice for the same thing.
    patterns=(
        r"\bI " + _ACTION_ADVERB + _ACTION_VERBS,
        r"\bwe " + _ACTION_ADVERB + _ACTION_VERBS,
    ),
    praise="You walked through concrete steps you took.",
    missing="Describe the steps you took, each as an 'I ...' sentence: 'I proposed...', 'I set up...', 'I met with...'.",
)

RESULT = PhraseRule(
    key="result",
    label="Result",
    patterns=(
        r"\bas a result\b",
        r"\bin the end\b",
        r"\b(?:we|I|they|it|the team) (?:shipped|launched|delivered|released|hit|finished)\b",
        r"\b(?:reduced|increased|improved|lowered|saved|doubled|halved|tripled|grew|dropped|decreased)\b",
        r"\bthe (?:outcome|result|impact) was\b",
        r"\bresult(?:ed|s)? in\b",
        r"\blearn(?:ed|t)\b",
        r"\b(?:ended up|since then|by the end)\b",
    ),
    praise="You closed the story with what happened in the end.",
    missing="Finish with the result: what changed because of what you did, and what you learned.",
)

MEASURABLE = PhraseRule(
    key="measurable",
    label="Measurable outcome",
    patterns=(
        r"\b\d+(?:[.,]\d+)?\s*(?:%|percent\b|per cent\b)",
        r"\b\d+(?:\.\d+)?\s*[x×](?!\w)",
        r"[$€£]\s*\d",
        r"\b\d+(?:[.,]\d+)?\s*(?:k|bn|million|billion|thousand)\b",
        r"\b\d+(?:[.,]\d+)?\s*" + _TIME_UNITS + r"\b(?! ago\b)",
        r"\b" + _NUMBER_WORDS + r" " + _TIME_UNITS + r"\b(?! ago\b)",
        r"\bfrom [$€£]?\d[^\n]{0,30}? to [$€£]?\d",
        r"\b(?:doubled|halved|tripled|quadrupled)\b",
        r"\b(?:NPS|CSAT|MTTR|p50|p90|p95|p99|uptime|error rate|churn)\b",
    ),
    praise="You put a number on the outcome, which makes the impact easy to believe.",
    missing="Add a number to the result: a percentage, a before-and-after time, money saved or a metric that moved.",
)

OWNERSHIP = OwnershipRule(
    key="ownership",
    label="Personal ownership",
    praise="You said 'I/me/my' {singular} and 'we/our/us' {plural}, so it is clear what you did yourself.",
    no_pronouns="Tell the story in the first person, with 'I ...' sentences that show what you did yourself.",
    no_singular="You said 'we/our/us' {plural} and 'I/me/my' {singular}; the interviewer is hiring you, so say which parts you did.",
    swamped="You said 'we/our/us' {plural} and 'I/me/my' only {singular}; turn the key steps into 'I ...' sentences so your part stands out.",
)

STAR_LENGTH = LengthRule(
    key="length",
    label="Length",
    low=STAR_WORDS[0],
    high=STAR_WORDS[1],
    fine="At {words}, this fits a 2-3 minute spoken answer.",
    short="At {words}, this is short for a 2-3 minute answer; aim for {low}-{high} words by adding context, your steps and the outcome.",
    long="At {words}, this would run past three minutes when spoken; trim it below {high} by cutting background and keeping one thread.",
)

# --- Technical: coding, system design, problem solving -----------------------

CLARIFY = PhraseRule(
    key="clarify",
    label="Clarifying questions",
    patterns=(
        r"\bassum(?:e|es|ed|ing|ption|ptions)\b",
        r"\bI(?:'d| would| will|'ll)? (?:first )?(?:ask|check|confirm)\b",
        r"\bclarif(?:y|ying|ied|ication|ications)\b",
        r"\b(?:requirements?|constraints?)\b",
        r"\binput size\b",
        r"\bup to \d",
        r"\b(?:is|are|can|could|does|do|should|will|would|how|what|which|who) [^.!?\n]{0,80}\?",
    ),
    praise="You pinned down the problem before solving it.",
    missing="Start by stating your assumptions or asking one or two questions: input size, constraints, what 'done' means.",
)

APPROACH = PhraseRule(
    key="approach",
    label="Approach",
    patterns=(
        r"\b(?:approach|algorithm|strategy)\b",
        r"\bI(?:'d| would| will|'ll)? (?:use|build|store|keep|iterate|sort|scan|walk|traverse|model|put|split|add|design)\b",
        r"\bhash\s*(?:map|table|set)s?\b",
        r"\b(?:dict|dictionary|set|array|list|heap|stack|queue|trie|graph|tree|linked list|priority queue)\b",
        r"\b(?:BFS|DFS|breadth-first|depth-first|Dijkstra|binary search|two pointers?|sliding window|dynamic programming|memoi[sz]\w*|recursion|recursive)\b",
        r"\b(?:index|indexes|indices|cache|caching|shard|shards|sharding|partition|partitions|partitioning|replica|replicas|replication|load balancer|message queue|CDN)\b",
        r"\bstep (?:1|one)\b",
        r"\bfirst\b[^.!?\n]{0,80}\bthen\b",
        r"\b(?:def|function|func|fn) \w+\s*\(",
        r"\bfor \w+ in\b",
    ),
    praise="You laid out a concrete approach the interviewer can follow.",
    missing="Name your approach before the details: the data structure or design you would use and why.",
)

COMPLEXITY = PhraseRule(
    key="complexity",
    label="Complexity/trade-offs",
    patterns=(
        r"\bO\([^()\n]{1,20}\)",
        r"\bbig[-\s]?O\b",
        r"\b(?:time|space|memory|runtime) complexity\b",
        r"\b(?:complexity|memory|latency|throughput|bottleneck|scalability)\b",
        r"\btrade[-\s]?offs?\b",
        r"\b(?:cost|costs|costly|versus|vs)\b",
        r"\b(?:linear|constant|logarithmic|quadratic) time\b",
    ),
    praise="You weighed cost: complexity, resources or trade-offs.",
    missing="Say what your solution costs: its time and memory complexity (e.g. O(n log n)) or the trade-off you accepted.",
)

TESTING = PhraseRule(
    key="testing",
    label="Edge cases/testing",
    patterns=(
        r"\b(?:edge|corner) cases?\b",
        r"\b(?:empty|null|nil|duplicates?|negative|overflow|invalid|zero)\b",
        r"\b(?-i:None)\b",
        r"\bunit[-\s]tests?\b",
        r"\btest(?:s|ed|ing)?\b",
        r"\b(?:fail|fails|failed|failure|failures|failover|timeout|timeouts|retry|retries)\b",
        r"\bwhat if\b",
        r"\bgoes down\b",
    ),
    praise="You checked where it could break: edge cases, failures or tests.",
    missing="Name two edge cases or failure modes (empty input, duplicates, a timeout) and how you would test them.",
)

TECHNICAL_LENGTH = LengthRule(
    key="length",
    label="Length",
    low=TECHNICAL_WORDS[0],
    high=TECHNICAL_WORDS[1],
    fine="At {words}, the length is right for a walk-through.",
    short="At {words}, this is thin; aim for at least {low} by talking through your reasoning, not only the answer.",
    long="At {words}, this is long; trim it below {high} by leading with the approach and cutting repeated detail.",
)

# --- Technical knowledge: "explain X" questions ------------------------------
# These questions ask what a tool is, when to reach for it and whether you have
# used it. So "approach" and "complexity" become "explain" and "tradeoffs",
# "example" is added, and "clarify" and "testing" are left out: there is rarely
# anything to clarify in "explain Docker", and failure modes or downsides are
# already credited by "tradeoffs".

EXPLAIN = PhraseRule(
    key="explain",
    label="How it works",
    patterns=(
        r"\b(?:is|are) (?:a|an|the|basically|essentially|just|simply)\b",
        r"\bworks? by\b",
        r"\bunder the hood\b",
        r"\b(?:means|meaning)\b",
        r"\b(?:defined as|definition)\b",
        r"\bthe idea is\b",
        r"\bconsists? of\b",
        r"\bit (?:uses|relies on|lets|allows|gives|runs|stores|packages)\b",
    ),
    praise="You explained what it is and how it works.",
    missing="Start with a one-sentence definition and then how it works under the hood.",
)

TRADEOFFS = PhraseRule(
    key="tradeoffs",
    label="When to use it",
    patterns=(
        r"\btrade[-\s]?offs?\b",
        r"\b(?:downside|downsides|drawback|drawbacks|disadvantage|disadvantages|limitation|limitations|overhead|overkill)\b",
        r"\bpros and cons\b",
        r"\b(?:when|where) (?:not )?to use\b",
        r"\bI would(?:n't| not) use\b",
        r"\bnot (?:a good fit|ideal|great|suited|worth)\b",
        r"\bcompared (?:to|with)\b",
        r"\b(?:versus|vs|unless|costs?)\b",
    ),
    praise="You said when it fits and what it costs.",
    missing="Say when you would use it and when you would not, and name one downside.",
)

EXAMPLE = PhraseRule(
    key="example",
    label="Real example",
    patterns=(
        r"\bI(?:'ve| have)? (?:used|ran|run|led|owned|shipped|built|set up|deployed|migrated|wrote|configured|debugged"
        r"|containeri[sz]ed|introduced|moved)\b",
        r"\bwe(?:'ve| have)? (?:used|use|ran|run|built|deployed|migrated|moved|switched)\b",
        r"\bin my (?:last|previous|current) (?:project|job|role|team|company)\b",
        r"\bat (?:my|our) (?:company|work|job|startup)\b",
        r"\b(?:for example|for instance|in production)\b",
    ),
    praise="You grounded it in a real example, which shows hands-on experience.",
    missing="Add one concrete example from your own work: where you used it and what happened.",
)


# --- Kinds of answer --------------------------------------------------------


def _star_headline(checks: Mapping[str, Check], score: int, total: int) -> str:
    parts = sum(checks[key].passed for key in ("situation", "task", "action", "result"))
    grade = {4: "Solid", 3: "Promising", 2: "Partial", 1: "Partial"}.get(parts, "Not yet a")
    measured = "with a measurable result" if checks["measurable"].passed else "no measurable result yet"
    return f"{grade} STAR story: {parts} of 4 parts, {measured} ({score} of {total} checks)."


def _technical_headline(noun: str) -> Callable[[Mapping[str, Check], int, int], str]:
    def headline(checks: Mapping[str, Check], score: int, total: int) -> str:
        missing = [c.label.lower() for c in checks.values() if not c.passed]
        if not missing:
            return f"Strong {noun}: {score} of {total} checks passed."
        grade = "Good" if len(missing) == 1 else "Partial" if score * 2 >= total else "Thin"
        return f"{grade} {noun}: {score} of {total} checks passed; missing {_join(missing)}."

    return headline


@dataclass(frozen=True)
class Kind:
    kind: str  # Feedback.kind
    rules: tuple[Rule, ...]  # checks, in display order
    priority: tuple[str, ...]  # which failed check to suggest first as next_step
    short_first_below: int  # below this many words, suggest length first
    stretch: str  # next_step when every check passed
    empty_next: str  # next_step when there are no words at all
    headline: Callable[[Mapping[str, Check], int, int], str]


EMPTY_HEADLINE = "Nothing to review yet: write your answer out in words and send it again."

STAR = Kind(
    kind="star",
    rules=(SITUATION, TASK, ACTION, RESULT, MEASURABLE, OWNERSHIP, STAR_LENGTH),
    priority=("result", "action", "measurable", "ownership", "task", "situation", "length"),
    short_first_below=STAR_WORDS[0] // 2,
    stretch="Stretch goal: say it aloud in under three minutes, and prepare a follow-up on what you would do differently next time.",
    empty_next="Write the story as you would tell it: the situation, your task, what you did, and how it ended.",
    headline=_star_headline,
)

TECHNICAL = Kind(
    kind="technical",
    rules=(CLARIFY, APPROACH, COMPLEXITY, TESTING, TECHNICAL_LENGTH),
    priority=("approach", "complexity", "clarify", "testing", "length"),
    short_first_below=TECHNICAL_WORDS[0] // 2,
    stretch="Stretch goal: say how your solution changes if the input grows a hundredfold, and which part breaks first.",
    empty_next="Write out how you would tackle it: your assumptions, your approach, its cost and the edge cases.",
    headline=_technical_headline("technical answer"),
)

KNOWLEDGE = Kind(
    kind="technical",
    rules=(EXPLAIN, TRADEOFFS, EXAMPLE, TECHNICAL_LENGTH),
    priority=("explain", "example", "tradeoffs", "length"),
    short_first_below=TECHNICAL_WORDS[0] // 2,
    stretch="Stretch goal: compare it with one alternative in two sentences, and say which you would pick for your team today.",
    empty_next="Write out your explanation: what it is, how it works, when you would use it, and where you have used it.",
    headline=_technical_headline("explanation"),
)

KIND_BY_TRACK: dict[str, Kind] = {"leadership": STAR, "technical": TECHNICAL}
KIND_BY_CATEGORY: dict[str, Kind] = {"technical-knowledge": KNOWLEDGE}


# --------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------

# Control characters become spaces (same length, so match offsets still index
# the original text); tab, newline and carriage return are kept.
_CONTROL_TO_SPACE = {c: " " for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"}
_WORD_CHAR = re.compile(r"\w")
_TAIL_TOKEN = re.compile(r"[ \t]*(\S+)")
_STOPS = ".,;:!?)]}\"\u201d"
_TRACK_OF_CATEGORY = {c.slug: c.track for c in CATEGORIES}
_DANGLING = frozenset("a an and as at but by for from in of on or so that the to which with".split())


@dataclass(frozen=True)
class _Answer:
    text: str  # the answer with control characters blanked
    words: int


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _words(n: int) -> str:
    return "1 word" if n == 1 else f"{n} words"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _prepare(text: str) -> _Answer:
    clean = text.translate(_CONTROL_TO_SPACE)
    words = sum(1 for token in clean.split() if _WORD_CHAR.search(token))
    return _Answer(clean, words)


def _extend(text: str, start: int, end: int) -> int:
    """Return an end offset that adds a few words of context after a match."""
    if text[end - 1] in _STOPS:
        return end
    ends = [end]
    for _ in range(TAIL_WORDS):
        if ends[-1] - start >= MAX_EVIDENCE_CHARS:
            break
        token = _TAIL_TOKEN.match(text, ends[-1])
        if token is None:
            break
        word = token.group(1)
        kept = word.rstrip(_STOPS)
        if "(" in kept and word[len(kept) :].startswith(")"):
            kept += ")"  # keep "O(n log n)" whole
        if kept:
            ends.append(token.start(1) + len(kept))
        if kept != word:
            return ends[-1]  # the clause ended here
    # Cut short mid-clause: don't leave the quote hanging on "and", "the"...
    while len(ends) > 1 and text[ends[-2] : ends[-1]].strip().casefold() in _DANGLING:
        ends.pop()
    return ends[-1]


def _quote(fragment: str) -> str:
    """Whitespace-normalise a slice of the answer and cut it to length."""
    quote = " ".join(fragment.split())
    if len(quote) > MAX_EVIDENCE_CHARS:
        cut = quote.rfind(" ", 0, MAX_EVIDENCE_CHARS + 1)
        quote = quote[:cut] if cut > 0 else quote[:MAX_EVIDENCE_CHARS]
    return quote.rstrip(" ,;:")


def _evidence(text: str, regex: re.Pattern[str]) -> tuple[str, ...]:
    quotes: list[str] = []
    seen: set[str] = set()
    covered = 0
    for match in regex.finditer(text):
        if match.start() < covered:
            continue
        covered = _extend(text, match.start(), match.end())
        quote = _quote(text[match.start() : covered])
        if quote and quote.casefold() not in seen:
            seen.add(quote.casefold())
            quotes.append(quote)
            if len(quotes) == MAX_EVIDENCE:
                break
    return tuple(quotes)


def _kind_for(track: str, category: str | None) -> Kind:
    if track not in TRACK_SLUGS:
        raise ValueError(f"unknown track {track!r}; expected one of {', '.join(TRACK_SLUGS)}")
    if category is not None:
        if _TRACK_OF_CATEGORY.get(category) != track:
            raise ValueError(f"{category!r} is not a category of the {track} track")
        if category in KIND_BY_CATEGORY:
            return KIND_BY_CATEGORY[category]
    return KIND_BY_TRACK[track]


def _next_step(kind: Kind, checks: Mapping[str, Check], words: int) -> str:
    if words == 0:
        return kind.empty_next
    order = kind.priority
    if words < kind.short_first_below:
        order = ("length", *order)
    for key in order:
        if key in checks and not checks[key].passed:
            return checks[key].advice
    return kind.stretch


def coach(text: str, track: str, category: str | None = None) -> Feedback:
    """Review a practice answer and say what it has and what to add.

    ``track`` is "leadership" or "technical"; ``category``, if given, must be
    one of that track's categories. Raises ValueError for an unknown track or
    category; never raises because of the text itself.
    """
    kind = _kind_for(track, category)
    answer = _prepare(text)
    checks = tuple(rule.evaluate(answer) for rule in kind.rules)
    by_key = {check.key: check for check in checks}
    score = sum(check.passed for check in checks)
    headline = EMPTY_HEADLINE if answer.words == 0 else kind.headline(by_key, score, len(checks))
    return Feedback(
        kind=kind.kind,
        checks=checks,
        word_count=answer.words,
        headline=headline,
        next_step=_next_step(kind, by_key, answer.words),
    )
