"""Bolt listeners. Each module registers one kind of listener.

Handlers parse a Slack payload, call a service, render with a Block Kit
builder from ``coachbot.blocks`` and respond: no SQL, no business rules.
Services arrive through ``context["services"]``, set by a middleware in
``coachbot.app``.
"""

from __future__ import annotations

from slack_bolt import App

# jobs: imported for its registrations (coachbot.jobs.JOBS), which every process that runs jobs needs.
from coachbot.handlers import actions, commands, events, jobs, progress, views  # noqa: F401


def register_interactive(app: App) -> None:
    """Slash commands, buttons and modal submissions."""
    commands.register(app)
    actions.register(app)
    progress.register(app)
    views.register(app)


def register_events(app: App) -> None:
    """The Events API: messages, reactions, App Home."""
    events.register(app)
