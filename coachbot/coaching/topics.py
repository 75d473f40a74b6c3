"""Plain synonyms of the words questions are built around, for telling a fitting story from an off-topic one.

A story can fit its question without repeating its words: "I decide to give this
work to Marta" answers "a time you delegated". Only the question's own words are
expanded (not its look-for points), and each group holds words that mean the same
thing in an interview story, not words that merely go with a topic.
"""

from __future__ import annotations

from coachbot.coaching.text import FUNCTION_WORDS, content_stems, words_of

SYNONYMS: tuple[str, ...] = (
    "delegate delegated delegating delegation give gave hand handed assign assigned",
    "disagree disagreed disagreement argue argued argument conflict",
    "launch launched release released rollout",
    "hire hired hiring interview interviewed candidate",
    "estimate estimated estimates guess",
    "burnout burning burned exhausted overtime",
    "mentor mentored mentoring coach coached coaching",
    "underperforming underperformance struggling",
    "incident incidents outage outages",
    "stakeholder stakeholders customer customers director executives",
    "slip slipping slipped late delay delayed",
    "unpopular tedious chore chores",
    "toughest hardest difficult",
    "feedback told tell telling criticism",
    "decide decided deciding decision chose choose chosen",
    "investigate investigating investigation analysis analyse analyze theories",
)

_GROUPS: tuple[frozenset[str], ...] = tuple(frozenset(content_stems(words_of(g), FUNCTION_WORDS)) for g in SYNONYMS)


def expand(stems: set[str]) -> set[str]:
    """The question's words plus the synonyms of any of them."""
    out = set(stems)
    for group in _GROUPS:
        if group & stems:
            out |= group
    return out
