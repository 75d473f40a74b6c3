"""From a Socket Mode envelope to Bolt and back to its acknowledgement.

The Socket Mode counterpart of ``coachbot.web``: the same shape check as HTTP (a payload
Slack never sends is acknowledged and dropped, with one warning line), each envelope
handled by one process only (``DeliveryLedger``), then Bolt's dispatch.

Where the claim is made keeps the database off a slash command's ack: ``/prep`` either
answers in the ack from nothing but the command (help, categories) or acks at once and does
its work after the ack (in Socket Mode a command's reply always follows its ack: see
coachbot.socketmode.runner), so a slash command is claimed by that work, on the replies' pool
(``GatedBackground``): a redelivered command is acknowledged again, harmlessly, and its work
runs once. Interactions and events can change the database before
their ack (a modal submission is stored before its answer; an event is acknowledged once
stored), so they are claimed before Bolt sees them. Marking an envelope handled always
happens after the ack. Bolt's answer becomes the acknowledgement as in Bolt's own Socket Mode adapter
(slackapi/bolt-python ``slack_bolt/adapter/socket_mode/internals.py``): a 200 is
acknowledged with its body as the payload; anything else (an event that could not be
stored) is not acknowledged, so Slack delivers it again, as a 503 does over HTTP.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections import OrderedDict
from concurrent.futures import Executor, Future
from typing import Any, Callable

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

#: Envelope types claimed by their work after the ack rather than before dispatch (see above).
CLAIMED_AFTER_ACK = frozenset({"slash_commands"})

_envelope: contextvars.ContextVar["_Gate | None"] = contextvars.ContextVar("socket_mode_envelope", default=None)


class _Gate:
    """A slash command's envelope while it is dispatched: numbers the jobs it submits."""

    def __init__(self, team: str, envelope_id: str) -> None:
        self.team, self.envelope_id = team, envelope_id
        self.jobs = 0


def run_claimed(services: Services, team: str, envelope_id: str, job: int, fn: Callable[..., Any],
                args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run one job of a slash command's work after its ack, if this process claims it first.

    Each piece of work an envelope submits has its own claim (the envelope id and the work's
    number: handlers submit the same work in the same order wherever they run)."""
    ledger = DeliveryLedger(services.db, services.clock)
    key = f"{envelope_id}#{job}"
    try:
        claim = ledger.claim(team, key)
    except StorageUnavailableError:
        claim = Claim.HANDLE  # the job itself tells the person to try again
    if claim is not Claim.HANDLE:
        log.info("envelope %s is handled by another delivery; its work is not done twice", envelope_id)
        return None
    try:
        return fn(*args, **kwargs)
    finally:
        mark_handled(services, team, key)


class GatedBackground(Executor):
    """The pool a command's work runs on after its ack; work submitted while a slash command's
    envelope is being dispatched runs behind that envelope's claim (``run_claimed``)."""

    def __init__(self, pool: Executor, services: Services) -> None:
        self.pool = pool
        self.services = services

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        gate = _envelope.get()
        if gate is None:
            return self.pool.submit(fn, *args, **kwargs)
        gate.jobs += 1
        return self.pool.submit(run_claimed, self.services, gate.team, gate.envelope_id, gate.jobs - 1, fn, args,
                                kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def mark_handled(services: Services, team: str, envelope_id: str) -> None:
    try:
        DeliveryLedger(services.db, services.clock).handled(team, envelope_id)
    except StorageUnavailableError:  # the claim stays; a redelivery after the lease is handled again
        log.warning("could not record envelope %s as handled: the database is unavailable", envelope_id)


class SocketModeFront:
    def __init__(self, bolt: App, services: Services, marks: Executor) -> None:
        self.bolt = bolt
        self.services = services
        self.ledger = DeliveryLedger(services.db, services.clock)
        self.marks = marks  # where marking an envelope handled goes, after its ack
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
        if kind in CLAIMED_AFTER_ACK:
            return self._remember(self._dispatch(envelope, payload, envelope_id, gate=_Gate(team, envelope_id)))
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
            self.marks.submit(mark_handled, self.services, team, envelope_id)
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

    def _dispatch(self, envelope: dict[str, Any], payload: dict[str, Any], envelope_id: str, *,
                  gate: _Gate | None = None) -> dict[str, Any] | None:
        headers: dict[str, str] = {}
        if envelope.get("retry_attempt"):
            headers = {"x-slack-retry-num": str(envelope["retry_attempt"]),
                       "x-slack-retry-reason": str(envelope.get("retry_reason") or "")}
        token = _envelope.set(gate)
        try:
            response = self.bolt.dispatch(BoltRequest(body=payload, mode="socket_mode", headers=headers or None))
        finally:
            _envelope.reset(token)
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
