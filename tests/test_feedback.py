"""Tests for coachbot.feedback: rule-based coaching feedback on practice answers."""

from __future__ import annotations

import unicodedata
from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachbot.feedback import Check, Feedback, coach

# --------------------------------------------------------------------------
# Sample answers, written the way people actually type them
# --------------------------------------------------------------------------

STRONG_STAR = """\
Last year at my previous company I led a team of six engineers that owned the \
checkout service. Releases were painful: every deploy needed a manual checklist \
and we shipped only every other week. My goal was to get us to daily releases \
without hurting stability. I proposed a plan to the engineering manager and we \
agreed on a six-week timeline. I set up a CI pipeline with automated smoke tests, \
and I wrote a runbook for rollbacks. I met with each engineer one to one to find \
out which manual steps they feared most, and I paired with the two people who \
knew the legacy scripts best. When our first automated release failed, I ran a \
blameless review the same day and we fixed the gap in the tests. As a result, we \
reduced deploy time from 2 hours to 15 minutes and moved from fortnightly to daily \
releases. Change failure rate dropped by 30% over the next quarter. I learned that \
people adopt automation faster when they help design it.
"""

WE_ONLY = """\
Last year our team needed to migrate the billing system to a new payment provider \
before the old contract ran out. We had three months and a lot of unknowns. We \
decided to split the work into four milestones and we set up a weekly demo with \
finance so nobody was surprised. We wrote adapters for both providers and ran them \
side by side for a month, comparing every transaction. We found a rounding bug in \
our refund flow early, which saved us from a messy launch. Our product manager kept \
the stakeholders informed and we agreed on a freeze two weeks before the cutover. \
In the end we shipped the migration a week early, with zero failed payments during \
the switch, and we brought processing fees down by 12%. It was a great team effort \
and we were proud of it.
"""

NO_RESULT = """\
When I joined my current team as tech lead, we had two competing proposals for \
rebuilding the search service: one engineer wanted Elasticsearch, another wanted \
to stay on Postgres full-text search. The debate had gone on for weeks and people \
were frustrated. My job was to get to a decision the whole team could commit to. \
I asked both engineers to write a one-page proposal with the same headings: cost, \
operational burden, migration risk and how it would handle our biggest customers. \
I scheduled a meeting where each of them presented, and I made sure the quieter \
people on the team spoke before the senior ones. I also talked to the support lead \
to understand which search complaints customers raised most often. After that I \
decided we would stay on Postgres for now and revisit the question in the spring, \
and I wrote up the reasoning in a short decision record so the team could see why.
"""

NO_NUMBERS = """\
At my previous company the team was split between London and Singapore, and the \
two halves barely talked to each other. Handovers happened in long, angry email \
threads and the same bugs got fixed twice. I was responsible for the platform \
team's roadmap, so I needed to fix how the two offices worked together. I proposed \
a short overlap call at the one hour that suited both time zones, and I organised \
it so each side presented what they had finished and what was blocked. I also \
wrote a handover template with the open incidents, the risky deploys and who to \
call, and I asked the two most senior engineers to pair on the nastiest bug so they \
got to know each other. In the end the email threads stopped almost completely and \
people began to ask each other for help directly. What I learned is that a little \
face time fixes more than any process document.
"""

SWAMPED = """\
Our team owned the notifications service and we were constantly paged at night. \
We had a rota but we kept burning people out, so we decided to change it. We \
looked at our alerts together and we removed the ones nobody acted on, and we \
moved the noisy batch jobs to business hours. I suggested a weekly review of every \
page. We kept it up for a quarter and our pages dropped by 60%, which the whole \
team was happy about, and we still run that review today with the same format \
because it works well for everybody involved in the rota.
"""

ONE_LINER = "I would just explain it clearly to them."

