"""What a person hears when a listener fails: a friendly reply, never silence.

``on_error`` is the app's global error handler. ``replying`` wraps the work a
listener does after ``ack()``: Bolt's thread runner
(``slack_bolt.listener.thread_runner``) overwrites an acknowledgement that was
already made with ``None`` when the listener then raises, and if that happens
inside its 10 ms polling interval the HTTP answer to Slack becomes a 404
("unhandled request") instead of the 200 that was acked. So listeners that
keep working after ``ack()`` route their errors here themselves.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Iterator

from slack_bolt import BoltResponse
from slack_sdk.errors import SlackApiError

from coachbot import blocks
from coachbot.errors import CoachbotError, InvalidInputError, NotFoundError, StorageUnavailableError

log = logging.getLogger("coachbot")

FRIENDLY = {
    StorageUnavailableError: "I can't reach my database right now. Nothing you typed was lost; try again in a minute.",
    NotFoundError: "That question is no longer in the bank. Ask for a new one with `/prep`.",
}
FALLBACK = "Something went wrong on my side. Please try again; if it keeps happening, tell your Slack admin."
#: Slack refusals that are nobody's bug: what the person is told (the views.open method page's errors).
SLACK_REFUSALS = {
    "expired_trigger_id": "That took too long to open. Press the button again.",
    "exchanged_trigger_id": "That form was already opened once. Press the button again.",
    "invalid_trigger_id": "I couldn't open the form. Press the button again.",
}


def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse | None:
    """The last word for anything a listener did not handle."""
    log_failure(error, body)
    if body.get("type") == "event_callback" and isinstance(error, StorageUnavailableError):
        # Not stored, so not acknowledged: Slack delivers the event again later.
        return BoltResponse(status=503, body="")
    text = friendly_text(error)
    if respond is not None and (body.get("response_url") or body.get("response_urls")):
        try:
            respond(response_type="ephemeral", replace_original=False, **blocks.error_message(text))
        except Exception:  # respond itself failing must not hide the original error
            log.warning("could not deliver the error message to the person")
    return None


def _slack_refusal(error: Exception) -> str | None:
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error", ""))
        return code if code in SLACK_REFUSALS else None
    return None


def log_failure(error: Exception, body: dict[str, Any]) -> None:
    kind = (body.get("event") or {}).get("type") if isinstance(body.get("event"), dict) else None
    refusal = _slack_refusal(error)
    if isinstance(error, CoachbotError):
        log.warning("request failed: %s (%s)", type(error).__name__, kind or body.get("type", ""))
    elif refusal is not None:
        log.warning("Slack refused a call: %s", refusal)
    else:
        log.error("unhandled error in a listener", exc_info=error)


def friendly_text(error: Exception) -> str:
    """What the person is told: the reason for bad input, a plain word for anything else."""
    if isinstance(error, InvalidInputError):
        return str(error)
    return SLACK_REFUSALS.get(_slack_refusal(error) or "", FRIENDLY.get(type(error), FALLBACK))


@contextmanager
def replying(body: dict[str, Any], respond: Any) -> Iterator[None]:
    """Run post-ack work; any error becomes the same friendly reply as ``on_error``."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - handed to on_error, see the module docstring
        on_error(error, body, respond)
