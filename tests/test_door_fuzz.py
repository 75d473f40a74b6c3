"""Fuzzing the door: every kind of payload Slack sends, signed, with values of the wrong JSON
type put in at any path, keys dropped and unknown keys added (issue 12, item 8).

A signed request of any shape never gets a 500 and never leaves a traceback (or any ERROR)
in the log; a payload the door refuses reaches no listener, so it can write nothing (proved
by counting dispatches into Bolt; tests/test_hostile_input.py compares whole-database
snapshots for hand-written cases). Refused events are acknowledged with 200 so that Slack
does not deliver them three more times; refused interactions get 400.

With ``CI`` set, 300 examples per kind run on SQLite and 100 per kind on PostgreSQL
(16 kinds: 6,400 in all); locally a tenth of that.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coachbot import blocks
from coachbot.blocks import home as home_blocks
from coachbot.blocks import progress as progress_blocks
from coachbot.handlers.payloads import AnswerContext
from coachbot.standin import requests as slack_requests
from tests.harness import AppHarness, module_app

IN_CI = bool(os.environ.get("CI"))
PER_KIND = {"sqlite": 300 if IN_CI else 30, "postgresql": 100 if IN_CI else 10}
CHANNEL = "C0FUZZ"
USER = "U0FUZZ"

Payload = tuple[str, Any]  # ("json", envelope) | ("payload", interaction payload) | ("form", fields)


class Harness(AppHarness):
    dispatched = 0

    def count_dispatches(self) -> None:
        for app in {id(self.bot.web.bolt): self.bot.web.bolt, id(self.bot.web.events): self.bot.web.events}.values():
            dispatch = app.dispatch

            def counted(request: Any, _dispatch: Callable[[Any], Any] = dispatch) -> Any:
                Harness.dispatched += 1
                return _dispatch(request)

            app.dispatch = counted  # type: ignore[method-assign]


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with module_app(request, tmp_path_factory, Harness) as harness:
        harness.slack.add_channel(CHANNEL, members=[USER])
        harness.count_dispatches()  # type: ignore[attr-defined]
        yield harness  # type: ignore[misc]


# --- a real payload of each kind -----------------------------------------------------------------


def _envelope(h: Harness, event: dict[str, Any]) -> Payload:
    body, _ = slack_requests.event_callback(event=event, team_id=h.slack.team_id, event_id="EvFuzzBase",
                                            event_time=int(time.time()))
    return "json", json.loads(body)


def _form_payload(body: bytes) -> Payload:
    return "payload", json.loads(dict(parse_qsl(body.decode()))["payload"])


def _click(h: Harness, action_id: str, value: str) -> Payload:
    message = {"type": "message", "ts": "1795000000.000100", "text": "",
               "blocks": [{"type": "actions", "block_id": "b1",
                           "elements": [{"type": "button", "action_id": action_id, "value": value,
                                         "text": {"type": "plain_text", "text": "Go"}}]}]}
    body, _ = slack_requests.block_actions(
        user_id=USER, team_id=h.slack.team_id,
        actions=[{"action_id": action_id, "block_id": "b1", "value": value, "type": "button",
                  "text": {"type": "plain_text", "text": "Go"}}],
        channel_id=CHANNEL, message=message,
        container={"type": "message", "message_ts": "1795000000.000100", "channel_id": CHANNEL,
                   "is_ephemeral": True},
        response_url=h.slack.new_response_url(user_id=USER, channel_id=CHANNEL),
        trigger_id=h.slack.new_trigger_id(USER))
    return _form_payload(body)


def _question_id(h: Harness) -> str:
    return next(iter(h.bot.services.bank)).id


def _submission(h: Harness) -> Payload:
    metadata = AnswerContext(h.slack.team_id, _question_id(h), CHANNEL, None).dump()
    view = {"id": "V0FUZZ", "type": "modal", "callback_id": blocks.VIEW_ANSWER, "private_metadata": metadata,
            "hash": "1.a", "blocks": []}
    body, _ = slack_requests.view_submission(
        user_id=USER, team_id=h.slack.team_id, view=view,
        values={blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: "I would sort first, then merge in one pass."}})
    return _form_payload(body)


def _view_closed(h: Harness) -> Payload:
    _, payload = _submission(h)
    payload["type"] = "view_closed"
    payload["is_cleared"] = False
    return "payload", payload


def _slash(h: Harness, text: str) -> Payload:
    body, _ = slack_requests.slash_command(text=text, user_id=USER, team_id=h.slack.team_id, channel_id=CHANNEL,
                                           response_url=h.slack.new_response_url(user_id=USER, channel_id=CHANNEL))
    return "form", dict(parse_qsl(body.decode()))


def _reply(h: Harness) -> dict[str, Any]:
    return {"type": "message", "channel": CHANNEL, "user": USER, "text": "I would shard by user id.",
            "ts": "1795000000.000200", "thread_ts": "1795000000.000100", "channel_type": "channel"}


KINDS: dict[str, Callable[[Harness], Payload]] = {
    "slash command": lambda h: _slash(h, "leadership"),
    "ssl_check": lambda h: ("form", {"ssl_check": "1", "token": slack_requests.VERIFICATION_TOKEN}),
    "button: answer": lambda h: _click(h, blocks.ACTION_ANSWER, _question_id(h)),
    "button: another": lambda h: _click(h, blocks.ACTION_ANOTHER, "leadership"),
    "button: forget me": lambda h: _click(h, progress_blocks.ACTION_FORGET_CANCEL, ""),
    "button: home practise": lambda h: _click(h, f"{home_blocks.ACTION_HOME_PRACTISE}:technical", "technical"),
    "view_submission": _submission,
    "view_closed": _view_closed,
    "url_verification": lambda h: ("json", {"token": "t", "challenge": "c-123", "type": "url_verification"}),
    "event: thread reply": lambda h: _envelope(h, _reply(h)),
    "event: reply edited": lambda h: _envelope(h, {"type": "message", "subtype": "message_changed",
                                                   "channel": CHANNEL, "message": _reply(h),
                                                   "ts": "1795000000.000300"}),
    "event: reply deleted": lambda h: _envelope(h, {"type": "message", "subtype": "message_deleted",
                                                    "channel": CHANNEL, "deleted_ts": "1795000000.000200",
                                                    "ts": "1795000000.000400"}),
    "event: reaction added": lambda h: _envelope(h, {"type": "reaction_added", "user": USER, "reaction": "tada",
                                                     "item": {"type": "message", "channel": CHANNEL,
                                                              "ts": "1795000000.000200"},
                                                     "item_user": "U0OTHER", "event_ts": "1795000000.000500"}),
    "event: reaction removed": lambda h: _envelope(h, {"type": "reaction_removed", "user": USER, "reaction": "tada",
                                                       "item": {"type": "message", "channel": CHANNEL,
                                                                "ts": "1795000000.000200"}}),
    "event: app home opened": lambda h: _envelope(h, {"type": "app_home_opened", "user": USER, "channel": "D0FUZZ",
                                                      "tab": "home", "event_ts": "1795000000.000600"}),
    "event: bot removed": lambda h: _envelope(h, {"type": "member_left_channel", "user": "U0BOT",
                                                  "channel": CHANNEL, "channel_type": "C",
                                                  "team": h.slack.team_id}),
}


# --- mutations ------------------------------------------------------------------------------------

OTHER_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**12), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "x", "U0FUZZ", "C0FUZZ", "1795000000.000200", "<!here>", "\u0000", "é" * 3]),
    st.builds(list), st.lists(st.integers(0, 3), min_size=1, max_size=2), st.builds(dict),  # fresh each time
    st.dictionaries(st.sampled_from(["id", "type", "x"]), st.sampled_from(["", "v", 1]), min_size=1, max_size=2),
)
FORM_VALUES = st.sampled_from(["", "x", "0", "-1", "true", "U0FUZZ", "{}", "[1]", "null", "é" * 300, "%00"])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        root = root[key]
    return root


@st.composite
def mutated(draw: st.DrawFn, base: Payload) -> Payload:
    shape, value = base[0], copy.deepcopy(base[1])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        op = draw(st.sampled_from(["retype", "drop", "add"]))
        if not paths or op == "add":
            containers = [()] + [p for p in paths if isinstance(_parent(value, p + ("_",)), dict)]
            where = draw(st.sampled_from(containers))
            target = _parent(value, where + ("_",))
            target[draw(st.sampled_from(["zz_unknown", "type", "user", "team", "channel", "view", "event"]))] = \
                draw(FORM_VALUES if shape == "form" else OTHER_VALUES)
            continue
        path = draw(st.sampled_from(paths))
        parent = _parent(value, path)
        if op == "drop":
            parent.pop(path[-1]) if isinstance(parent, dict) else parent.pop(path[-1])
        else:
            parent[path[-1]] = draw(FORM_VALUES if shape == "form" else OTHER_VALUES)
    return shape, value


def encode(payload: Payload) -> tuple[bytes, str]:
    shape, value = payload
    if shape == "json":
        return json.dumps(value).encode(), slack_requests.JSON
    if shape == "payload":
        return urlencode({"payload": json.dumps(value)}).encode(), slack_requests.FORM
    return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}).encode(), \
        slack_requests.FORM


class LogTrap(logging.Handler):
    """Every record at ERROR or above, and any record carrying a traceback, at any level."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.bad: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info or record.stack_info:
            self.bad.append(record)