RAMBLING = """\
So, this is a story from a while back, well, actually it was last year, at my \
previous company, which was a mid-sized fintech, and I think it is a good example, \
although there are a few others I could have picked, of how I handle a team that is \
struggling. The team was about eight people, a mix of backend and mobile engineers, \
and honestly the mood was not great, people were tired, there had been a lot of \
reorganisations, and the roadmap kept changing because leadership could not agree on \
priorities, which, to be fair, is something I have seen at almost every place I have \
worked at, so it was not a surprise to me, but it was still hard for the team. My \
goal was to get the team delivering predictably again, but also, and this is the part \
I cared about most, to get people to enjoy the work again, because I think those two \
things are linked, although I know not everyone agrees with that, and my manager at \
the time was more focused on the delivery part, which is fair enough, that is his job. \
So the first thing, or one of the first things, I did was talk to everyone, one to \
one, and I asked them what was getting in the way, and I got a lot of different \
answers, some about the roadmap, some about the code base, which was old and had a \
lot of tests that failed randomly, and some about meetings, because we had a lot of \
meetings, probably too many, and some of them were not really useful, like the \
weekly status meeting where everyone read out their tickets, which I always found a \
bit pointless, to be honest, and I think other people did too but nobody said it. \
Then I proposed to my manager that we protect the team from the roadmap changes for \
a while, and he was not keen at first, he wanted to keep the flexibility, which I \
understand, but after a couple of conversations he agreed to try it for a quarter, \
as long as we kept a small buffer for urgent requests, which seemed reasonable. I \
also set up a fortnightly planning session where the team picked the work \
themselves, within the priorities, and I cancelled the weekly status meeting and \
replaced it with a short written update in Slack, which people liked a lot more, and \
I started a small rotation so one person each sprint fixed flaky tests instead of \
building features, which at first felt like a waste to some people but later they \
saw the value of it. There were some bumps along the way, of course, like when a big \
customer escalated and we had to drop everything for a week, and I had to explain to \
the team why we were breaking our own rule, and I think I could have handled that \
conversation better, I was a bit defensive. But overall it went well. As a result, \
over the next quarter we hit 90% of our sprint commitments, up from about 50%, the \
flaky test count went down from around 40 to 5, and in the next engagement survey \
the team's score improved by 20 points, which was the biggest jump in the department \
that year, and a couple of people who had been thinking about leaving decided to \
stay, which for me was the real win. I learned a lot from it, mostly that people \
need some stability and some say in their work, and that you have to fight for both, \
and that a lot of the problems people complain about are really symptoms of the same \
thing, which is a lack of control, and I have tried to apply that in every team since \
then, with mixed results, but mostly good ones, I would say, and I would do most of \
it again, though probably faster and with fewer meetings at the start.
"""

GOOD_CODING = """\
Assuming the input is a list of up to 10^5 integers that may contain duplicates and \
negatives, I'd first ask whether we need the indices or just the values. My approach \
is a single pass with a hash map from value to index: for each number, check if \
target minus the number is already in the map, and if so return both indices; \
otherwise store it. That is O(n) time and O(n) memory, versus O(n log n) time and \
O(1) extra memory if we sorted and used two pointers, which would lose the original \
indices. For edge cases I'd test an empty list, a list with one element, duplicates \
like [3, 3] with target 6, and negative numbers. I'd write unit tests for each of \
those plus a case with no valid pair.
"""

CODE_ONLY = """\
def two_sum(nums, target):
    seen = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
    return []
"""

GOOD_DESIGN = """\
Let me clarify the requirements first: how many new links per day, and what read \
traffic do we expect? I'll assume 100 million redirects a day, mostly reads, and \
that links never expire. The design is a stateless API behind a load balancer, a \
key-value store sharded by the short code, and a cache in front of it for hot links. \
To generate codes I would use a counter per shard encoded in base62, which avoids \
collisions without a lookup. The main trade-off is the cache: it cuts read latency \
to a few milliseconds but costs memory and can serve stale data if a link is \
deleted. If a shard goes down, the API should fail fast with a timeout and retry on \
a replica, and I would load-test the redirect path before launch.
"""

