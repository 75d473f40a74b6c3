"""Keeping what only exists to make retries harmless from growing for ever.

Every event Slack delivers leaves its id in ``processed_events`` so that a redelivery (the
same ``event_id``) changes nothing. Slack redelivers within minutes (three retries, the last
about five minutes after the first try), so an id a day old guards against nothing: the
scheduler forgets those a batch at a time on each tick, which keeps the table to about a
day of events (at 500 events a second that is 43 million rows; without this it grows by
that much every day).
"""

from __future__ import annotations

from datetime import timedelta

from coachbot.clock import Clock
from coachbot.storage import repo
from coachbot.storage.db import Database

KEEP_EVENT_IDS = timedelta(days=1)
BATCH = 5_000  # rows per statement: short transactions beside live traffic
MAX_BATCHES = 20  # per tick: 100,000 rows a tick keeps up with over 3,000 events a second at a 30 s tick


class HousekeepingService:
    def __init__(self, db: Database, clock: Clock, *, keep: timedelta = KEEP_EVENT_IDS,
                 batch: int = BATCH, max_batches: int = MAX_BATCHES) -> None:
        self.db = db
        self.clock = clock
        self.keep = keep
        self.batch = batch
        self.max_batches = max_batches

    def forget_old_event_ids(self) -> int:
        """Delete event ids older than ``keep``, a batch per transaction; how many went."""
        before = self.clock.now() - self.keep
        forgotten = 0
        for _ in range(self.max_batches):
            with self.db.session() as session:
                gone = repo.forget_processed_events(session, before, self.batch)
            forgotten += gone
            if gone < self.batch:
                break
        return forgotten
