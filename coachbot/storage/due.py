"""When each schedule is next due, and taking the due ones: what keeps a tick's cost to what is due.

``schedules.next_due`` (daily prompts) and ``schedules.digest_next_due`` (weekly digests) hold the
UTC instant of the first slot not yet handled, from the slot maths in ``coachbot.schedule`` (DST
rules included), or NULL when nothing can come due. A mapper event in ``models`` keeps them in
step with every change made through the ORM (set, pause, resume, off, digest settings, posted,
missed); the few Core UPDATEs that change a schedule set them themselves.

A tick takes due rows with one indexed statement that also claims them: it moves their instant
to the end of a short lease (shorter than a tick), so another scheduler's tick skips them (on
PostgreSQL ``FOR UPDATE SKIP LOCKED`` also keeps two ticks in the same instant apart). Whoever
handles a row writes its instant again from the slot maths when done. A process that dies holding
rows leaves them due again once the lease ends; that is how lapsed claims come back, through the
same index (the slot ledger then keeps a slot it had claimed for its own lease, and reconciles
with Slack before posting it again).

An instant that is too early only costs a wasted look; one too late would lose a post. So every
write derives it from ``checked_through``, which only moves forward once a slot is handled.

The tick reads across workspaces (like housekeeping): it decides nothing for anyone, and every
query that follows is scoped by the row's team.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coachbot.storage.db import Database
from coachbot.storage.models import Schedule, digest_due, prompt_due


# --- taking what is due ---------------------------------------------------------

COLUMNS = {"prompt": Schedule.next_due, "digest": Schedule.digest_next_due}


def take_statement(kind: str, now: datetime, until: datetime, limit: int) -> Any:
    """The one statement of ``take_due``: the due rows, earliest first, claimed by moving their
    instant to ``until``, over the partial index on the instant (what EXPLAIN shows)."""
    column = COLUMNS[kind]
    due = (select(Schedule.id).where(column <= now).order_by(column).limit(limit)
           .with_for_update(skip_locked=True))  # SQLite has no row locks; it renders nothing there
    return (update(Schedule).where(Schedule.id.in_(due.scalar_subquery())).values({column.key: until})
            .returning(Schedule.team_id, Schedule.id).execution_options(synchronize_session=False))


def take_due(db: Database, kind: str, now: datetime, until: datetime, limit: int) -> list[tuple[str, int]]:
    """Claim up to ``limit`` schedules whose ``kind`` ("prompt" or "digest") is due at ``now``;
    returns (team, schedule id) of each. An idle tick finds nothing in one index probe, however
    many schedules there are."""
    with db.session() as session:
        rows = session.execute(take_statement(kind, now, until, limit))
        return sorted((str(team), int(schedule_id)) for team, schedule_id in rows)


def settle(session: Session, row: Schedule, kind: str, *, not_before: datetime | None = None) -> None:
    """After handling: the row's instant from the slot maths again, but not before ``not_before``
    (a slot left to retry is looked at again on a later tick, not in a loop within this one)."""
    at = prompt_due(row) if kind == "prompt" else digest_due(row)
    if at is not None and not_before is not None and at < not_before:
        at = not_before
    session.flush()  # the row's own changes first (the mapper event writes the plain instant)
    session.execute(update(Schedule).where(Schedule.team_id == row.team_id, Schedule.id == row.id)
                    .values({COLUMNS[kind].key: at}).execution_options(synchronize_session=False))