SLOW_QUERY = """\
The query is slow because it scans the whole orders table to find a customer's \
recent orders. I would add a composite index on customer_id and created_at, so the \
database can jump straight to one customer's rows already sorted by date. That turns \
a full scan, which grows with the size of the table, into a lookup that is roughly \
logarithmic plus the handful of rows returned. The cost is a little extra disk space \
and slightly slower writes, because every insert must also update the index, but \
for a read-heavy table that is a good deal.
"""

QUESTIONS_ONLY = """\
Before I start, can I ask a few questions? Is the input already sorted, and roughly \
how big can it get? Should I optimise for speed or for readability?
"""

EXPLAIN_DOCKER = """\
Docker is a tool for packaging an application with everything it needs to run: code, \
runtime, libraries and config, into an image. Under the hood it uses Linux namespaces \
and cgroups, so a container is just an isolated process on the host kernel rather \
than a full virtual machine. That makes containers start in seconds and keeps \
environments identical from a laptop to production. The downside is that containers \
share the kernel, so isolation is weaker than a VM, and images can grow large if you \
are careless with layers. I would not use it for a tiny script that runs once. In my \
last project we used Docker Compose to run the API, Postgres and Redis locally, which \
took onboarding from a day to an hour.
"""

SHALLOW_DOCKER = "Docker is a container thing. You put your app in it and ship it."

STAR_KEYS = ("situation", "task", "action", "result", "measurable", "ownership", "length")
TECHNICAL_KEYS = ("clarify", "approach", "complexity", "testing", "length")
KNOWLEDGE_KEYS = ("explain", "tradeoffs", "example", "length")

# (id, text, track, category, passed keys, word count). Word counts are `wc -w`,
# except CODE_ONLY: 27 tokens for `wc -w`, of which 6 ("=", "{}", "-", "-", "=",
# "[]") contain no letter or digit and so are not words.
CASES = [
    ("strong-star", STRONG_STAR, "leadership", "team-management", set(STAR_KEYS), 172),
    (
        "we-only",
        WE_ONLY,
        "leadership",
        "project-management",
        {"situation", "task", "action", "result", "measurable", "length"},
        142,
    ),
    (
        "no-result",
        NO_RESULT,
        "leadership",
        "decision-making",
        {"situation", "task", "action", "ownership", "length"},
        157,
    ),
    (
        "no-numbers",
        NO_NUMBERS,
        "leadership",
        "communication",
        {"situation", "task", "action", "result", "ownership", "length"},
        157,
    ),
    (
        "swamped-by-we",
        SWAMPED,
        "leadership",
        None,
        {"situation", "action", "result", "measurable"},
        102,
    ),
    ("one-liner", ONE_LINER, "leadership", "communication", {"ownership"}, 8),
    (
        "rambling",
        RAMBLING,
        "leadership",
        "vision-strategy",
        {"situation", "task", "action", "result", "measurable", "ownership"},
        664,
    ),
    ("good-coding", GOOD_CODING, "technical", "coding", set(TECHNICAL_KEYS), 133),
    ("code-only", CODE_ONLY, "technical", "coding", {"approach"}, 21),
    ("good-design", GOOD_DESIGN, "technical", "system-design", set(TECHNICAL_KEYS), 134),
    (
        "slow-query",
        SLOW_QUERY,
        "technical",
        "problem-solving",
        {"approach", "complexity", "length"},
        97,
    ),
    ("questions-only", QUESTIONS_ONLY, "technical", "problem-solving", {"clarify"}, 29),
    ("explain-docker", EXPLAIN_DOCKER, "technical", "technical-knowledge", set(KNOWLEDGE_KEYS), 127),
    ("shallow-docker", SHALLOW_DOCKER, "technical", "technical-knowledge", {"explain"}, 14),
]


ANSWER_NAMES = {text: name for name, text, *_ in CASES}


def param_id(value: object) -> str:
    """Short test ids: sample answers by name, other values as themselves."""
    if isinstance(value, str):
        return ANSWER_NAMES.get(value, value[:30])
    return str(value)


