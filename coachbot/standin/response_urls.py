"""response_urls: the per-interaction webhooks Slack gives an app to answer a person.

Slack's rules, as the stand-in plays them:

* ``response_type`` ``"ephemeral"`` (or none) shows the message to the
  person who acted only; ``"in_channel"`` posts it into the channel for
  everyone (as the bot).
* ``replace_original`` replaces the message the interaction came from; the
  "original" is the channel message or ephemeral named by ``message_ts``
  when the URL was issued for one, otherwise the latest ephemeral already
  posted through the same URL.
* ``delete_original`` removes that original.
* Blocks that break a Block Kit rule (see ``blockkit``) are refused with
  HTTP 400 and the bare text ``invalid_blocks``, without the detail
  chat.postMessage gives (slackapi/java-slack-sdk issue 1017: a maintainer
  on webhooks answering "400 invalid_blocks" with no error message).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from coachbot.standin import blockkit
from coachbot.standin.errors import ApiError
from coachbot.standin.model import Ephemeral, JsonDict, Message
from coachbot.standin.params import truthy
from coachbot.standin.workspace import Workspace


@dataclass(frozen=True)
class Hook:
    """One issued response_url and what it belongs to."""

    token: str
    url: str
    user_id: str | None
    channel_id: str | None
    message_ts: str | None


class ResponseUrls:
    """Issues response_urls and applies what is posted to them.

    Not thread-safe on its own: the owning
    :class:`~coachbot.standin.server.StandInSlack` serialises access.
    """

    def __init__(self) -> None:
        self._hooks: dict[str, Hook] = {}

    def issue(
        self, base_url: str, *, user_id: str | None, channel_id: str | None, message_ts: str | None
    ) -> Hook:
        """Make a new response_url under ``base_url`` (``http://127.0.0.1:PORT``)."""
        token = secrets.token_urlsafe(12)
        hook = Hook(token, f"{base_url}/respond/{token}", user_id, channel_id, message_ts)
        self._hooks[token] = hook
        return hook

    def get(self, token: str) -> Hook | None:
        """The hook with this token, if it was issued."""
        return self._hooks.get(token)

    def apply(self, workspace: Workspace, hook: Hook, body: JsonDict) -> None:
        """Carry out one post to ``hook``; raises :class:`ApiError` when it cannot."""
        text = str(body.get("text") or "")
        blocks = body.get("blocks") or []
        if not isinstance(blocks, list) or blockkit.check_blocks(blocks):
            raise ApiError("invalid_blocks", status=400)
        original = self._original(workspace, hook)
        if truthy(body.get("delete_original", False)):
            if isinstance(original, Message):
                workspace.messages.delete(original.channel, original.ts)
            elif isinstance(original, Ephemeral):
                workspace.ephemerals.remove(original)
            return
        if truthy(body.get("replace_original", False)) and original is not None:
            if isinstance(original, Message):
                workspace.messages.put(replace(original, text=text, blocks=blocks, edited_ts=workspace.ts.next()))
            else:
                workspace.ephemerals.replace(
                    original, replace(original, text=text, blocks=blocks, response_url=hook.url)
                )
            return
        thread_ts = body.get("thread_ts")
        if body.get("response_type") == "in_channel":
            if hook.channel_id is None:
                raise ApiError("channel_not_found", status=404)
            channel = workspace.directory.resolve(hook.channel_id)
            workspace.post(channel, user=workspace.bot_user_id, text=text, blocks=blocks, thread_ts=thread_ts)
            return
        if hook.user_id is None:
            raise ApiError("response_url_has_no_user", status=400)
        workspace.post_ephemeral(
            user=hook.user_id,
            channel=hook.channel_id,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            response_url=hook.url,
        )

    def clear(self) -> None:
        """Forget every issued response_url."""
        self._hooks.clear()

    @staticmethod
    def _original(workspace: Workspace, hook: Hook) -> Message | Ephemeral | None:
        if hook.message_ts is not None:
            if hook.channel_id is not None:
                message = workspace.messages.get(hook.channel_id, hook.message_ts)
                if message is not None:
                    return message
            if hook.user_id is not None:
                ephemeral = workspace.ephemerals.find(hook.user_id, hook.message_ts)
                if ephemeral is not None:
                    return ephemeral
        if hook.user_id is None:
            return None
        return workspace.ephemerals.latest_from(hook.user_id, hook.url)
