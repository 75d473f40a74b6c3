"""Gates: the answer problems that matter more than any single check.

The closing gates run before the checks (NO_STORY right after the story
check). The first gate that closes decides the headline and the next step, and
caps the score: an answer that repeats the question, talks about something
else, or strings labels and keywords together has not earned the credit its
keywords would otherwise collect, and its checks are not shown. The soft gates
(too short, rambling) cap the score and lead the next step, and the checks
still run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coachbot.coaching import topics
from coachbot.coaching.text import FUNCTION_WORDS, LOOK_FOR_GENERIC, Answer, content_stems, words_of

PASTED_SHARE = 0.5  # half the answer's words sit in 4-word runs copied from the question
SENTENCE_MIN_WORDS = 4  # fewer words than this is a label, not a sentence
SENTENCE_MIN_FUNCTION_SHARE = 0.15  # English sentences are 40-50% function words; keyword lists almost none
REAL_SHARE = 0.5  # at least half the words must be in real sentences
STRAY_NUMBERS = 3  # numbers outside sentences, measuring nothing
# Off topic, technical: at most TECHNICAL_QUESTION_WORDS words of the question itself appear in the
# answer, and at most this many distinct words of the question and its look-for points, or this
# share of them, whichever is larger; technical answers name their subject ("a message queue ..."). Stories share few words with their question even when they fit it ("I decide to
# give this work to Marta" for "a time you delegated"), so a story is off topic only when it shares
# no word with the question itself and at most STORY_STRAY_WORDS with all its look-for points.
OFF_TOPIC_TECHNICAL_WORDS = (2, 0.15)
TECHNICAL_QUESTION_WORDS = 1
STORY_STRAY_WORDS = 1
SHORT_WORDS = 25  # below this, there is too little to judge
RAMBLING_WORDS = 180  # a long answer...
RAMBLING_SENTENCE = 38  # ... whose sentences average this many words is rambling
TOO_LONG_WORDS = 520  # over four minutes spoken

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Gate:
    key: str  # missing-point vocabulary
    headline: str
    next_step: str
    cap: float  # the most this answer can score, as a share of the maximum
    blocks_checks: bool  # True: the checks' results are not shown (they would be false praise)
    also: tuple[str, ...] = ()  # other vocabulary words the next step names


EMPTY = Gate("detail", "Nothing to review yet.",
             "Write your answer out in full sentences, as you would say it, and send it again.", 0.0, True)
PASTED = Gate("pasted", "This repeats the question rather than answering it.",
              "Answer in your own words: the coach and the interviewer need your example or your reasoning, "
              "not the question back.", 0.0, True)
STUFFED = Gate("substance", "This is a list of labels and keywords, not an answer.",
               "Write it as sentences that say what happened or how the solution works. "
               "Keywords and numbers earn nothing on their own.", 0.05, True)
OFF_TOPIC_STORY = Gate("relevance", "This answer seems to be about something else.",
                       "Reread the question and answer that one. If your example really fits, say in the first "
                       "sentence how it connects to what was asked.", 0.05, True)
OFF_TOPIC_TECHNICAL = Gate("relevance", "This answer seems to be about something else.",
                           "Reread the question and answer that one: name the approach you would take to this "
                           "problem and walk through it.", 0.05, True, ("approach",))
WRONG_TRACK = Gate("approach", "This doesn't get to the technical answer yet.",
                   "Answer the technical question itself: the approach you would take, how it works and what "
                   "it costs. A story about a similar project, or about the people involved, doesn't show how "
                   "you would solve it.", 0.1, True)
SHORT = Gate("detail", "Too short to judge yet.",
             "Say more: a few sentences are not enough for an interviewer to judge.", 0.5, False)
# A rambling answer is capped below a tidy middling one: an interviewer stops following it.
RAMBLING = Gate("concise", "The point gets lost in the telling.",
                "Cut it to the thread that answers the question: short sentences, the background in one of "
                "them, and the ending clear.", 0.45, False)
# A story was asked for, and the answer talks in general ("I would...", "code reviews should...").
NO_STORY = Gate("story", "This talks in general; the question asks for something that happened.",
                "Tell one real example: the situation, what you did, and how it ended. What you would do "
                "in general doesn't show what you have done.", 0.35, True)


@dataclass(frozen=True)
class Signals:
    """What the gates measured, kept for tests and for the docs."""

    copied_share: float
    real_share: float
    stray_numbers: int
    topic_hits: int  # distinct words of the question and its look-for points found in the answer
    topic_words: int
    question_hits: int  # of which words of the question itself
    mean_sentence: float


def is_real_sentence(words: tuple[str, ...]) -> bool:
    if len(words) < SENTENCE_MIN_WORDS:
        return False
    return sum(w in FUNCTION_WORDS for w in words) >= SENTENCE_MIN_FUNCTION_SHARE * len(words)


def signals(answer: Answer, question_text: str, look_for: tuple[str, ...]) -> Signals:
    prose = [s for s in answer.sentences if not s.code]
    total = sum(len(s.words) for s in prose)
    real = [s for s in prose if is_real_sentence(s.words)]
    real_words = sum(len(s.words) for s in real)
    real_ids = {id(s) for s in real}
    stray = sum(len(_NUMBER.findall(s.text)) for s in prose if id(s) not in real_ids)
    asked = topics.expand(content_stems(words_of(question_text)))
    topic = asked | content_stems(words_of(" ".join(look_for)), LOOK_FOR_GENERIC)
    hits = len(answer.stems & topic)
    question_hits = len(answer.stems & asked)
    return Signals(
        copied_share=answer.copied_share,
        real_share=(real_words / total) if total else 0.0,
        stray_numbers=stray,
        topic_hits=hits,
        topic_words=len(topic),
        question_hits=question_hits,
        mean_sentence=(real_words / len(real)) if real else 0.0,
    )


def _off_topic(found: Signals, track: str) -> bool:
    if track == "leadership":
        return found.question_hits == 0 and found.topic_hits <= STORY_STRAY_WORDS
    most, share = OFF_TOPIC_TECHNICAL_WORDS
    return (found.question_hits <= TECHNICAL_QUESTION_WORDS
            and found.topic_hits <= max(most, share * found.topic_words))


def closing_gate(answer: Answer, found: Signals, track: str, technical_terms: int) -> Gate | None:
    if answer.words == 0:
        return EMPTY if not any(s.code for s in answer.sentences) else None
    if found.copied_share >= PASTED_SHARE:
        return PASTED
    if answer.words >= SENTENCE_MIN_WORDS and (found.real_share < REAL_SHARE or found.stray_numbers >= STRAY_NUMBERS):
        return STUFFED
    if answer.words >= SHORT_WORDS and _off_topic(found, track):
        return OFF_TOPIC_STORY if track == "leadership" else OFF_TOPIC_TECHNICAL
    if track == "technical" and answer.words >= SHORT_WORDS and technical_terms == 0:
        return WRONG_TRACK
    return None


def soft_gate(answer: Answer, found: Signals) -> Gate | None:
    """Problems that still let the checks run: too short, or rambling."""
    if answer.words < SHORT_WORDS:
        return SHORT
    if answer.words > TOO_LONG_WORDS or (answer.words >= RAMBLING_WORDS and found.mean_sentence >= RAMBLING_SENTENCE):
        return RAMBLING
    return None