def check(feedback: Feedback, key: str) -> Check:
    (found,) = [c for c in feedback.checks if c.key == key]
    return found


def normalise(text: str) -> str:
    """Control characters to spaces, whitespace runs to one space."""
    blanked = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(blanked.split())


# --------------------------------------------------------------------------
# Table-driven: which checks pass for each sample answer
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "track", "category", "expected", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_sample_answers(text: str, track: str, category: str | None, expected: set[str], words: int) -> None:
    feedback = coach(text, track, category)
    passed = {c.key for c in feedback.checks if c.passed}
    assert passed == expected
    assert feedback.word_count == words
    assert feedback.score == len(expected)
    for c in feedback.checks:
        # Every check explains itself: passed checks cite the answer (length
        # aside), failed ones cite nothing and say what to add.
        assert c.advice.strip()
        if c.key != "length":
            assert bool(c.evidence) == c.passed, c.key


@pytest.mark.parametrize(
    ("text", "track", "category", "keys", "kind"),
    [
        (STRONG_STAR, "leadership", None, STAR_KEYS, "star"),
        (GOOD_CODING, "technical", "coding", TECHNICAL_KEYS, "technical"),
        (GOOD_DESIGN, "technical", None, TECHNICAL_KEYS, "technical"),
        (EXPLAIN_DOCKER, "technical", "technical-knowledge", KNOWLEDGE_KEYS, "technical"),
    ],    ids=param_id,
)
def test_kind_and_check_order(
    text: str, track: str, category: str | None, keys: tuple[str, ...], kind: str
) -> None:
    feedback = coach(text, track, category)
    assert feedback.kind == kind
    assert tuple(c.key for c in feedback.checks) == keys
    assert feedback.total == len(keys)


@pytest.mark.parametrize(
    ("text", "track", "category", "key", "phrase"),
    [
        (STRONG_STAR, "leadership", None, "situation", "Last year at my previous company"),
        (STRONG_STAR, "leadership", None, "task", "My goal was to get us"),
        (STRONG_STAR, "leadership", None, "action", "I proposed a plan"),
        (STRONG_STAR, "leadership", None, "result", "reduced deploy time"),
        (STRONG_STAR, "leadership", None, "measurable", "from 2 hours to 15 minutes"),
        (STRONG_STAR, "leadership", None, "measurable", "30%"),
        (STRONG_STAR, "leadership", None, "ownership", "I led a team"),
        (WE_ONLY, "leadership", None, "action", "We decided"),
        (WE_ONLY, "leadership", None, "measurable", "three months"),
        (RAMBLING, "leadership", None, "measurable", "90%"),
        (GOOD_CODING, "technical", "coding", "clarify", "Assuming"),
        (GOOD_CODING, "technical", "coding", "approach", "approach"),
        (GOOD_CODING, "technical", "coding", "complexity", "O(n)"),
        (GOOD_CODING, "technical", "coding", "testing", "duplicates"),
        (GOOD_DESIGN, "technical", None, "clarify", "clarify the requirements"),
        (GOOD_DESIGN, "technical", None, "complexity", "trade-off"),
        (CODE_ONLY, "technical", "coding", "approach", "def two_sum("),
        (QUESTIONS_ONLY, "technical", None, "clarify", "Is the input already sorted"),
        (EXPLAIN_DOCKER, "technical", "technical-knowledge", "explain", "Under the hood"),
        (EXPLAIN_DOCKER, "technical", "technical-knowledge", "tradeoffs", "downside is that"),
        (EXPLAIN_DOCKER, "technical", "technical-knowledge", "example", "In my last project"),
    ],
    ids=param_id,
)
def test_evidence_quotes_the_answer(text: str, track: str, category: str | None, key: str, phrase: str) -> None:
    evidence = check(coach(text, track, category), key).evidence
    assert any(phrase in quote for quote in evidence), evidence
    assert 1 <= len(evidence) <= 3
    assert all(0 < len(quote) <= 60 and quote == quote.strip() for quote in evidence)


