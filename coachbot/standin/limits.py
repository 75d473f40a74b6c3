"""Web API argument limits, as a table of rules: what Slack refuses (or caps) per method.

Sources: slack-ruby/slack-api-ref ``methods/<group>/<method>.json`` (Slack's
method pages as JSON: each argument's description and each error), and
slackapi/slack-api-specs ``web-api/slack_web_openapi_v2.json`` (the Web API
OpenAPI spec). Where they disagree the newer method page wins and the rule
says so: users.conversations' ``limit`` is "an integer with a max value of
999" on the method page, "no larger than 1000" in the (2021) OpenAPI spec.

A rule with an ``error`` refuses a breaking call with that error; a rule
without one is a documented maximum for which Slack documents no error, and
the stand-in caps the value instead of refusing.
"""

from __future__ import annotations

from dataclasses import dataclass

from coachbot.standin.errors import ApiError
from coachbot.standin.model import JsonDict

_REF = "slack-ruby/slack-api-ref methods/"
_SPEC = "slackapi/slack-api-specs web-api/slack_web_openapi_v2.json"


@dataclass(frozen=True)
class ArgRule:
    """One documented argument limit of one method.

    ``kind``: ``max_int`` (an integer argument's largest value) or
    ``max_chars`` (a string argument's longest length).
    """

    id: str
    method: str
    arg: str
    kind: str
    limit: int
    error: str | None
    source: str


ARG_RULES: tuple[ArgRule, ...] = (
    ArgRule("users.conversations.limit.max", "users.conversations", "limit", "max_int", 999, "invalid_limit",
            f"{_REF}users/users.conversations.json (args.limit, errors.invalid_limit)"),
    ArgRule("conversations.history.limit.max", "conversations.history", "limit", "max_int", 999, None,
            f"{_REF}conversations/conversations.history.json (args.limit: 'Maximum of 999'; no error listed)"),
    ArgRule("conversations.replies.limit.max", "conversations.replies", "limit", "max_int", 999, None,
            "same cap as conversations.history (the replies page gives no maximum and lists no error)"),
    ArgRule("chat.postMessage.text.max", "chat.postMessage", "text", "max_chars", 40_000, "msg_too_long",
            f"{_SPEC} (chat.postMessage errors: msg_too_long); "
            "https://api.slack.com/changelog/2018-04-truncating-really-long-messages (40,000 characters)"),
    ArgRule("chat.postEphemeral.text.max", "chat.postEphemeral", "text", "max_chars", 40_000, "msg_too_long",
            f"{_REF}chat/chat.postEphemeral.json (errors.msg_too_long); the 2018 changelog above (40,000)"),
    ArgRule("chat.update.text.max", "chat.update", "text", "max_chars", 4_000, "msg_too_long",
            f"{_REF}chat/chat.update.json (errors.msg_too_long: 'cannot exceed 4,000 characters')"),
)


def rules_for(method: str) -> tuple[ArgRule, ...]:
    """The argument rules of one method."""
    return tuple(rule for rule in ARG_RULES if rule.method == method)


def int_arg(params: JsonDict, name: str, default: int, *, error: str = "invalid_limit") -> int:
    """An integer argument (``default`` when absent, empty or 0); ``error`` when it is not a number."""
    raw = params.get(name)
    try:
        value = int(raw or default)
    except (TypeError, ValueError) as failure:
        raise ApiError(error) from failure
    return value if value > 0 else default


def check_arguments(method: str, params: JsonDict) -> None:
    """Refuse a call whose arguments break a rule that Slack answers with an error."""
    for rule in rules_for(method):
        if rule.error is None or params.get(rule.arg) in (None, ""):
            continue
        if rule.kind == "max_int" and int_arg(params, rule.arg, 1, error=rule.error) > rule.limit:
            raise ApiError(rule.error)
        if rule.kind == "max_chars" and len(str(params[rule.arg])) > rule.limit:
            raise ApiError(rule.error)


def cap(method: str, arg: str, default: int) -> int:
    """The largest value ``arg`` takes for ``method`` (a documented maximum), else ``default``."""
    return next((rule.limit for rule in rules_for(method) if rule.arg == arg and rule.kind == "max_int"), default)
