"""Slack's request signing (v0), as Slack does it when it calls an app.

``X-Slack-Signature`` is ``v0=`` + hex HMAC-SHA256 over
``v0:{timestamp}:{raw body}`` keyed with the app's signing secret; see
https://api.slack.com/authentication/verifying-requests-from-slack.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def signature(body: bytes, signing_secret: str, timestamp: int) -> str:
    """The ``v0=...`` signature of ``body`` sent at ``timestamp`` (Unix seconds)."""
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + body
    return "v0=" + hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def sign(body: bytes, signing_secret: str, timestamp: int) -> dict[str, str]:
    """The two headers Slack adds to a request carrying ``body``."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(body, signing_secret, timestamp)}
