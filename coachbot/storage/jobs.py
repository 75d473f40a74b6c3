"""The job ledger (``job_runs``): a job's idempotency key is taken before its side effect, in
a transaction of its own, and marked finished after it."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from coachbot.storage.db import Database
from coachbot.storage.models import JobRun


class Taken(Enum):
    NEW = "new"  # this run acts
    FINISHED = "finished"  # an earlier run acted and said so: nothing to do
    UNSURE = "unsure"  # an earlier run took the key and stopped during its side effect


def take(db: Database, team_id: str, key: str, now: datetime) -> Taken:
    try:
        with db.session() as session:
            session.add(JobRun(team_id=team_id, key=key, started_at=now))
        return Taken.NEW
    except IntegrityError:
        with db.session() as session:
            finished = session.execute(select(JobRun.finished_at).where(
                JobRun.team_id == team_id, JobRun.key == key)).scalar_one_or_none()
        return Taken.FINISHED if finished is not None else Taken.UNSURE


def finish(db: Database, team_id: str, key: str, now: datetime) -> None:
    with db.session() as session:
        session.execute(update(JobRun).where(JobRun.team_id == team_id, JobRun.key == key).values(finished_at=now))
