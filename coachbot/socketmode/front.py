"""From a Socket Mode envelope to Bolt and back to its acknowledgement.

The Socket Mode counterpart of ``coachbot.web``: the same shape check as HTTP (a payload
Slack never sends is acknowledged and dropped, with one warning line), each envelope
handled by one process only (``DeliveryLedger``), then Bolt's dispatch.

Every envelope is claimed before Bolt sees it: a slash command's reply may now be in its
ack (handlers/replies.py), a modal submission is stored before its answer and an event is
acknowledged once stored, so the claim must come first for a redelivery to do nothing.
Work left for after the ack goes to the job runner, whose jobs are idempotent by their own
keys (coachbot.jobs). Marking an envelope handled always happens after the ack. Bolt's answer becomes the acknowledgement as in Bolt's own Socket Mode adapter
(slackapi/bolt-python ``slack_bolt/adapter/socket_mode/internals.py``): a 200 is
acknowledged with its body as the payload; anything else (an event that could not be
stored) is not acknowledged, so Slack delivers it again, as a 503 does over HTTP.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltRequest

from coachbot import inbound
from coachbot.errors import StorageUnavailableError
from coachbot.services import Services
from coachbot.services.deliveries import Claim, DeliveryLedger

log = logging.getLogger("coachbot.socketmode")

def team_of(payload: dict[str, Any]) -> str:
    """The workspace: ``team_id`` in slash commands and events, ``team.id`` in interactions."""
    team = payload.get("team_id")
    if not isinstance(team, str) and isinstance(payload.get("team"), dict):
        team = payload["team"].get("id")
    return team if isinstance(team, str) else ""


REMEMBERED_ACKS = 10_000  # a few minutes of envelopes at the busiest; older redeliveries go to the database

def mark_handled(services: Services, team: str, envelope_id: str) -> None:
    try:
        DeliveryLedger(services.db, services.clock).handled(team, envelope_id)
    except StorageUnavailableError:  # the claim stays; a redelivery after the lease is handled again
        log.warning("could not record envelope %s as handled: the database is unavailable", envelope_id)


class SocketModeFront:
    def __init__(self, bolt: App, services: Services, after_ack: Executor) -> None:
        self.bolt = bolt
        self.services = services
        self.ledger = DeliveryLedger(services.db, services.clock)
        self.after_ack = after_ack  # where marking an envelope handled goes, after its ack
        # Envelopes this process acknowledged lately: a redelivery to this same process is answered
        # at once, without waiting for the database to say it was handled.
        self._acked: OrderedDict[str, None] = OrderedDict()
        self._acked_lock = threading.Lock()

    def handle(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """The acknowledgement to send for ``envelope``, or None to send none."""
        envelope_id, kind, payload = envelope["envelope_id"], envelope.get("type"), envelope.get("payload")
        problem = inbound.envelope_problem(kind, payload)
        if problem is not None:
            # Acknowledged, so Slack doesn't deliver it again: there is nothing to do with it.
            log.warning("dropped a Socket Mode envelope with a malformed payload: %s", problem)
            return {"envelope_id": envelope_id}
        if self._acked_here(envelope_id):
            log.info("envelope %s was acknowledged here before; acknowledged again, not handled", envelope_id)
            return {"envelope_id": envelope_id}
        team = team_of(payload)
        claimed = True
        try:
            claim = self.ledger.claim(team, envelope_id)
        except StorageUnavailableError:
            # Handled anyway: with the database down the listeners say so and store nothing.
            claim, claimed = Claim.HANDLE, False
        if claim is Claim.DUPLICATE:
            log.info("envelope %s was handled before; acknowledged, not handled again", envelope_id)
            return {"envelope_id": envelope_id}
        if claim is Claim.BUSY:
            log.info("envelope %s is being handled by another connection; left to it", envelope_id)
            return None
        try:
            ack = self._dispatch(envelope, payload, envelope_id)
        except BaseException:
            self._release(claimed, team, envelope_id)
            raise
        if ack is None:
            self._release(claimed, team, envelope_id)
        elif claimed:
            self.after_ack.submit(mark_handled, self.services, team, envelope_id)
        return self._remember(ack)

    def _acked_here(self, envelope_id: str) -> bool:
        with self._acked_lock:
            return envelope_id in self._acked

    def _remember(self, ack: dict[str, Any] | None) -> dict[str, Any] | None:
        if ack is not None:
            with self._acked_lock:
                self._acked[ack["envelope_id"]] = None
                while len(self._acked) > REMEMBERED_ACKS:
                    self._acked.popitem(last=False)
        return ack

    def _dispatch(self, envelope: dict[str, Any], payload: dict[str, Any], envelope_id: str) -> dict[str, Any] | None:
        headers: dict[str, str] = {}
        if envelope.get("retry_attempt"):
            headers = {"x-slack-retry-num": str(envelope["retry_attempt"]),
                       "x-slack-retry-reason": str(envelope.get("retry_reason") or "")}
        response = self.bolt.dispatch(BoltRequest(body=payload, mode="socket_mode", headers=headers or None))
        if response.status != 200:
            return None
        return _ack(envelope_id, response.headers, response.body)

    def _release(self, claimed: bool, team: str, envelope_id: str) -> None:
        if not claimed:
            return
        try:
            self.ledger.release(team, envelope_id)
        except StorageUnavailableError:
            log.warning("could not release the claim on envelope %s: the database is unavailable", envelope_id)


def _ack(envelope_id: str, headers: dict[str, Any], body: Any) -> dict[str, Any]:
    if not body:
        return {"envelope_id": envelope_id}
    content_type = (headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        return {"envelope_id": envelope_id, "payload": json.loads(body)}
    return {"envelope_id": envelope_id, "payload": {"text": body}}
