"""The shapes of Slack's payloads that Bolt and coachbot's listeners read, as data.

Each rule names a path into a payload, the JSON types allowed there, and whether it must be
present. A key that is present with another type makes the payload one Slack never sends, so
the door refuses it before Bolt reads it (Bolt's readers and matchers index into it as they
go: ``actions[0]["action_id"]``, ``view["callback_id"]``, ``event["item"]["channel"]``...).
Keys nobody reads are not checked, and unknown keys are always allowed: Slack adds fields.

``*`` stands for every item of a list or every value of an object. The shapes are those of
Slack's payload references: slash commands (docs.slack.dev/interactivity/implementing-slash-commands),
block_actions, view_submission and view_closed (docs.slack.dev/reference/interaction-payloads),
the Events API envelope (docs.slack.dev/apis/events-api/#callback-field) and the pages of the
events coachbot subscribes to (docs.slack.dev/reference/events/<type>).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

TEXT = (str,)
OPT_TEXT = (str, type(None))
OBJECT = (dict,)
OPT_OBJECT = (dict, type(None))
LIST = (list,)
FLAG = (bool,)
NUMBER = (int, float)


#: Slack's ids (T…, U…, W…, C…, G…, D…, E…, A…, B…, V…) are capital letters and digits, and so are
#: message timestamps digits with one dot (docs.slack.dev/messaging/retrieving-messages, "ts"). Text of
#: another form would not fit where coachbot stores them (32-character columns), so it is refused here.
SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")
TS = re.compile(r"[0-9]{1,20}\.[0-9]{1,10}")
EVENT_ID = re.compile(r"[A-Za-z0-9]{1,64}")
EMOJI = re.compile(r"[a-z0-9_+'\-:.]{1,100}")


@dataclass(frozen=True)
class Rule:
    path: tuple[str, ...]
    types: tuple[type, ...]
    required: bool = False
    pattern: re.Pattern[str] | None = None  # text must match it whole


def _rules(*items: tuple[Any, ...]) -> tuple[Rule, ...]:
    return tuple(Rule(tuple(item[0].split(".")), *item[1:]) for item in items)


def _ids(*paths: str, types: tuple[type, ...] = TEXT, pattern: re.Pattern[str] = SLACK_ID) -> tuple[Rule, ...]:
    return _rules(*((path, types, False, pattern) for path in paths))


#: Any body at all: Bolt's self-event filter reads ``event`` as an object from every request, and its
#: log line for a request no listener matched reads ``view``.
ANY_BODY = _rules(("event", OBJECT), ("view", OBJECT))

#: Every interaction payload (form field ``payload``).
INTERACTION = _rules(
    ("type", TEXT, True),
    ("team", OPT_OBJECT), ("team.id", TEXT), ("team.enterprise_id", OPT_TEXT),
    ("user", OBJECT), ("user.id", TEXT), ("user.team_id", TEXT),
    ("enterprise", (dict, str, type(None))), ("enterprise.id", TEXT),
    ("is_enterprise_install", FLAG),
    ("channel", OPT_OBJECT), ("channel.id", TEXT),
    ("container", OBJECT), ("container.channel_id", TEXT), ("container.is_ephemeral", FLAG),
    ("message", OBJECT), ("message.ts", TEXT), ("message.thread_ts", TEXT), ("message.user", TEXT),
    ("message.blocks", LIST),
    ("view", OBJECT), ("view.id", TEXT), ("view.callback_id", TEXT), ("view.private_metadata", TEXT),
    ("view.hash", TEXT), ("view.team_id", OPT_TEXT), ("view.app_installed_team_id", OPT_TEXT),
    ("view.state", OBJECT), ("view.state.values", OBJECT), ("view.state.values.*", OBJECT),
    ("view.state.values.*.*", OBJECT),
    ("trigger_id", TEXT), ("response_url", TEXT),
    ("response_urls", LIST), ("response_urls.*", OBJECT), ("response_urls.*.response_url", TEXT, True),
    ("actions", LIST), ("actions.*", OBJECT), ("actions.*.action_id", TEXT, True), ("actions.*.block_id", TEXT),
    ("actions.*.value", TEXT), ("actions.*.type", TEXT),
) + _ids("team.id", "user.id", "user.team_id", "channel.id", "container.channel_id", "view.id", "enterprise.id") \
  + _ids("view.team_id", "team.enterprise_id", types=OPT_TEXT) + _ids("message.ts", "message.thread_ts", pattern=TS)

#: Per interaction type, beyond INTERACTION.
INTERACTION_TYPES: dict[str, tuple[Rule, ...]] = {
    "block_actions": _rules(("actions", LIST, True)),
    "view_submission": _rules(("view", OBJECT, True), ("view.callback_id", TEXT, True), ("view.type", TEXT, True)),
    "view_closed": _rules(("view", OBJECT, True), ("view.callback_id", TEXT, True), ("view.type", TEXT, True)),
}

#: An Events API delivery (JSON body) of type event_callback.
EVENT_CALLBACK = _rules(
    ("team_id", TEXT, True), ("event_id", TEXT, True), ("event", OBJECT, True), ("event.type", TEXT, True),
    ("api_app_id", TEXT), ("enterprise_id", OPT_TEXT), ("context_team_id", OPT_TEXT),
    ("context_enterprise_id", OPT_TEXT), ("is_ext_shared_channel", FLAG), ("event_time", NUMBER),
    ("authorizations", LIST), ("authorizations.*", OBJECT), ("authorizations.*.team_id", OPT_TEXT),
    ("authorizations.*.enterprise_id", OPT_TEXT), ("authorizations.*.user_id", TEXT),
    ("authorizations.*.is_enterprise_install", FLAG), ("authorizations.*.is_bot", FLAG),
    # The fields of the subscribed events that Bolt or the listeners read.
    ("event.user", TEXT), ("event.channel", TEXT), ("event.channel_type", TEXT), ("event.team", TEXT),
    ("event.user_team", TEXT), ("event.ts", TEXT), ("event.thread_ts", TEXT), ("event.subtype", TEXT),
    ("event.text", TEXT), ("event.bot_id", TEXT), ("event.bot_profile", OBJECT), ("event.deleted_ts", TEXT),
    ("event.reaction", TEXT), ("event.tab", TEXT), ("event.view", OBJECT),
    ("event.item", OBJECT), ("event.item.type", TEXT), ("event.item.channel", TEXT), ("event.item.ts", TEXT),
    ("event.message", OBJECT), ("event.message.ts", TEXT), ("event.message.text", TEXT),
    ("event.message.user", TEXT), ("event.message.thread_ts", TEXT), ("event.message.bot_id", TEXT),
    ("event.message.subtype", TEXT), ("event.previous_message", OBJECT), ("event.previous_message.user", TEXT),
    ("event.previous_message.thread_ts", TEXT),
) + _ids("team_id", "api_app_id", "event.user", "event.channel", "event.team", "event.item.channel",
         "event.message.user", "authorizations.*.user_id") \
  + _ids("enterprise_id", "context_team_id", "context_enterprise_id", "authorizations.*.team_id",
         "authorizations.*.enterprise_id", types=OPT_TEXT) \
  + _ids("event.ts", "event.thread_ts", "event.deleted_ts", "event.item.ts", "event.message.ts",
         "event.message.thread_ts", pattern=TS) \
  + _ids("event_id", pattern=EVENT_ID) + _ids("event.reaction", pattern=EMOJI)

#: Other JSON deliveries: Slack's url_verification handshake (docs.slack.dev/reference/events/url_verification).
JSON_TYPES: dict[str, tuple[Rule, ...]] = {
    "event_callback": EVENT_CALLBACK,
    "url_verification": _rules(("challenge", TEXT, True)),
}

_NAMES = {str: "text", dict: "an object", list: "a list", bool: "true or false", int: "a number",
          float: "a number", type(None): "null"}


def problem(payload: Any, rules: tuple[Rule, ...]) -> str | None:
    """The first rule ``payload`` breaks, said briefly; None if it keeps them all."""
    for rule in rules:
        found = _check(payload, rule.path, rule, ())
        if found:
            return found
    return None


def _check(value: Any, path: tuple[str, ...], rule: Rule, where: tuple[str, ...]) -> str | None:
    if not path:
        # bool is an int in Python: a number rule must not accept true/false, nor a text rule 0.
        if isinstance(value, bool) and bool not in rule.types or not isinstance(value, rule.types):
            allowed = " or ".join(dict.fromkeys(_NAMES[t] for t in rule.types))
            return f"{'.'.join(where)} is not {allowed}"
        if rule.pattern is not None and isinstance(value, str) and not rule.pattern.fullmatch(value):
            return f"{'.'.join(where)} is not in Slack's form"
        return None
    head, rest = path[0], path[1:]
    if head == "*":
        items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
        keys = range(len(items)) if isinstance(value, list) else list(value) if isinstance(value, dict) else []
        for key, item in zip(keys, items):
            found = _check(item, rest, rule, where + (str(key),))
            if found:
                return found
        return None
    if not isinstance(value, dict):
        return None  # the parent's own rule says what is wrong with it
    if head not in value:
        return f"{'.'.join(where + (head,))} is missing" if rule.required and not rest else None
    return _check(value[head], rest, rule, where + (head,))