def test_evidence_keeps_the_original_case_and_spacing() -> None:
    text = "LAST   YEAR\nthe team was on fire.  I  PROPOSED\ta fix"
    feedback = coach(text, "leadership")
    assert check(feedback, "situation").evidence[0].startswith("LAST YEAR")
    assert check(feedback, "action").evidence[0].startswith("I PROPOSED a fix")


def test_evidence_is_capped_at_three_distinct_phrases() -> None:
    text = "I proposed this. I proposed that. I wrote docs. I set up CI. I ran demos. I proposed this."
    evidence = check(coach(text, "leadership"), "action").evidence
    assert evidence == ("I proposed this", "I proposed that", "I wrote docs")


# --------------------------------------------------------------------------
# Headline and next step
# --------------------------------------------------------------------------


def test_headline_for_a_complete_star_story() -> None:
    feedback = coach(STRONG_STAR, "leadership", "team-management")
    assert feedback.headline == "Solid STAR story: 4 of 4 parts, with a measurable result (7 of 7 checks)."
    assert feedback.next_step.startswith("Stretch goal:")


def test_headline_and_next_step_when_the_result_is_missing() -> None:
    feedback = coach(NO_RESULT, "leadership", "decision-making")
    assert feedback.headline == "Promising STAR story: 3 of 4 parts, no measurable result yet (5 of 7 checks)."
    # The missing result matters more than the missing number.
    assert feedback.next_step == check(feedback, "result").advice
    assert "result" in feedback.next_step


def test_next_step_for_a_we_story_is_about_ownership() -> None:
    feedback = coach(WE_ONLY, "leadership")
    assert feedback.next_step == check(feedback, "ownership").advice


def test_next_step_for_a_one_liner_asks_for_more() -> None:
    feedback = coach(ONE_LINER, "leadership")
    assert "8 words" in feedback.next_step
    assert feedback.next_step == check(feedback, "length").advice


def test_next_step_for_a_long_answer_asks_to_trim() -> None:
    feedback = coach(RAMBLING, "leadership")
    assert feedback.next_step == check(feedback, "length").advice
    assert "664 words" in feedback.next_step
    assert "trim" in feedback.next_step


def test_technical_headline_names_what_is_missing() -> None:
    feedback = coach(SLOW_QUERY, "technical", "problem-solving")
    assert feedback.headline == (
        "Partial technical answer: 3 of 5 checks passed; missing clarifying questions and edge cases/testing."
    )
    assert feedback.next_step == check(feedback, "clarify").advice


def test_bare_code_is_asked_to_talk_it_through() -> None:
    feedback = coach(CODE_ONLY, "technical", "coding")
    assert feedback.next_step == check(feedback, "length").advice
    assert "21 words" in feedback.next_step


def test_explained_code_without_complexity_is_pointed_at_complexity() -> None:
    walkthrough = (
        "I would talk the interviewer through it line by line, explaining how the "
        "dictionary remembers each number it has already seen, so the matching partner "
        "is found as soon as it shows up.\n" + CODE_ONLY
    )
    feedback = coach(walkthrough, "technical", "coding")
    assert {c.key for c in feedback.checks if c.passed} == {"approach"}
    assert feedback.next_step == check(feedback, "complexity").advice
    assert "O(n log n)" in feedback.next_step


def test_knowledge_headline() -> None:
    assert coach(EXPLAIN_DOCKER, "technical", "technical-knowledge").headline == (
        "Strong explanation: 4 of 4 checks passed."
    )
    shallow = coach(SHALLOW_DOCKER, "technical", "technical-knowledge")
    assert shallow.headline.startswith("Thin explanation: 1 of 4 checks passed; missing")
    assert shallow.next_step == check(shallow, "length").advice


# --------------------------------------------------------------------------
# Ownership: counting "I" and "we"
# --------------------------------------------------------------------------


