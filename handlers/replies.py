"""Answering a person in one round trip when the work is quick, and after the ack when it is not.

What a person feels is the time from pressing Enter (or a button) to seeing the result. Slack
shows a slash command's acknowledgement body as the reply itself, ephemeral unless it says
``response_type: in_channel`` ("Responding to slash commands": an immediate response in the HTTP
200 body, https://api.slack.com/interactivity/slash-commands), and
takes a modal submission's ``response_action`` from its acknowledgement
(https://api.slack.com/surfaces/modals). So the work runs first, on a bounded
pool, and the listener waits for it up to a budget (``COACHBOT_ACK_BUDGET_MS``, 1500 ms by
default): finished in time, its result goes in the ack; otherwise the ack goes out empty (well
within Slack's 3 seconds even when the database is slow) and the result follows when it is
ready, through the response_url (or ``views.update``), exactly once either way.

A button's (``block_actions``) acknowledgement body is not shown: Slack takes only the 200 and
updates messages through the response_url ("Handling user interaction",
https://api.slack.com/interactivity/handling). So a button's reply always goes
through the response_url, straight from the pool thread, with no queue between.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable

from slack_bolt import Ack

from coachbot import blocks
from coachbot.handlers.errors import friendly_text, log_failure, on_error

log = logging.getLogger("coachbot")

DEFAULT_BUDGET_S = 1.5


@dataclass(frozen=True)
class Reply:
    """A message for the person: what ``respond`` (or a slash command's ack) carries."""

    message: dict[str, Any]
    response_type: str = "ephemeral"

    def body(self) -> dict[str, Any]:
        return {"response_type": self.response_type, **self.message}


class _Failed:
    def __init__(self, error: Exception) -> None:
        self.error = error


class Race:
    """One piece of work and the two ways its result can leave: in the ack, or after it.

    ``finish`` (on the pool thread) and ``give_up`` (on the listener's) decide under one lock,
    so the result is delivered by exactly one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._late = False
        self._kept = False  # the pool thread left the result for the listener
        self._result: Any = None
        self._done = threading.Event()

    def finish(self, result: Any) -> bool:
        """True when the caller must deliver the result itself (the ack has gone without it)."""
        with self._lock:
            if self._late:
                return True
            self._kept = True
            self._result = result
        self._done.set()
        return False

    def wait(self, timeout: float) -> tuple[bool, Any]:
        """(True, result) when the result is the listener's to put in the ack; (False, None) otherwise."""
        if self._done.wait(timeout):
            return True, self._result
        with self._lock:
            if not self._kept:
                self._late = True
                return False, None
        self._done.wait()  # kept between the wait and the lock: it is set an instant later
        return True, self._result


class Replies:
    """The pool interactive work runs on and the budget an ack waits for it."""

    def __init__(self, pool: Executor, budget_s: float = DEFAULT_BUDGET_S, *,
                 command_budget_s: float | None = None) -> None:
        self.pool = pool
        self.budget_s = budget_s
        # A slash command's own budget where its reply must not ride in the ack (Socket Mode: see
        # coachbot.socketmode.runner); None: the same as everything else.
        self.command_budget_s = budget_s if command_budget_s is None else command_budget_s

    def command(self, ack: Ack, body: dict[str, Any], respond: Any, work: Callable[[], Reply]) -> None:
        """A slash command: the reply in the ack if ``work`` finishes within the budget."""
        race = Race()

        def run() -> None:
            try:
                result: Reply | _Failed = work()
            except Exception as error:  # noqa: BLE001 - becomes a friendly reply below
                result = _Failed(error)
            if race.finish(result):
                if isinstance(result, _Failed):
                    on_error(result.error, body, respond)
                else:
                    respond(**result.body())

        self.pool.submit(run)
        in_time, result = race.wait(self.command_budget_s)
        if not in_time:
            ack()
        elif isinstance(result, _Failed):
            log_failure(result.error, body)
            ack(response_type="ephemeral", **blocks.error_message(friendly_text(result.error)))
        else:
            ack(**result.body())

    def view(self, ack: Ack, body: dict[str, Any], work: Callable[[], dict[str, Any]],
             late: Callable[[dict[str, Any] | Exception], None], waiting: dict[str, Any]) -> None:
        """A modal submission: ``work`` returns the ack's ``response_action`` arguments. Past the
        budget the modal shows ``waiting`` and ``late`` gets the result (or the error) after."""
        race = Race()

        def run() -> None:
            try:
                result: Any = work()
            except Exception as error:  # noqa: BLE001 - handed to late() or raised below
                result = _Failed(error)
            if race.finish(result):
                late(result.error if isinstance(result, _Failed) else result)

        self.pool.submit(run)
        in_time, result = race.wait(self.budget_s)
        if not in_time:
            ack(response_action="update", view=waiting)
        elif isinstance(result, _Failed):
            raise result.error  # the app's error handler answers, as if it had failed here
        else:
            ack(**result)

    def button(self, ack: Ack, body: dict[str, Any], respond: Any, work: Callable[..., None], *args: Any) -> None:
        """A button: ack at once (its body would not be shown) and reply through the response_url."""
        ack()

        def run() -> None:
            try:
                work(*args)
            except Exception as error:  # noqa: BLE001 - see coachbot.handlers.errors
                on_error(error, body, respond)

        self.pool.submit(run)