# --- the properties -------------------------------------------------------------------------------


def _send(app: Harness, payload: Payload) -> tuple[int, bytes, bool]:
    body, content_type = encode(payload)
    before = Harness.dispatched
    try:
        sent = app.bot.driver.sender.send(body, content_type)
    except Exception as exc:  # noqa: BLE001 - what a WSGI server turns into a 500
        pytest.fail(f"raised out of the WSGI app (a 500): {exc!r} for {payload!r}"[:2000])
    return sent.status, sent.body, Harness.dispatched > before


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_as_slack_sends_it_is_accepted(app: Harness, kind: str):
    status, body, dispatched = _send(app, KINDS[kind](app))
    app.settle()
    assert status in (200, 404) and dispatched, (status, body[:300])


@pytest.mark.parametrize("kind", list(KINDS))
def test_signed_payloads_of_any_shape_never_get_a_500(app: Harness, kind: str):
    base = KINDS[kind](app)
    trap = LogTrap()
    logging.getLogger().addHandler(trap)
    seen: dict[str, int] = {"refused": 0, "passed": 0}

    @settings(max_examples=PER_KIND[app.backend], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(payload=mutated(base))
    def check(payload: Payload) -> None:
        app.settle()  # what an earlier example left running after its ack is that example's
        trap.bad.clear()
        status, body, dispatched = _send(app, payload)
        assert status < 500, (status, body[:300], payload)
        refused = status == 400 or body.startswith(b'{"ignored"')
        if refused:
            seen["refused"] += 1
            assert not dispatched, "a refused payload reached Bolt's listeners"
        else:
            seen["passed"] += 1
        app.settle()
        assert not trap.bad, _describe(trap.bad, payload)

    try:
        check()
        app.settle()
    finally:
        logging.getLogger().removeHandler(trap)
    assert not trap.bad, _describe(trap.bad, None)
    assert seen["refused"] + seen["passed"] >= PER_KIND[app.backend] * 0.9


def _describe(records: list[logging.LogRecord], payload: Payload | None) -> str:
    found = "; ".join(f"{r.name}: {r.getMessage()[:200]} ({r.exc_info[1]!r})" if r.exc_info else
                      f"{r.name}: {r.getMessage()[:200]}" for r in records[:3])
    return f"{found} -- payload: {json.dumps(payload, default=str)[:1500] if payload else ''}"
