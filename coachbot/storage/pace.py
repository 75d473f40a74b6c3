"""A workspace's posting budget in the database, shared by every process that posts to it.

The token bucket of ``coachbot.pacing.Pacer`` in its virtual-time form (GCRA), one row per
workspace: ``next_at`` is when the bucket would next be empty-and-refilled. Taking a token is one
atomic upsert that returns the new ``next_at`` (PostgreSQL's row lock, SQLite's write lock), so
two schedulers posting to one workspace share its budget instead of spending it twice.
"""

from __future__ import annotations

from sqlalchemy import func

from coachbot.storage import upsert
from coachbot.storage.db import Database
from coachbot.storage.models import PostingPace


def _greatest(dialect: str):
    # PostgreSQL's GREATEST; SQLite's max() with two arguments is the same scalar function.
    return func.greatest if dialect == "postgresql" else func.max


def take(db: Database, team_id: str, *, now: float, interval: float) -> float:
    """Take the workspace's next token at ``now`` (epoch seconds); returns the bucket's ``next_at``
    before this token (``max(next_at, now)``): the caller may post ``tolerance`` before it."""
    dialect = db.engine.dialect.name
    statement = upsert.insert_for(dialect, PostingPace).values(team_id=team_id, next_at=now + interval)
    statement = statement.on_conflict_do_update(
        index_elements=["team_id"],
        set_={"next_at": _greatest(dialect)(PostingPace.__table__.c.next_at, now) + interval},
    ).returning(PostingPace.__table__.c.next_at)
    with db.session() as session:
        return float(session.execute(statement).scalar_one()) - interval


def hold(db: Database, team_id: str, *, until: float) -> None:
    """Nobody posts to the workspace before ``until`` (Slack said 429: someone spent the budget)."""
    dialect = db.engine.dialect.name
    statement = upsert.insert_for(dialect, PostingPace).values(team_id=team_id, next_at=until)
    statement = statement.on_conflict_do_update(
        index_elements=["team_id"], set_={"next_at": _greatest(dialect)(PostingPace.__table__.c.next_at, until)})
    with db.session() as session:
        session.execute(statement)
