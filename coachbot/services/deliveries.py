"""Each Socket Mode envelope is handled once, however many times and to however many
processes Slack delivers it.

Slack may deliver an envelope again (to this connection or another of the app's, up to ten),
for instance when its acknowledgement was lost with a connection. Events are already
idempotent: each handler stores its ``event_id`` in the same transaction as what the event
changes. Slash commands and interactions are not (an answer submitted twice would be stored
twice), so the first process to claim an envelope id handles it and any other acknowledges
it and does nothing. A claim is given back if handling fails before the acknowledgement, so
that Slack's next delivery is handled.
"""

from __future__ import annotations

from coachbot.clock import Clock
from coachbot.storage import deliveries
from coachbot.storage.db import Database


class DeliveryLedger:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def claim(self, team_id: str, envelope_id: str) -> bool:
        """True for the first claim of this envelope; raises StorageUnavailableError if the database is down."""
        with self.db.session() as session:
            return deliveries.claim(session, team_id, envelope_id, self.clock.now())

    def release(self, team_id: str, envelope_id: str) -> None:
        with self.db.session() as session:
            deliveries.release(session, team_id, envelope_id)