def test_ownership_advice_names_the_counts_when_there_is_no_i() -> None:
    advice = check(coach(WE_ONLY, "leadership"), "ownership").advice
    # our, We, We, we, We, We, our, us, Our, we, we, we, we: counted by hand.
    assert "'we/our/us' 13 times" in advice
    assert "'I/me/my' 0 times" in advice


def test_ownership_advice_names_the_counts_when_we_swamps_i() -> None:
    feedback = coach(SWAMPED, "leadership", "team-management")
    ownership = check(feedback, "ownership")
    assert not ownership.passed
    # Our, we, We, we, we, We, our, we, we, We, our, we: 12; a single "I".
    assert "'we/our/us' 12 times" in ownership.advice
    assert "'I/me/my' only once" in ownership.advice
    assert ownership.evidence == ()


def test_ownership_praise_names_the_counts() -> None:
    ownership = check(coach(STRONG_STAR, "leadership"), "ownership")
    assert ownership.passed
    # I x8 (led, proposed, set up, wrote, met, paired, ran, learned) + my x2;
    # we x5 (shipped, agreed, fixed, reduced, "our first") + "us" once.
    assert "'I/me/my' 10 times" in ownership.advice
    assert "'we/our/us' 6 times" in ownership.advice


def test_we_inside_other_words_is_not_counted() -> None:
    text = "We were told the weekly answer was wrong. Were we sure? I was. Owen, Dwe, Ewer."
    ownership = check(coach(text, "leadership"), "ownership")
    assert "'we/our/us' twice" in ownership.advice
    assert "'I/me/my' once" in ownership.advice
    assert ownership.passed


def test_i_inside_other_words_is_not_counted() -> None:
    text = "We built AI tooling in Italy; it is iOS only and it did I/O."
    ownership = check(coach(text, "leadership"), "ownership")
    assert "'I/me/my' once" in ownership.advice  # only the standalone "I" of "I/O"
    assert "'we/our/us' once" in ownership.advice


def test_curly_apostrophes() -> None:
    leadership = coach("I’m proud of what we’re building, and we’ve grown since I’d joined.", "leadership")
    ownership = check(leadership, "ownership")
    assert ownership.passed
    assert "'I/me/my' twice" in ownership.advice
    assert "'we/our/us' twice" in ownership.advice
    assert ownership.evidence[0].startswith("I’m proud")

    technical = coach("I’d ask about the input size first; I’ll use a hash map.", "technical")
    assert any("I’d ask" in q for q in check(technical, "clarify").evidence)
    assert any("I’ll use a hash map" in q for q in check(technical, "approach").evidence)


# --------------------------------------------------------------------------
# Length boundaries
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("track", "category", "words", "passes", "hint"),
    [
        ("leadership", None, 119, False, "short"),
        ("leadership", None, 120, True, "fits"),
        ("leadership", None, 450, True, "fits"),
        ("leadership", None, 451, False, "trim"),
        ("technical", None, 59, False, "thin"),
        ("technical", None, 60, True, "right"),
        ("technical", "technical-knowledge", 500, True, "right"),
        ("technical", "technical-knowledge", 501, False, "trim"),
    ],
)
def test_length_boundaries(track: str, category: str | None, words: int, passes: bool, hint: str) -> None:
    text = " ".join(["practice"] * words)
    feedback = coach(text, track, category)
    length = check(feedback, "length")
    assert feedback.word_count == words
    assert length.passed is passes
    assert f"{words} words" in length.advice
    assert hint in length.advice


def test_word_count_ignores_punctuation_and_emoji_only_tokens() -> None:
    feedback = coach("Well — I   shipped it 🚀 !\n\nDone.", "leadership")
    assert feedback.word_count == 5


# --------------------------------------------------------------------------
# Empty and hostile input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n", "\x00\x07\x1b", "🚀🔥 ✨", "— … !!"])
@pytest.mark.parametrize(("track", "category"), [("leadership", None), ("technical", None), ("technical", "technical-knowledge")])
def test_empty_answers_fail_every_check_with_a_helpful_headline(text: str, track: str, category: str | None) -> None:
    feedback = coach(text, track, category)
    assert feedback.word_count == 0
    assert feedback.score == 0
    assert feedback.total == len(feedback.checks) > 0
    assert all(not c.passed and c.evidence == () for c in feedback.checks)
    assert feedback.headline.startswith("Nothing to review yet")
    assert feedback.next_step.startswith("Write")


