"""Small readers for Slack interaction payloads, and the answer modal's metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from coachbot.errors import InvalidInputError


def team_id(body: dict[str, Any]) -> str:
    return (body.get("team") or {}).get("id") or body.get("team_id") or (body.get("user") or {}).get("team_id") or ""


def user_id(body: dict[str, Any]) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id") or ""


def channel_id(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def action_value(body: dict[str, Any]) -> str:
    found = body.get("actions") or [{}]
    return str(found[0].get("value") or "")


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
