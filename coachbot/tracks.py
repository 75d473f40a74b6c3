"""The two interview tracks and their nine categories, as data.

Everything that names a track or a category (the question bank, the /prep
parser, the stats, the daily rotation) reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    slug: str
    track: str
    title: str
    description: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Track:
    slug: str
    title: str
    description: str
    aliases: tuple[str, ...] = ()


TRACKS: tuple[Track, ...] = (
    Track(
        "technical",
        "Technical",
        "Hard skills: writing and debugging code, designing systems, solving problems, knowing your tools.",
        ("tech", "t", "eng", "engineering"),
    ),
    Track(
        "leadership",
        "Leadership",
        "Soft skills: leading people, running projects, communicating, setting direction, deciding.",
        ("lead", "l", "leader", "behavioural", "behavioral", "management"),
    ),
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        "coding",
        "technical",
        "Coding",
        "Write, fix or improve a function at a whiteboard or in an editor.",
        ("code", "algorithms", "algo", "debugging"),
    ),
    Category(
        "system-design",
        "technical",
        "System design",
        "Design a service, a schema or a whole system that scales and fails gracefully.",
        ("sd", "design", "systems", "architecture"),
    ),
    Category(
        "problem-solving",
        "technical",
        "Problem solving",
        "Reason through an unfamiliar problem: graphs, slow queries, puzzles, estimates.",
        ("ps", "problems", "puzzles"),
    ),
    Category(
        "technical-knowledge",
        "technical",
        "Technical knowledge",
        "Explain the tools and ideas you use: containers, HTTP and REST, databases, the cloud.",
        ("tk", "knowledge", "tools", "concepts"),
    ),
    Category(
        "team-management",
        "leadership",
        "Team management",
        "Lead people: delegate, give feedback, resolve conflict, grow the team.",
        ("tm", "team", "people", "managing"),
    ),
    Category(
        "project-management",
        "leadership",
        "Project management",
        "Plan, track and deliver work: estimates, risks, delays and scope.",
        ("pm", "project", "projects", "delivery"),
    ),
    Category(
        "communication",
        "leadership",
        "Communication",
        "Explain, persuade and listen: stakeholders, other teams, non-technical audiences.",
        ("comms", "comm", "communicating"),
    ),
    Category(
        "vision-strategy",
        "leadership",
        "Vision and strategy",
        "Set direction: long-term goals for the team and the plan to reach them.",
        ("vs", "vision", "strategy", "vision and strategy", "vision & strategy"),
    ),
    Category(
        "decision-making",
        "leadership",
        "Decision making",
        "Make hard calls, often under pressure or with missing information, and own them.",
        ("dm", "decisions", "decision", "deciding"),
    ),
)

# In order, lowest first. What each level demands is in the README ("The question bank").
DIFFICULTIES: tuple[str, ...] = ("entry", "mid", "senior", "staff")

TRACK_SLUGS = tuple(t.slug for t in TRACKS)
CATEGORY_SLUGS = tuple(c.slug for c in CATEGORIES)
_BY_SLUG = {c.slug: c for c in CATEGORIES}
_TRACK_BY_SLUG = {t.slug: t for t in TRACKS}


def category(slug: str) -> Category:
    return _BY_SLUG[slug]


def track(slug: str) -> Track:
    return _TRACK_BY_SLUG[slug]


def categories_of(track_slug: str) -> tuple[Category, ...]:
    return tuple(c for c in CATEGORIES if c.track == track_slug)