def test_same_input_same_output() -> None:
    first = [coach(text, track, category) for _, text, track, category, _, _ in CASES]
    coach("something else entirely", "technical")
    second = [coach(text, track, category) for _, text, track, category, _, _ in CASES]
    assert first == second


def test_results_are_immutable() -> None:
    feedback = coach(STRONG_STAR, "leadership")
    with pytest.raises(FrozenInstanceError):
        feedback.headline = "changed"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        feedback.checks[0].passed = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        (STRONG_STAR * 60)[:40_000],
        "a" * 40_000,
        "I " * 20_000,
        "is " * 13_333,
        "from 1" * 6_666,
        "O(" * 20_000,
        "first " * 6_666,
        "?" * 40_000,
        "\x00 " * 20_000,
        "🙂 we’re " * 5_000,
    ],
    ids=["story", "one-word", "i", "is", "from", "O(", "first", "question-marks", "nul", "emoji"],
)
@pytest.mark.parametrize("track", ["leadership", "technical"])
def test_forty_thousand_characters(text: str, track: str) -> None:
    feedback = coach(text, track)
    assert len(text) <= 40_000
    length = check(feedback, "length")
    assert length.passed is False
    assert all(len(c.evidence) <= 3 for c in feedback.checks)


@pytest.mark.parametrize(
    ("track", "category"),
    [("sales", None), ("Leadership", None), ("technical", "team-management"), ("leadership", "coding"), ("technical", "cooking")],
)
def test_unknown_track_or_category_is_rejected(track: str, category: str | None) -> None:
    with pytest.raises(ValueError):
        coach(STRONG_STAR, track, category)


# --------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------

TRACK_CATEGORIES = [
    ("leadership", None),
    ("leadership", "team-management"),
    ("leadership", "project-management"),
    ("leadership", "communication"),
    ("leadership", "vision-strategy"),
    ("leadership", "decision-making"),
    ("technical", None),
    ("technical", "coding"),
    ("technical", "system-design"),
    ("technical", "problem-solving"),
    ("technical", "technical-knowledge"),
]

# Fragments that trigger the rules, mixed with awkward characters, so the
# generated answers actually produce evidence to check.
FRAGMENTS = st.sampled_from(
    [
        "I proposed ",
        "we ",
        "We’re ",
        "I’d ask ",
        "last year ",
        "my goal was ",
        "as a result ",
        "reduced ",
        "30% ",
        "from 2 weeks to 3 days ",
        "$40k ",
        "O(n log n) ",
        "hash map ",
        "first ",
        " then ",
        "edge case ",
        "None ",
        "is a ",
        "under the hood ",
        "trade-off ",
        "in my last project ",
        "is it sorted? ",
        ". ",
        ", ",
        "\n",
        "\t",
        "\x00",
        "\u200b",
        "🙂",
        "é",
        "’",
        "(",
        ")",
    ]
)
ANSWERS = st.one_of(st.text(), st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=60).map("".join))


@settings(database=None, max_examples=300, deadline=None)
@given(text=ANSWERS, track_category=st.sampled_from(TRACK_CATEGORIES))
def test_coach_never_raises_and_only_quotes_the_answer(text: str, track_category: tuple[str, str | None]) -> None:
    track, category = track_category
    feedback = coach(text, track, category)
    assert feedback.kind == ("star" if track == "leadership" else "technical")
    assert 0 <= feedback.score <= feedback.total
    assert feedback.headline and "\n" not in feedback.headline
    assert feedback.next_step
    haystack = normalise(text)
    for c in feedback.checks:
        assert len(c.evidence) <= 3
        for quote in c.evidence:
            assert 0 < len(quote) <= 60
            assert quote in haystack, (quote, haystack)
