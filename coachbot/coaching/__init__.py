"""Coaching feedback on a practice answer, read against its question.

``coach(answer, question)`` is pure and deterministic. See docs/coaching.md for
how it decides, what it cannot judge, and how it is measured.
"""

from coachbot.coaching.feedback import Check, Feedback, LookFor
from coachbot.coaching.rules import coach, kind_of

__all__ = ["Check", "Feedback", "LookFor", "coach", "kind_of"]
