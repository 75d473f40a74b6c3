"""Each Socket Mode envelope is handled once, however many times and to however many
processes Slack delivers it, and none is lost when a process dies while handling one.

Slack may deliver an envelope again, to this connection or another of the app's (up to
ten), for instance when its acknowledgement was lost with a connection. Before handling,
a process claims the envelope id; when done, it marks it handled:

- first claim: handle it;
- already handled: acknowledge it and do nothing (``DUPLICATE``);
- claimed, not handled, the claim younger than ``LEASE``: another process is on it, so send
  no acknowledgement (``BUSY``); that process acknowledges it, or, if it dies, Slack
  delivers it again;
- claimed longer ago than ``LEASE`` and not handled: the claimant died; take it over.

Events are also idempotent by themselves (each handler stores its ``event_id`` in the same
transaction as what the event changes); this covers slash commands and interactions (an
answer submitted twice would be stored twice) and events that store nothing (App Home).
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from coachbot.clock import Clock
from coachbot.storage import deliveries
from coachbot.storage.db import Database

#: Past Slack's 3 s for an acknowledgement: a claim this old with no result is a dead claimant's.
LEASE = timedelta(seconds=10)


class Claim(Enum):
    HANDLE = "handle"
    DUPLICATE = "duplicate"
    BUSY = "busy"


class DeliveryLedger:
    def __init__(self, db: Database, clock: Clock, *, lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease

    def claim(self, team_id: str, envelope_id: str) -> Claim:
        """Raises StorageUnavailableError if the database is down."""
        now = self.clock.now()
        with self.db.session() as session:
            if deliveries.claim(session, team_id, envelope_id, now):
                return Claim.HANDLE
        with self.db.session() as session:
            if deliveries.handled(session, team_id, envelope_id):
                return Claim.DUPLICATE
            if deliveries.take_over(session, team_id, envelope_id, now - self.lease, now):
                return Claim.HANDLE
        return Claim.BUSY

    def handled(self, team_id: str, envelope_id: str) -> None:
        with self.db.session() as session:
            deliveries.mark_handled(session, team_id, envelope_id, self.clock.now())

    def release(self, team_id: str, envelope_id: str) -> None:
        """Give a claim back (handling failed), so that Slack's next delivery is handled at once."""
        with self.db.session() as session:
            deliveries.release(session, team_id, envelope_id)
