"""Adapters from the Slack Web API to the small callables the services take."""

from __future__ import annotations

from slack_sdk import WebClient

from coachbot.services.people import Directory, PersonInfo


def slack_directory(client: WebClient) -> Directory:
    def lookup(team_id: str, user_id: str) -> PersonInfo:
        user = client.users_info(user=user_id)["user"]
        return PersonInfo(
            tz=user.get("tz") or "UTC",
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        )

    return lookup
