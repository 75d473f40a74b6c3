"""Small readers for Slack interaction payloads, and the answer modal's metadata."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from coachbot.errors import InvalidInputError


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_MARKUP = re.compile(r"<([^<>]*)>")


def _unmark(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target[:1] in "@#":  # <@U123|ana> and <#C123|general>
        return target[0] + (label.lstrip("@#") or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@devs>, <!date^...|fallback>
        return label or "@" + target[1:].split("^", 1)[0]
    address = target.removeprefix("mailto:")
    return address if not label or label == address else f"{label} ({address})"


def plain_text(text: str) -> str:
    """Message text as Slack sends it (mentions, channels and links as <...> markup; &, < and >
    as entities, per docs.slack.dev/messaging/formatting-message-text) back to what the person
    wrote, so answers are stored, coached and shown as written."""
    text = _MARKUP.sub(_unmark, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def team_id(body: dict[str, Any]) -> str:
    return (_text(_object(body.get("team")).get("id")) or _text(body.get("team_id"))
            or _text(_object(body.get("user")).get("team_id")))


def user_id(body: dict[str, Any]) -> str:
    return _text(_object(body.get("user")).get("id")) or _text(body.get("user_id"))


def require_actor(body: dict[str, Any]) -> tuple[str, str]:
    """The workspace and person a request comes from; without both, nothing may be written."""
    team, user = team_id(body), user_id(body)
    if not team or not user:
        raise InvalidInputError("This request doesn't say who sent it, so I can't act on it.")
    return team, user


def trigger_id(body: dict[str, Any]) -> str:
    found = _text(body.get("trigger_id"))
    if not found:
        raise InvalidInputError("Slack didn't send what I need to open a form. Press the button again.")
    return found


def channel_id(body: dict[str, Any]) -> str | None:
    return _text(_object(body.get("channel")).get("id")) or _text(_object(body.get("container")).get("channel_id")) \
        or None


def action_value(body: dict[str, Any]) -> str:
    found = body.get("actions") or [{}]
    first = found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else {}
    return _text(first.get("value"))


@dataclass(frozen=True)
class AnswerContext:
    """Where an answer modal was opened from; travels in the view's private_metadata."""

    team_id: str
    question_id: str
    channel_id: str | None
    thread_ts: str | None  # when set, a shared answer is posted in this thread
    always_share: bool = False  # answers to a daily prompt always go into its thread
    from_home: bool = False  # opened from App Home: refresh the dashboard after the answer

    def dump(self) -> str:
        return json.dumps(
            {"team": self.team_id, "q": self.question_id, "c": self.channel_id, "t": self.thread_ts,
             "p": int(self.always_share), "h": int(self.from_home)},
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, raw: str, *, expected_team: str) -> "AnswerContext":
        try:
            data = json.loads(raw)
            context = cls(
                team_id=str(data["team"]),
                question_id=str(data["q"]),
                channel_id=data.get("c") if isinstance(data.get("c"), str) else None,
                thread_ts=data.get("t") if isinstance(data.get("t"), str) else None,
                always_share=data.get("p") == 1,
                from_home=data.get("h") == 1,
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidInputError("This form is out of date. Close it and press Answer again.") from None
        if context.team_id != expected_team:
            raise InvalidInputError("This form belongs to another workspace. Close it and press Answer again.")
        return context


def can_share_in(channel: str | None) -> bool:
    """Public and private channels can take a shared answer; DMs and group DMs are not a team audience."""
    return bool(channel) and channel[0] in "CG"
