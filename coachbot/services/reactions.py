"""Peers' emoji on stored answers: counted once per person and emoji, taken back on removal.

Slack sends ``reaction_added`` / ``reaction_removed`` for every message in the
channels the bot is in; only those on a stored answer (a thread reply to a
prompt, or the bot's post of a shared answer) are kept. A person's reactions
on their own answer are stored but never counted. A retried delivery (the same
``event_id``) changes nothing the second time.
"""

from __future__ import annotations

from coachbot.clock import Clock
from coachbot.storage import reactions as store
from coachbot.storage.db import Database

MAX_EMOJI = 100


class ReactionService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def added(self, *, team_id: str, event_id: str, channel_id: str, ts: str, user_id: str, emoji: str) -> bool:
        """True if stored; False if not on an answer, or a retry or repeat of one already stored."""
        return self._change(False, team_id, event_id, channel_id, ts, user_id, emoji)

    def removed(self, *, team_id: str, event_id: str, channel_id: str, ts: str, user_id: str, emoji: str) -> bool:
        """True if a stored reaction was taken back."""
        return self._change(True, team_id, event_id, channel_id, ts, user_id, emoji)

    def _change(self, removed: bool, team_id: str, event_id: str, channel_id: str, ts: str, user_id: str,
                emoji: str) -> bool:
        if not (team_id and event_id and channel_id and ts and user_id and emoji) or len(emoji) > MAX_EMOJI:
            return False
        now = self.clock.now()
        if self.db.is_postgresql:
            with self.db.autocommit() as connection:
                return store.change_in_one_statement(connection, removed=removed, team_id=team_id,
                                                     event_id=event_id, channel_id=channel_id, ts=ts,
                                                     user_id=user_id, emoji=emoji, at=now)
        with self.db.session() as session:
            answer = store.answer_key(session, team_id, channel_id, ts)
            if answer is None or not store.first_delivery(session, team_id, event_id, now):
                return False
            if removed:
                return store.remove(session, team_id, answer, user_id, emoji)
            return store.add(session, team_id, answer, user_id, emoji, now)
