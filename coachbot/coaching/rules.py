"""The rule coach: apply a question's rubric and gates to an answer.

Pure and deterministic: no I/O, no clock, no randomness. The judgement lives
in ``rubrics`` (checks by kind of question) and ``gates`` (problems that
outrank any check); this module is the loop that applies them and writes the
feedback.
"""

from __future__ import annotations

import re
from typing import Protocol

from coachbot.coaching import gates, rubrics
from coachbot.coaching.feedback import Check, Feedback, LookFor
from coachbot.coaching.rubrics import Cue, Rubric
from coachbot.coaching.text import LOOK_FOR_GENERIC, Answer, Sentence, content_stems, read, words_of

QUOTE_CHARS = 120  # longest quote shown
LATE_FROM = 0.35  # a result must come after this share of the answer
CHECK_WEIGHT = 0.45  # the score: the checks' share of it...
LOOK_FOR_WEIGHT = 0.35  # ... the share of the question's look-for points the answer touches...
LOOK_FOR_NEEDED = 0.3  # share of a point's words the answer must use to count as mentioning it
SHORT_FULL_MARKS = 60  # words; shorter answers score in proportion
DEPTH_WEIGHT = 0.2  # ... and how fully it is told: its length, up to DEPTH_WORDS
DEPTH_WORDS = 120
CODE_WORD_WEIGHT = 0.5  # a word of code counts half a word of explanation towards length
MIN_MATCHES = {"ownership": 2}  # "I ..." twice: one "I" in a team story is not ownership
VERB_CHECKS = ("result", "measurable")  # checks whose match is a verb that a determiner turns into a noun

NOT_CHECKED = {
    "technical": "The coach checks how the answer is built, not whether it is right: it cannot tell a wrong "
                 "fact, a wrong complexity or a bug in your code from a correct one.",
    "leadership": "The coach checks how the story is built, not whether your decisions were good ones: it "
                  "cannot judge the content the way an interviewer would.",
}


class QuestionLike(Protocol):
    track: str
    category: str
    text: str
    look_for: tuple[str, ...]


def kind_of(question: QuestionLike) -> str:
    for kind, track, pattern in rubrics.KIND_BY_WORDING:
        if track == question.track and re.search(pattern, question.text, re.I):
            return kind
    return rubrics.KIND_BY_CATEGORY.get(question.category, rubrics.DEFAULT_KIND)


_CLAUSE_BREAK = re.compile(r"[,;:()\u2014]|\b(?:so|but|and then|then|because|when|while)\b", re.I)


def _words_before(text: str, end: int, n: int) -> list[str]:
    """The last few words before a match, within its clause: in "we didn't know, so I chose",
    the negation belongs to another clause than "I chose"."""
    window = text[max(0, end - 60) : end]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    return words_of(window)[-n:]


def _counts(sentence: Sentence, match: re.Match[str], cue: Cue) -> bool:
    before = _words_before(sentence.text, match.start(), 4)
    if any(w in rubrics.NEGATIONS or w.endswith("n't") for w in before):
        return False
    matched = words_of(match.group(0))
    if any(w in ("never", "not", "no") for w in matched):
        return False
    if not cue.hedged_ok and any(w in rubrics.MODALS for w in before[-2:]):
        return False
    if cue.key in VERB_CHECKS and before and before[-1] in rubrics.NOUN_MARKERS:
        return False
    if match.groups() and match.group(match.lastindex or 1):
        verb = match.group(match.lastindex or 1).casefold()
        if verb in rubrics.NOT_ACTIONS or (not cue.hedged_ok and verb in rubrics.MODALS):
            return False
    return True


