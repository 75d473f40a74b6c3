"""What the coach looks for, as data: kinds of question, and the checks each kind is held to.

A check passes when some sentence of the answer does the check's job: it
matches one of the check's patterns, is not a question, is not negated ("the
error rate never dropped"), is not copied from the question, and, for checks
about what happened, is not hedged by a modal ("we could ship"). The sentence
is then quoted as the evidence.

Patterns are matched case-insensitively. ``verbs()`` spells a verb in every
tense, so "I decide", "I decided" and "I am deciding" all count: people tell
stories in the present tense, especially in a second language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _forms(spec: str) -> list[str]:
    """'ship' -> ship, ships, shipped, shipping; 'lead:led' adds an irregular past.

    A leading '~' keeps only the past forms, for verbs that are also nouns ("the launch", "releases").
    """
    past_only = spec.startswith("~")
    base, _, irregular = spec.lstrip("~").partition(":")
    stem = base[:-1] if base.endswith("e") else base
    double = base[-1] if re.search(r"[^aeiou][aeiou][bdgmnprt]$", base) and len(base) <= 4 else ""
    forms = {base, base + ("es" if base.endswith(("s", "sh", "ch", "x")) else "s"),
             stem + double + "ed", stem + double + "ing"}
    if base.endswith("y") and base[-2] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    forms |= set(irregular.split("/")) - {""}
    if past_only:
        forms = {f for f in forms if f.endswith(("ed", "ied")) or f in irregular.split("/")}
    return sorted(forms, key=len, reverse=True)


def verbs(*specs: str, progressive: bool = True) -> str:
    forms = (f for spec in specs for f in _forms(spec) if progressive or not f.endswith("ing"))
    return r"\b(?:" + "|".join(forms) + r")\b"


# --- shared vocabulary ---------------------------------------------------------

# A quantity: a digit, a number word, a share or a multiple.
QUANTITY = (
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|sixty|hundred|thousand|million|half|third|quarter|double|doubled|twice|halved|tripled|zero|"
    r"dozen)\b|%|\bper cent\b|\bpercent\b"
)

# Outcomes, in any tense but the progressive ("we were shipping" is not a result yet).
RESULT_VERBS = verbs(
    "ship", "~launch", "deliver", "finish", "~release", "~complete", "succeed", "recover", "~sign", "~win:won",
    "~fall:fell/fallen", "~drop", "reduce", "~decrease", "~increase", "improve", "grow:grew/grown",
    "~rise:rose/risen", "~double", "~halve", "~triple", "solve", "resolve", "settle", "~promote", "~lose:lost",
    "beat:beaten", "~meet:met", "become:became", "shrink:shrank/shrunk", "~retire", progressive=False,
) + r"|\bsaved? (?:us|them|him|her|me|\d|about|around|over|more|time|money|hours|days|weeks)\b" \
    r"|\b(?:crash\w*|errors?|problems?|complaints?|pages|incidents?|they|it|this|that|threads) " \
    r"(?:stop(?:ped|s)?|went away|disappeared)\b|\bstayed\b" \
    r"|\bwent (?:from|down|up|away)\b|\bcame (?:down|back)\b|\bcut \w+(?: \w+)? (?:by|from|to|in half)\b" \
    r"|\bhit (?:the|our|every|all|its|\d)|\b(?:it|this|that|the \w+) (?:works?|worked)\b" \
    r"|\b(?:as a result|in the end|by the end|since then|the result|the outcome|the impact|ended up)\b" \
    r"|\b(?:afterwards|a (?:week|month|quarter|year) later|(?:\w+ )?(?:weeks|months|quarters) later)\b" \
    r"|\b(?:survey|review|retro|numbers?|data|metrics?|dashboard) (?:afterwards )?(?:showed|shows)\b"

# "learned about it" is not a lesson; "learned that", "taught me", "next time" are.
REFLECTION = (
    r"\blearn(?:ed|t|ing)? (?:that|to|how|a lesson|the hard way that)\b|\blessons?\b|\btaught me\b"
    r"|\bnext time\b|\bif I (?:did|do|were to do) (?:it|this) again\b|\bI would (?:do|change|have)\b"
    r"|\b(?:do|done) (?:it |things )?differently\b|\bsince then,? (?:I|we)\b|\bnow I\b|\btoday I\b|\bI still\b"
    r"|\bwhat I took away\b|\bI realised|\bI realized"
)

# Words that say "I" did something. What follows "I" must be a verb that is
# not a thought, a feeling or an auxiliary on its own.
NOT_ACTIONS = frozenset(
    """am was were 'm think thought feel felt guess believe hope wish mean meant know knew remember like
    love liked hated want wanted would 'd will 'll should could might may must can cannot can't do don't did
    didn't does doesn't never not also really just have had has 've is be been being a an the to of and or
    but so am personally honestly still only always his her my their our your its it this that there here in
    on at for with from as if when about than""".split()
)
I_ACTION = r"\bI (?:(?:also|then|first|quickly|immediately|eventually|finally|personally|just|now|always|" \
           r"actually|still|later|soon|again|only|even|once) )?(?:(?:have|had|'ve|'d) )?([a-z]+)"
WE_ACTION = r"\b(?:we|our team|the team) (?:(?:also|then|first|quickly|finally|eventually|just|now) )?" \
            r"(?:(?:have|had|'ve|are|were) )?([a-z]+)"

# A result verb straight after one of these is a noun: "delay the launch", "our first release".
NOUN_MARKERS = frozenset("the a an this that our my their his her its your first next new from before after of "
                         "for each every any".split())
# Before a verb, these make it a wish, a plan or an option rather than something that happened.
MODALS = frozenset("would could should might may will 'll 'd can to want wanted plan planned hope going or "
                   "either".split())
NEGATIONS = frozenset("not no never without nor neither hardly n't don't didn't doesn't isn't wasn't "
                      "weren't won't can't cannot couldn't wouldn't haven't hasn't".split())


@dataclass(frozen=True)
class Cue:
    """One check: the sentences that do its job, and what to say when none does."""

    key: str  # a word of the missing-point vocabulary (tests/coaching_cases.yaml)
    label: str
    patterns: tuple[str, ...]
    advice: str  # the fix, said to the person
    also: str = ""  # a second pattern the same sentence must match (e.g. a quantity)
    hedged_ok: bool = True  # False: "would/could/plan to" before the match does not count
    late: bool = False  # only the second half of the answer counts (results come last)
    applies_if: str = ""  # only when the question or its look-for points match this
    subject: bool = False  # True: a word of the question must come before the match ("replication waits ...")
    regex: re.Pattern[str] | None = None
    also_regex: re.Pattern[str] | None = None
    applies_regex: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile("|".join(f"(?:{p})" for p in self.patterns), re.I))
        if self.also:
            object.__setattr__(self, "also_regex", re.compile(self.also, re.I))
        if self.applies_if:
            object.__setattr__(self, "applies_regex", re.compile(self.applies_if, re.I))


@dataclass(frozen=True)
class Rubric:
    kind: str
    noun: str  # "story", "plan", "design"... for the headline
    checks: tuple[Cue, ...]
    stretch: str  # the next step when nothing is missing


# --- checks --------------------------------------------------------------------

SITUATION = Cue(
    "situation", "Context",
    (r"\b(?:last|that|this) (?:year|month|quarter|spring|summer|autumn|fall|winter|week|sprint)\b",
     r"\b(?:\w+|a few|a couple of) (?:years?|months?|weeks?) ago\b",
     r"\b(?:at|in|on) (?:my|our|a) (?:previous|last|current|old|first|former|new)? ?"
     r"(?:company|job|role|team|employer|startup|project|platform)\b",
     r"\bwhen (?:I|we) (?:joined|started|was|were|became|took over|arrived)\b",
     r"\b(?:we|I|the team|our team|they) (?:had|have|were|was|are|is) (?:a|an|two|three|four|five|six|\d+|about|"
     r"only|no|the|building|running|working|using)\b",
     r"\bthere (?:was|were|is|are)\b", r"\bduring\b", r"\bin (?:19|20)\d\d\b", r"\bit (?:is|was) (?:black friday|\w+day)\b",
     r"\b(?:our|my|the|his|her|their) [a-z-]+(?: [a-z-]+)? (?:was|were|kept|had|started|began|wanted|asked|needed)\b",
     r"\b(?:last|that|this|in|one|early|late) (?:january|february|march|april|may|june|july|august|september|"
     r"october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|morning|night)\b",
     r"^(?:on|during|at|in) (?:our|my|the|a) [a-z-]+"),
    "Open with a sentence of context: where you were, the team, and what was at stake.",
)
STORY = Cue(
    "story", "A real example",
    (I_ACTION, WE_ACTION),
    "The question asks for something that happened: tell one real example, what you did and how it ended, "
    "not what you would do in general.",
    hedged_ok=False,
)
# "We ..." sentences, counted against the "I ..." ones for ownership.
WE_ACTIONS = Cue("we", "What the team did", (WE_ACTION,), "", hedged_ok=False)
OWNERSHIP = Cue(
    "ownership", "What you did",
    (I_ACTION,),
    "Say what you did yourself, as 'I ...' sentences: the interviewer is hiring you, not the team.",
    hedged_ok=False,
)
RESULT = Cue(
    "result", "Result",
    (RESULT_VERBS,),
    "Finish with the result: what changed because of what you did, with a number if you have one.",
    hedged_ok=False, late=True,
)
MEASURABLE = Cue(
    "measurable", "Measured outcome",
    (RESULT_VERBS,),
    "Put a number on the result: before and after, a share, time or money saved, deadlines hit.",
    also=QUANTITY, hedged_ok=False, late=True,
)
# The look-for points ask for a lesson (and only then is a missing one worth naming).
REFLECTION_ASKED = (r"\blessons?\b|\breflects?\b|\bdifferently\b|\blearns? from\b|\bwhat they learned\b|"
                    r"\bchange in how\b|\bwould do the same\b|\bapplied (?:them|it) since\b|\bapplied to later\b")
LESSON = Cue(
    "reflection", "What you learned",
    (REFLECTION,),
    "Close with what you learned or would do differently, and where you have used it since.",
    applies_if=REFLECTION_ASKED,
)
STEPS = Cue(
    "approach", "Your plan",
    (r"\bI(?:'d| would| will|'ll)? (?:first |then )?" + verbs(
        "start", "begin:began/begun", "ask", "look", "pick", "find:found", "talk", "agree", "set", "measure",
        "involve", "make:made", "put", "check", "choose:chose/chosen", "use", "try", "spend:spent", "read",
        "write:wrote/written", "share", "decide", "keep:kept", "split", "review", "meet:met", "run:ran", "coach",
        "listen", "hold:held", "give:gave/given", "plan", "gather", "map", "interview"),
     r"\b(?:first|then|next|after that|finally|once)\b[^.]{0,80}\b(?:I|we)\b",
     r"\bmy (?:test|rule|approach|first step|plan) is\b", r"\bstep (?:one|1|two|2)\b"),
    "Lay out what you would actually do, step by step, and why in that order.",
)
MEASURE_PLAN = Cue(
    "measurable", "How you'd measure it",
    (r"\bmeasur\w*\b", r"\bmetrics?\b", r"\b(?:track|tracked|tracking)\b", r"\b(?:time|rate|share|number) of\b",
     r"\bsurvey\b", r"\bbaseline\b", r"\bfrom \S+ to \S+\b"),
    "Say how you would know it worked: the measure, taken before and after.",
    applies_if=r"measur|metric|progress|productiv|effectiv|improv|success",
)
EXAMPLE_OWN = Cue(
    "example", "An example of yours",
    (r"\b(?:when|once) I (?:did|tried|was|led|ran)\b", r"\b(?:on|in|at) my (?:last|previous|current|old) "
     r"(?:team|job|company|role|project)\b", r"\bfor example,? (?:when|at|in|on|last|our|my)\b",
     r"\b(?:last|that) (?:year|quarter|month)\b", r"\bat my (?:last|previous|current) \w+\b",
     # something the speaker did, told in the past tense: the example itself
     r"\bI (?:also |then |first )?(?:[a-z]+ed|led|ran|made|took|gave|held|met|wrote|chose|found|spent|kept|"
     r"began|told|brought|sat|went|built|sent|put|cut)\b"),
    "Back it with one real example from your own work: what you did and what happened.",
    hedged_ok=False,
)

CLARIFY = Cue(
    "clarify", "Assumptions",
    (r"\bassum\w*\b", r"\bclarif\w*\b", r"\bI(?:'d| would)? (?:first )?(?:ask|check|confirm) (?:whether|if|how|what)\b",
     r"\bdepends on whether\b", r"\bwhether\b", r"\blet's say\b|\bsay (?:there are|we have)\b", r"\bsuppose\b",
     r"\brequirements?\b", r"\bconstraints?\b", r"\bI'll take\b"),
    "State your assumptions or ask about them first: input size, the unclear cases, what 'done' means.",
    applies_if=r"\bask|clarif|assum|decides? (?:whether|how)|whether",
)
APPROACH = Cue(
    "approach", "Approach",
    (r"\b(?:hash ?(?:map|table|set)|dict(?:ionary)?|a set\b|set of|sets\b|array|list|heap|min-heap|max-heap|stack|"
     r"queue|trie|graph|tree|linked list|priority queue|sorted set|counter|bucket|index|cache|shard\w*|partition\w*|"
     r"replica\w*|load balancer|broker|workers?|table|key-value|store)\b",
     r"\b(?:BFS|DFS|breadth-first|depth-first|Dijkstra|Bellman-Ford|binary search|two pointers?|sliding window|"
     r"dynamic programming|memoi[sz]\w*|recursion|recursive|topological|Kahn|sort(?:s|ed|ing)?|merge|greedy|"
     r"single pass|one pass|k-way)\b",
     r"\b(?:def|function|class) \w+\s*\(", r"\bfor \w+(?:, \w+)? in\b"),
    "Name your approach first: the algorithm or data structure you would use, and why it fits.",
)
COMPLEXITY = Cue(
    "complexity", "Cost",
    (r"\bO\([^()\n]{1,25}\)", r"\bbig[- ]?O\b", r"\b(?:time|space|memory) complexity\b",
     r"\b(?:linear|constant|logarithmic|quadratic|exponential|log-linear)(?: time| space)?\b",
     r"\b(?:n|k|v|e|m) log (?:n|k|v|e|m)\b|\blog (?:n|k|v)\b", r"\bproportional to\b",
     r"\b(?:steps|operations|comparisons) (?:per|for each)\b|\bsteps where\b",
     r"\bcosts? (?:about|roughly|O|n\b|\d)", r"\bruns? in\b[^.]{0,30}\btime\b"),
    "Say what it costs: time and memory as the input grows (for example O(n log n)), and why.",
)
EDGE_CASES = Cue(
    "edge-cases", "Edge cases",
    (r"\b(?:edge|corner|boundary) (?:cases?|inputs?|conditions?)\b", r"\bempty\b", r"\bnull\b|\bNone\b",
     r"\bduplicates?\b", r"\bnegative\b", r"\boverflow\b", r"\binvalid\b|\bmalformed\b", r"\bties?\b",
     r"\bsingle (?:element|interval|item|cell|node)\b|\bone element\b|\bone-cell\b", r"\bunreachable\b|\bno path\b",
     r"\b(?:larger|bigger|more) than the number of\b", r"\bcapacity (?:zero|0|one|1)\b", r"\bwhat if\b",
     r"\bmissing target\b|\bnot found\b", r"\breturn(?:s)? -1\b", r"\b(?:in|out of) bounds\b|\bbounds checks?\b",
     r"\bif the (?:start|end|input|list|array|string|queue|stack|grid|tree) (?:is|are) (?:empty|a wall|blocked|"
     r"null|missing)\b", r"\bblocked\b"),
    "Name the inputs that break naive solutions (empty, one item, duplicates, the limits) and how you handle them.",
)
TESTS = Cue(
    "testing", "Tests",
    (r"\btests?\b|\btested\b|\btesting\b", r"\bparametri[sz]ed?\b", r"\bassert\b", r"\bproperty-based\b",
     r"\breproduc\w+\b", r"\bverify\b|\bconfirm\b"),
    "Say how you would prove it works: the tests you would write and the cases they cover.",
)
CAUSE = Cue(
    "cause", "The cause",
    (r"\bbecause\b", r"\bthe (?:bug|cause|problem|issue|reason) is\b", r"\bthat is why\b|\bthat's why\b",
     r"\bevaluat\w+ once\b", r"\bshares?\b|\bshared\b", r"\b(?:race|lost update)\b", r"\bwhich means\b",
     r"\bdoes not make progress\b|\bnever (?:moves|changes|terminates)\b", r"\bcaptur\w+\b", r"\blinear\b"),
    "Explain why it goes wrong, not just what to change: the interviewer wants the cause.",
)
FIX = Cue(
    "fix", "The fix",
    (r"\b(?:the )?fix (?:is|would be)\b", r"\bchange\b[^.]{0,40}\bto\b", r"\breplace\b", r"\binstead\b",
     r"\bdefault to\b", r"\buse a (?:lock|set|dict|mutex)\b", r"\b(?:def|return) \w+", r"\bmid \+ 1\b"),
    "Show the fix itself, in code or precise words.",
)
METHOD = Cue(
    "approach", "How you'd investigate",
    (r"\b(?:first|then|next)\b[^.]{0,60}\b(?:check|look|slice|compare|run|reproduce|measure|trace|profile)\w*",
     r"\b(?:check|look at|slice|compare|reproduce|profile|trace)\w*\b[^.]{0,40}\b(?:by|for|what|whether|the)\b",
     r"\b(?:EXPLAIN|traces?|logs?|metrics?|heap snapshots?|dashboards?|flame graph|profiler)\b"),
    "Walk through how you would find the cause: what you would look at first, and what each result would tell you.",
)
MEASURE_FIRST = Cue(
    "testing", "Measure first",
    (r"\bEXPLAIN\b", r"\bprofil\w*\b", r"\bmeasur\w*\b", r"\bbenchmark\w*\b", r"\bquery plan\b",
     r"\b(?:check|look at|confirm)\w*\b[^.]{0,40}\b(?:plan|where the time goes|what is slow)\b", r"\btraces?\b"),
    "Measure before changing anything: the query plan, a profile or a trace, so the fix targets the real cost.",
)
HYPOTHESES = Cue(
    "cause", "Likely causes",
    (r"\bcould be\b|\bmight be\b|\blikely\b|\bsuspects?\b|\bpoints to\b|\btells me\b|\bculprits?\b",
     r"\busual (?:causes?|suspects?)\b|\bit'?s (?:probably|likely|usually)\b|\bcandidates? (?:are|is)\b",
     r"\bbecause\b", r"\bcaused by\b|\bthe cause\b", r"\bif it'?s\b"),
    "Name the likely causes and what evidence would point to each.",
)
CONFIRM = Cue(
    "testing", "Confirm and fix",
    (r"\bconfirm\w*\b", r"\bverif\w+\b", r"\broll(?:ing)? (?:it )?back\b|\brollback\b", r"\breproduc\w+\b",
     r"\bfix(?:es|ed|ing)?\b", r"\bwatch\w* (?:the|p99|it)\b"),
    "Say how you would confirm the cause and fix it for good, not just make the symptom go away.",
)
SCALE = Cue(
    "scale", "Numbers",
    (r"\b(?:per|a|each) (?:second|day|month)\b", r"\b(?:QPS|RPS|TB|GB|MB|writes|reads|requests|users|players|"
     r"servers|events)\b[^.]{0,30}\d|\d[^.]{0,30}\b(?:writes|reads|requests|users|players|servers|events|links)\b",
     r"\bmillions?\b|\bbillions?\b", r"\bpeak\b", r"\bestimat\w+\b", r"\bload\b"),
    "Start from the numbers: requests per second, data size and growth, and let them drive the design.",
    applies_if=r"\d|\bmillions?\b|\bbillions?\b|\bthousands?\b|\bper second\b|\btraffic\b|\bscale\b|\bload\b|"
               r"\bestimat|\bvolume\b|\bsize\b",
)
COMPONENTS = Cue(
    "approach", "Design",
    (r"\b(?:API|endpoint|POST|GET|service|database|table|schema|store|cache|queue|broker|workers?|gateway|CDN|"
     r"index|replica\w*|partition\w*|shard\w*|constraint|object storage|load balancer|Redis|Kafka|WebSockets?)\b",),
    "Sketch the design: the main components, the data model and the API calls.",
)
TRADEOFFS = Cue(
    "trade-offs", "Trade-offs",
    (r"\btrade[- ]?offs?\b", r"\bat the (?:cost|expense) of\b", r"\bthe cost is\b|\bcosts? (?:more|less|extra)\b",
     r"\b(?:downside|drawback|disadvantage|limitation|overhead|catch)s?\b", r"\brather than\b", r"\bversus\b|\bvs\b",
     r"\bslower (?:writes|inserts)\b|\bextra (?:storage|disk|memory|space|latency)\b|\bmore (?:storage|memory)\b",
     r"\bbut (?:it |they )?(?:costs?|needs?|are guessable|can serve|may|might|adds?)\b",
     r"\bstale\b", r"\bwhen (?:not )?to (?:use|choose)\b|\bI'?d choose\b", r"\bcompared (?:to|with)\b",
     r"\bunlike\b", r"\bin exchange\b", r"\b(?:cheaper|simpler|faster|slower|safer) than\b"),
    "Say what your choice costs and what you would lose with the alternative.",
)
FAILURES = Cue(
    "edge-cases", "Failures and edge cases",
    (r"\bfail\w*\b", r"\b(?:goes|is|are|go) down\b", r"\boutage\b", r"\bretr(?:y|ies|ied)\b", r"\btimeouts?\b",
     r"\bexpir\w+\b", r"\bidempoten\w+\b", r"\bduplicates?\b", r"\babuse\b|\bspam\b|\brate-limit\w*\b",
     r"\bstampede\b", r"\bconflicts?\b", r"\bcancel\w*\b|\bno-shows?\b", r"\boffline\b|\breconnect\w*\b",
     r"\bdouble[- ]book\w*\b", r"\bties?\b"),
    "Cover what goes wrong: failures, retries, duplicates and the awkward cases.",
)
DEFINITION = Cue(
    "explain", "How it works",
    (r"\b(?:is|are) (?:a|an|the|basically|essentially|just|simply|when|how|like)\b", r"\bmeans?\b",
     r"\bworks? (?:by|like)\b", r"\bacts? as\b",
     r"\bunder the hood\b", r"\bdefin\w+\b", r"\bconsists? of\b", r"\b(?:gives|lets|allows|decouples|maps|waits|"
     r"copies|turns|isolates|shares?)\b"),
    "Start with what it is and how it works, in a sentence or two.",
    subject=True,
)
WHEN_TO_USE = Cue(
    "trade-offs", "Costs and when to use it",
    TRADEOFFS.patterns + (r"\bI'?d (?:use|pick|choose)\b", r"\bwhen I need\b", r"\bI would use\b", r"\bslower\b",
                          r"\bsafer\b|\bstronger\b", r"\bthe cost\b|\bcosts?\b"),
    "Say when you would use it and when not, and what it costs.",
)
EXAMPLE = Cue(
    "example", "A real example",
    (r"\b(?:in|at) my (?:last|previous|current|old) (?:job|company|team|role|project)\b", r"\bat (?:my|our) company\b",
     r"\bin my company\b", r"\bwe (?:use|used|ran|run|moved|built|migrated|deployed|had)\b", r"\bI(?:'ve| have)? "
     r"(?:used|ran|run|built|deployed|migrated|configured|debugged|set up)\b", r"\bfor example\b|\bfor instance\b",
     r"\bin production\b"),
    "Add one example from your own work: where you used it and what happened.",
)
ASSUMPTIONS = Cue(
    "clarify", "Assumptions",
    CLARIFY.patterns + (r"\babout \d", r"\broughly\b", r"\bsay \d"),
    "State your assumptions out loud before calculating: users, how often they act, and the peak.",
)
ARITHMETIC = Cue(
    "approach", "The arithmetic",
    (r"\d[^.]{0,30}(?:\bx\b|×|\*|\btimes\b|divided by|multiplied by|/)\s*\d",
     r"\d[^.]{0,40}\bso (?:that'?s|about|roughly|around)\b[^.]{0,20}\d",
     r"\b(?:which gives|that gives|comes to|works out (?:at|to)|multiply|divide)\b"),
    "Show the arithmetic step by step, with round numbers, so the interviewer can follow it.",
)
SANITY = Cue(
    "look-for", "Sanity check",
    (r"\bsanity\b", r"\bcompare[sd]? (?:it |that )?(?:with|to|against)\b", r"\bseems? (?:right|plausible|high|low)\b"),
    "Sanity-check the result against something familiar.",
)

# --- rubrics by kind of question -----------------------------------------------

RUBRICS: dict[str, Rubric] = {
    "story": Rubric(
        "story", "story", (STORY, SITUATION, OWNERSHIP, RESULT, MEASURABLE, LESSON),
        "Say it aloud in under three minutes, and prepare for the follow-up: what would you do differently?",
    ),
    "hypothetical": Rubric(
        "hypothetical", "plan", (STEPS, MEASURE_PLAN, EXAMPLE_OWN),
        "Prepare the follow-up: what would you do if the first step showed you were wrong?",
    ),
    "coding": Rubric(
        "coding", "solution", (APPROACH, COMPLEXITY, EDGE_CASES, CLARIFY),
        "Say how your solution changes if the input is a hundred times larger, and which part breaks first.",
    ),
    "debugging": Rubric(
        "debugging", "fix", (CAUSE, FIX, TESTS),
        "Prepare the follow-up: how would you stop this kind of bug coming back elsewhere in the code?",
    ),
    "investigation": Rubric(
        "investigation", "investigation", (METHOD, HYPOTHESES, CONFIRM),
        "Prepare the follow-up: what would you change so this is caught before a person notices it?",
    ),
    "design": Rubric(
        "design", "design", (SCALE, COMPONENTS, TRADEOFFS, FAILURES),
        "Say which part breaks first at ten times the load, and what you would change then.",
    ),
    "knowledge": Rubric(
        "knowledge", "explanation", (DEFINITION, WHEN_TO_USE, EXAMPLE),
        "Compare it with one alternative in two sentences, and say which you would pick for your team today.",
    ),
    "performance": Rubric(
        "performance", "answer", (MEASURE_FIRST, APPROACH, TRADEOFFS),
        "Say how you would know the fix worked in production, and what you would watch afterwards.",
    ),
    "estimate": Rubric(
        "estimate", "estimate", (ASSUMPTIONS, ARITHMETIC, SANITY),
        "Say which assumption moves the answer most, and how you would check it.",
    ),
}

# Which failed check to name first, by kind. Gates (gates.py) come before all of these.
PRIORITY: dict[str, tuple[str, ...]] = {
    "story": ("story", "ownership", "result", "measurable", "situation", "reflection"),
    "hypothetical": ("approach", "measurable", "example"),
    "coding": ("approach", "complexity", "edge-cases", "clarify"),
    "debugging": ("cause", "fix", "testing"),
    "investigation": ("approach", "cause", "testing"),
    "design": ("approach", "scale", "trade-offs", "edge-cases"),
    "knowledge": ("explain", "trade-offs", "example"),
    "estimate": ("clarify", "approach", "look-for"),
    "performance": ("approach", "testing", "trade-offs"),
}

# The kind of a question, read from its wording: the first match for the question's track wins.
KIND_BY_WORDING: tuple[tuple[str, str, str], ...] = (
    ("estimate", "technical", r"^\s*estimate\b"),
    ("debugging", "technical", r"\b(?:find the (?:bug|problems?)|explain (?:why|the cause) and (?:fix|give)|"
                               r"fix (?:it|them)\b|explain why it was slow|loops forever)"),
    ("investigation", "technical", r"\b(?:track down|find the cause|what could be wrong|find and fix|"
                                   r"how would you fix this|how would you approach this|explain why and how)\b"),
    ("performance", "technical", r"\b(?:speed it up|make it faster)\b"),
    ("design", "technical", r"^\s*design\b|\bhow do you plan capacity\b"),
    ("coding", "technical", r"^\s*(?:write|implement|refactor)\b|\bwrite (?:a|the) (?:function|code|tests?)\b"),
    ("knowledge", "technical", r"^\s*(?:explain|what happens|what is|how does)\b"),
    ("hypothetical", "leadership", r"^\s*(?:if you|how would you|how do you|what would you|suppose|imagine)\b"),
)
# When the wording says nothing, the category decides.
KIND_BY_CATEGORY: dict[str, str] = {
    "coding": "coding",
    "problem-solving": "coding",
    "system-design": "design",
    "technical-knowledge": "knowledge",
}
DEFAULT_KIND = "story"  # every leadership category

# Look-for points that are about one of the checks, so a missing one can be named with it.
LOOK_FOR_TAGS: tuple[tuple[str, str], ...] = (
    ("complexity", r"\bO\(|\bcomplexity\b|\btime and space\b|\bstates .*\btime\b"),
    ("edge-cases", r"\bempty\b|\bedge\b|\bhandles?\b.*\b(?:case|input|zero|one)\b|\bduplicates\b"),
    ("trade-offs", r"\btrade-offs?\b|\bcompar\w+\b|\bcosts?\b"),
    ("clarify", r"\basks?\b|\bclarif\w+\b|\bassumptions?\b"),
    ("measurable", r"\bmeasur\w+\b|\bmetrics?\b|\bdata\b|\bquantif\w+"),
    ("result", r"\boutcome\b|\bresult\b"),
    ("reflection", REFLECTION_ASKED),
    ("ownership", r"\bowns?\b"),
)

# The vocabulary of a technical answer: a technical question answered without any of it is on the
# wrong track (a story about a similar project, or about the people involved).
TECHNICAL_TERMS = re.compile(
    "|".join(f"(?:{p})" for p in (*APPROACH.patterns, *COMPONENTS.patterns, *COMPLEXITY.patterns, *TESTS.patterns,
                                   *EDGE_CASES.patterns,
                                   r"\b(?:algorithm|code|function|query|queries|latency|memory|CPU|thread|lock|bug|"
                                   r"deploy\w*|request|response|HTTP|TCP|DNS|TLS|SQL|JSON|API|server|client|"
                                   r"container|kernel|process\w*|replication|transaction|commit|log|trace|metric|input|output|string|"
                                   r"integer|value|key|pointer|node|edge|loop|variable|type|byte|file)s?\b")),
    re.I,
)
