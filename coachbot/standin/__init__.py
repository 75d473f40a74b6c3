"""A stand-in for Slack, shipped for coachbot's tests, ``coachbot demo`` and benchmarks.

* :class:`StandInSlack` (``server``): the Web API and response_urls on 127.0.0.1.
* :mod:`~coachbot.standin.requests` and :class:`SlackSender` (``sender``):
  what Slack sends to the app (slash commands, interactions, events), signed
  by :mod:`~coachbot.standin.signing`.
* :mod:`~coachbot.standin.render`: Block Kit as the text a person would see.
"""

from __future__ import annotations

from coachbot.standin.model import Call, Channel, Ephemeral, Message, ResponsePost, User, View
from coachbot.standin.render import render_blocks, render_message, render_view
from coachbot.standin.sender import SentResponse, SlackSender
from coachbot.standin.server import StandInSlack
from coachbot.standin.signing import sign

__all__ = [
    "Call",
    "Channel",
    "Ephemeral",
    "Message",
    "ResponsePost",
    "SentResponse",
    "SlackSender",
    "StandInSlack",
    "User",
    "View",
    "render_blocks",
    "render_message",
    "render_view",
    "sign",
]