def _quote(answer: Answer, sentence: Sentence, match: re.Match[str]) -> str:
    """The sentence, verbatim, cut around the match on a character boundary when it is long."""
    text = " ".join(answer.raw[sentence.start : sentence.end].translate(_BLANK).split())
    if len(text) <= QUOTE_CHARS:
        return text
    at = len(" ".join(sentence.text[: match.start()].split()))
    start = 0 if at <= QUOTE_CHARS - 50 else max(0, min(at - 30, len(text) - QUOTE_CHARS))
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < at else start
    end = min(len(text), start + QUOTE_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > at else end
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


_BLANK = {c: " " for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}


def _matches(cue: Cue, answer: Answer, topic: frozenset[str]) -> list[tuple[Sentence, re.Match[str]]]:
    """Every place the answer does this check's job, in order; each sentence counts once per match."""
    assert cue.regex is not None
    found: list[tuple[Sentence, re.Match[str]]] = []
    length = max(1, len(answer.text))
    for sentence in answer.sentences:
        if sentence.copied:
            continue
        if sentence.code and cue.key not in ("approach", "fix"):
            continue
        if sentence.is_question and cue.key != "clarify":
            continue
        if cue.late and sentence.start < LATE_FROM * length:
            continue
        if cue.also_regex is not None and not cue.also_regex.search(sentence.text):
            continue
        for match in cue.regex.finditer(sentence.text):
            if cue.subject and not content_stems(words_of(sentence.text[: match.start()])) & topic:
                continue
            if _counts(sentence, match, cue):
                found.append((sentence, match))
    return found


def _evaluate(cue: Cue, answer: Answer, topic: frozenset[str], quoted: set[int]) -> Check:
    """Pass or fail one check; quote a sentence no earlier check quoted, if there is one."""
    found = _matches(cue, answer, topic)
    needed = MIN_MATCHES.get(cue.key, 1)
    if cue.key == "ownership" and 0 < len(found) < needed:
        # One "I ..." is enough when the team's "we ..." doesn't outnumber it ("I wrote down three
        # comments, booked a room and asked him first" is one "I" and three actions).
        needed = 1 if len(_matches(rubrics.WE_ACTIONS, answer, topic)) <= len(found) else needed
    if len(found) < needed:
        return Check(cue.key, cue.label, False, None, cue.advice)
    if cue.key in ("result", "measurable"):
        found = found[::-1]  # the outcome is usually told last
    sentence, match = next(((s, m) for s, m in found if s.start not in quoted), found[0])
    quoted.add(sentence.start)
    return Check(cue.key, cue.label, True, _quote(answer, sentence, match), "")


def _look_for(answer: Answer, points: tuple[str, ...], topic: frozenset[str]) -> tuple[LookFor, ...]:
    out = []
    for point in points:
        # The point's own words: those the question already uses say little about this point.
        wanted = content_stems(words_of(point), LOOK_FOR_GENERIC)
        wanted = (wanted - topic) or wanted
        hits = len(wanted & answer.stems)
        out.append(LookFor(point, bool(wanted) and hits >= max(1, round(LOOK_FOR_NEEDED * len(wanted)))))
    return tuple(out)


def _tag(point: str) -> str | None:
    for key, pattern in rubrics.LOOK_FOR_TAGS:
        if re.search(pattern, point, re.I):
            return key
    return None


def _applies(cue: Cue, question: QuestionLike) -> bool:
    if cue.applies_regex is None:
        return True
    return bool(cue.applies_regex.search(question.text + " " + " ".join(question.look_for)))


def _quality(score: float, failed: int) -> str:
    if score >= 0.8 and not failed:
        return "Strong"
    return "Good" if score >= 0.6 else "Partial" if score >= 0.4 else "Early"


def coach(answer_text: str, question: QuestionLike) -> Feedback:
    """Review an answer to ``question`` and say what it does well and what to fix first.

    Never raises because of the text; the question must have a track, a
    category, its text and its look-for points (a ``coachbot.bank.Question``).
    """
    kind = kind_of(question)
    rubric: Rubric = rubrics.RUBRICS[kind]
    answer = read(answer_text, question.text)
    found = gates.signals(answer, question.text, question.look_for)
    terms = sum(1 for s in answer.sentences if not s.copied and rubrics.TECHNICAL_TERMS.search(s.text))
    gate = gates.closing_gate(answer, found, question.track, terms)
    soft = None if gate else gates.soft_gate(answer, found)
    not_checked = NOT_CHECKED.get(question.track, NOT_CHECKED["technical"])
    if gate is not None and gate.blocks_checks:
        return Feedback(kind, gate.headline, gate.next_step, (gate.key, *gate.also), (), (),
                        tuple(LookFor(p, False) for p in question.look_for), not_checked, gate.cap,
                        answer.words, gate.key)

    topic = frozenset(content_stems(words_of(question.text)))
    quoted: set[int] = set()
    checks = [_evaluate(cue, answer, topic, quoted) for cue in rubric.checks if _applies(cue, question)]
    by_key: dict[str, Check] = {}
    for check in checks:
        by_key.setdefault(check.key, check)
    if "story" in by_key and not by_key["story"].passed:
        gate = gates.NO_STORY
        return Feedback(kind, gate.headline, gate.next_step, (gate.key,), (), (),
                        tuple(LookFor(p, False) for p in question.look_for), not_checked,
                        min(gate.cap, gate.cap * answer.words / SHORT_FULL_MARKS), answer.words, gate.key)
    look_for = _look_for(answer, question.look_for, topic)
    # A check that an unmentioned look-for point asks for outranks the rubric's usual order
    # (but not "tell a real story" or "say what you did", without which nothing else counts).
    asked = [t for t in (_tag(p.point) for p in look_for if not p.mentioned) if t]
    head = [k for k in rubrics.PRIORITY[kind] if k in ("story", "ownership")]
    order = [*head, *asked, *rubrics.PRIORITY[kind]]
    failed = []
    for k in order:
        if k in by_key and not by_key[k].passed and by_key[k] not in failed:
            failed.append(by_key[k])
    failed += [c for c in checks if not c.passed and c not in failed]
    if "result" in by_key and not by_key["result"].passed:
        # No result: "put a number on the result" would say the same thing again.
        failed = [c for c in failed if c.key != "measurable"]
    passed = tuple(c for c in checks if c.passed)
    coverage = sum(p.mentioned for p in look_for) / len(look_for) if look_for else 1.0
    told = answer.words + CODE_WORD_WEIGHT * answer.code_words
    depth = min(1.0, told / DEPTH_WORDS)
    score = (CHECK_WEIGHT * (len(passed) / len(checks) if checks else 1.0) + LOOK_FOR_WEIGHT * coverage
             + DEPTH_WEIGHT * depth)
    score *= min(1.0, told / SHORT_FULL_MARKS)

    missing_point = next((p for p in look_for if not p.mentioned), None)
    if soft is not None:
        score = min(score, soft.cap)
        first = failed[0] if failed else None
        focus = (soft.key, first.key) if first else (soft.key,)
        step = soft.next_step + (f" Start with this: {first.advice}" if first else "")
        fixes = tuple(failed[1:])
    elif failed:
        focus, step, fixes = (failed[0].key,), failed[0].advice, tuple(failed[1:])
    elif missing_point is not None:
        # Nothing the coach checks is missing, so this is a stretch; the look-for point is one
        # the answer shares few words with, which may mean it is left out.
        tag = _tag(missing_point.point)
        focus = ("none", "look-for", tag) if tag else ("none", "look-for")
        step = ("Interviewers also look for this, and your answer doesn't seem to touch it: "
                f"{missing_point.point[:1].lower() + missing_point.point[1:]}.")
        fixes = ()
    else:
        focus, step, fixes = ("none",), rubric.stretch, ()

    score = round(max(0.0, min(1.0, score)), 3)
    if soft is not None:
        headline = soft.headline
    elif not failed and focus == ("none",):
        headline = f"A strong {rubric.noun}: it does everything the coach checks for."
    else:
        headline = f"{_quality(score, len(failed))} {rubric.noun}: {len(passed)} of {len(checks)} checks passed."
    if headline.startswith("Early "):
        headline = f"An early draft: {len(passed)} of {len(checks)} checks passed."
    return Feedback(kind, headline, step, focus, fixes, passed, look_for, not_checked, score, answer.words,
                    soft.key if soft else None)
