"""From a Socket Mode envelope to Bolt and back to its acknowledgement.

The Socket Mode counterpart of ``coachbot.web``: the same shape check as HTTP (a payload
Slack never sends is acknowledged and dropped, with one warning line), each envelope
claimed once across every process (``DeliveryLedger``), then Bolt's dispatch. Bolt's answer becomes the acknowledgement as in Bolt's own Socket Mode adapter
(slackapi/bolt-python ``slack_bolt/adapter/socket_mode/internals.py``): a 200 is
acknowledged with its body as the payload; anything else (an event that could not be
stored) is not acknowledged, so Slack delivers it again, as a 503 does over HTTP.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import App, BoltRequest

from coachbot import inbound
from coachbot.errors import StorageUnavailableError
from coachbot.services.deliveries import Claim, DeliveryLedger

log = logging.getLogger("coachbot.socketmode")

def team_of(payload: dict[str, Any]) -> str:
    """The workspace: ``team_id`` in slash commands and events, ``team.id`` in interactions."""
    team = payload.get("team_id")
    if not isinstance(team, str) and isinstance(payload.get("team"), dict):
        team = payload["team"].get("id")
    return team if isinstance(team, str) else ""


class SocketModeFront:
    def __init__(self, bolt: App, ledger: DeliveryLedger) -> None:
        self.bolt = bolt
        self.ledger = ledger

    def handle(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """The acknowledgement to send for ``envelope``, or None to send none."""
        envelope_id, kind, payload = envelope["envelope_id"], envelope.get("type"), envelope.get("payload")
        problem = inbound.envelope_problem(kind, payload)
        if problem is not None:
            # Acknowledged, so Slack doesn't deliver it again: there is nothing to do with it.
            log.warning("dropped a Socket Mode envelope with a malformed payload: %s", problem)
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
        headers: dict[str, str] = {}
        if envelope.get("retry_attempt"):
            headers = {"x-slack-retry-num": str(envelope["retry_attempt"]),
                       "x-slack-retry-reason": str(envelope.get("retry_reason") or "")}
        try:
            response = self.bolt.dispatch(BoltRequest(body=payload, mode="socket_mode", headers=headers or None))
        except BaseException:
            self._release(claimed, team, envelope_id)
            raise
        if response.status != 200:
            self._release(claimed, team, envelope_id)
            return None
        if claimed:
            try:
                self.ledger.handled(team, envelope_id)
            except StorageUnavailableError:  # the claim stays; a redelivery after the lease is handled again
                log.warning("could not record envelope %s as handled: the database is unavailable", envelope_id)
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
