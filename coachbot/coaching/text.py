"""The answer as the coach reads it: sentences, words, stems, and what was copied from the question.

Pure functions over strings. Offsets always index the answer as given (control
characters are blanked in place, never removed), so a quote is always a slice
of what the person wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Control characters become spaces (same length); tab, newline and carriage return stay.
_CONTROL_TO_SPACE = {c: " " for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"}
# Typographic apostrophes read as the plain one (same length, so offsets hold).
_APOSTROPHES = {0x2019: "'", 0x02BC: "'", 0x2018: "'"}

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# A sentence ends at . ! ? followed by space, or at a line break. A line that
# looks like code (indented, or ending in ':' / ';' / '{') is a sentence of its own.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]\u201d]*[ \t]+|\s*\n")
_CODE_LINE = re.compile(
    r"^(?: {4}|\t)|[:;{]\s*$|^\s*(?:def|return|for|if|elif|else|while|import|class|print)\b|\w\s*(?:==?|\+=)\s*\S"
)

# Function words: ordinary sentences are full of them, keyword lists have almost none.
FUNCTION_WORDS = frozenset(
    """a an the and or but so if then than that this these those there it its it's is are was were be been
    being am i i'm i'd i've we we're we'd our us my me you your he she him her his they them their to of in on
    at by for with from into onto about as after before because while when where which who what how not no
    do does did don't didn't have has had would will can could should must may might also just only very
    all some any each every one more most much many other another up out over again once now here""".split()
)

# Words too common in interview questions and answers to say what a question is about.
GENERIC = FUNCTION_WORDS | frozenset(
    """tell time describe describes explain explains explained give gives example examples walk through
    happened happen did do done make makes made way ways thing things something someone really actually
    like get got go went use uses used using want need needs needed know knew think thought say said
    such whether rather instead without within well even still both either own new good better best
    many few lot lots able clear clearly specific concrete real actual main right first last next lasted
    person people someone team work working engineer engineers engineering""".split()
)
# The verbs look-for points start with ("Explains ...", "Names ..."): they say nothing about the topic.
LOOK_FOR_GENERIC = GENERIC | frozenset(
    """names mentions shows states considers handles describes discusses notes recognises identifies
    chooses uses keeps makes takes sets builds asks explains gives points covers offers proposes""".split()
)

# Stems are cut to this many letters, so "delegate" meets "delegating" (but "graduate" does not meet "gradual").
PREFIX = 7


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str  # answer[start:end], stripped
    words: tuple[str, ...]  # lower-case words
    copied: bool  # mostly copied from the question
    code: bool  # a line of code

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")


@dataclass(frozen=True)
class Answer:
    raw: str  # as given
    text: str  # control characters blanked, apostrophes plain: same length as raw
    sentences: tuple[Sentence, ...]
    words: int  # words outside code lines
    code_words: int  # words in code lines
    stems: frozenset[str]  # content stems outside copied sentences
    copied_share: float  # share of the answer's words inside 4-word runs of the question


def clean(text: str) -> str:
    return text.translate(_CONTROL_TO_SPACE).translate(_APOSTROPHES)


def words_of(text: str) -> list[str]:
    return [w.casefold() for w in WORD.findall(text)]


def stem(word: str) -> str:
    """A light suffix-stripper: enough to match 'merged', 'merges' and 'merging' to 'merge'."""
    w = word.casefold().removesuffix("'s")
    for suffix, replacement, minimum in (("ies", "y", 5), ("ing", "", 6), ("ed", "", 5), ("es", "", 5), ("s", "", 4)):
        if w.endswith(suffix) and len(w) >= minimum and not w.endswith("ss"):
            w = w[: -len(suffix)] + replacement
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w[:PREFIX]


_GENERIC_STEMS: dict[frozenset[str], frozenset[str]] = {}


def content_stems(words: list[str] | tuple[str, ...], generic: frozenset[str] = GENERIC) -> set[str]:
    """Stems of the words that say what a text is about; a generic word's other forms ("teams" for
    "team") are generic too."""
    if generic not in _GENERIC_STEMS:
        _GENERIC_STEMS[generic] = frozenset(stem(w) for w in generic if len(w) > 3)
    skip = _GENERIC_STEMS[generic]
    bare = (w.removesuffix("'s") for w in words)
    return {s for w in bare if w not in generic and len(w) > 1 and not w.isdigit() and (s := stem(w)) not in skip}


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _copied_mask(words: list[str], question_grams: set[tuple[str, ...]], n: int = 4) -> list[bool]:
    mask = [False] * len(words)
    for i in range(len(words) - n + 1):
        if tuple(words[i : i + n]) in question_grams:
            for j in range(i, i + n):
                mask[j] = True
    return mask


def _spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def read(raw: str, question_text: str) -> Answer:
    text = clean(raw)
    question_grams = _ngrams(words_of(clean(question_text)), 4)
    sentences: list[Sentence] = []
    all_words: list[str] = []
    copied_words = 0
    stems: set[str] = set()
    code_count = 0
    for start, end in _spans(text):
        body = text[start:end]
        lead = len(body) - len(body.lstrip())
        trail = len(body.rstrip())
        words = tuple(words_of(body))
        if not words:
            continue
        # A span starts a line when it follows a line break; only then does its indentation mean code.
        line = body if start == 0 or text[start - 1] == "\n" else body.lstrip()
        indented = line.startswith(("    ", "\t"))  # an indented line is a code block
        code = indented or (bool(_CODE_LINE.search(line)) and sum(w in FUNCTION_WORDS for w in words) * 4 < len(words))
        mask = _copied_mask(list(words), question_grams)
        copied = sum(mask)
        if not code:  # code repeated from the question to show a fix is not a pasted question
            copied_words += copied
        is_copied = copied * 2 >= len(words)
        sentences.append(Sentence(start + lead, start + trail, body.strip(), words, is_copied, code))
        if not code:
            all_words.extend(words)
        else:
            code_count += len(words)
        if not is_copied:
            stems |= content_stems(words, FUNCTION_WORDS)
    total = len(all_words)
    return Answer(
        raw=raw,
        text=text,
        sentences=tuple(sentences),
        words=total,
        code_words=code_count,
        stems=frozenset(stems),
        copied_share=(copied_words / total) if total else 0.0,
    )
