"""INSERT ... ON CONFLICT for the two backends we run on.

Check-then-insert races when two requests for the same person overlap (two commands
in flight, Slack retries): the database settles it in one statement instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_for(dialect: str, model: Any) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


def insert(session: Session, model: Any) -> Any:
    return insert_for(dialect_of(session), model)
