"""What the app's manifest grants, and the Slack rules that hang on it.

Real Slack decides several things from the app's configuration rather than
from the call in front of it: which scopes a token carries (a call without
one fails ``missing_scope``), whether the bot may post into a public channel
it is not in (``chat:write.public``), whether people can get DMs from the app
(the Messages tab), how slash-command text arrives (``should_escape``) and
which events are delivered at all (the bot-event subscriptions, and only
from conversations the app is a member of). The stand-in reads the same
``manifest.yml`` a workspace admin pastes into Slack, so a scope or setting
the manifest lacks fails here the way it would there.

Sources (each table below names its own):
- method scopes: the method pages in slack-ruby/slack-api-ref
  (``docs.slack.dev/methods/<method>.json``, field ``scope.bot``), which
  mirror https://docs.slack.dev/reference/methods;
- event scopes and names: ``docs.slack.dev/events/events.json`` in the same
  repository, mirroring https://docs.slack.dev/reference/events;
- the manifest's fields: slackapi/manifest-schema (``manifest.schema.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

#: Bot scopes each Web API method needs (any one of them, per the method page's ``scope.bot``).
#: Methods whose scope depends on the kind of conversation use CONVERSATION_SCOPES instead.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),  # docs.slack.dev/methods/auth.test.json: no scope
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "chat.getPermalink": frozenset(),  # no scope listed
    "conversations.join": frozenset({"channels:join"}),
    "conversations.open": frozenset({"channels:manage", "groups:write", "im:write", "mpim:write"}),
    "users.info": frozenset({"users:read"}),
    "views.open": frozenset(),  # views.* need only a trigger or the app's own view
    "views.push": frozenset(),
    "views.update": frozenset(),
    "views.publish": frozenset(),
    "apps.connections.open": frozenset(),  # an app-level token with connections:write, not a bot scope
}

#: Methods whose page lists one scope per conversation kind (public, private, DM, group DM):
#: the call needs the one for the kind of conversation it names.
CONVERSATION_SCOPES: dict[str, str] = {
    "conversations.info": "read",  # channels:read, groups:read, im:read, mpim:read
    "conversations.history": "history",  # channels:history, groups:history, ...
    "conversations.replies": "history",
    "users.conversations": "read",  # per kind listed in ``types``
}

#: The scope family prefix per conversation kind (Slack's names: a private channel is a "group").
KIND_PREFIX = {"public_channel": "channels", "private_channel": "groups", "im": "im", "mpim": "mpim"}

#: Bot events and the scopes that grant each, any one of them (docs.slack.dev/events/events.json,
#: field ``scopes``).
#: A subscription to ``message`` is per kind of conversation: message.channels and so on.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "message.channels": frozenset({"channels:history"}),
    "message.groups": frozenset({"groups:history"}),
    "message.im": frozenset({"im:history"}),
    "message.mpim": frozenset({"mpim:history"}),
    "reaction_added": frozenset({"reactions:read"}),
    "reaction_removed": frozenset({"reactions:read"}),
    "app_home_opened": frozenset(),
    "channel_left": frozenset({"channels:read"}),
    "group_left": frozenset({"groups:read"}),
    "member_left_channel": frozenset({"channels:read", "groups:read"}),
    "app_uninstalled": frozenset(),
    "tokens_revoked": frozenset(),
}

#: Events Slack sends every app whatever it subscribes to (the events page marks them ``app_event``).
ALWAYS_DELIVERED = frozenset({"app_uninstalled", "tokens_revoked"})

#: Events that concern a message in a conversation: Slack delivers them only from conversations
#: the app is a member of (https://docs.slack.dev/apis/events-api/, "Events API" > permissions;
#: the reaction and message event pages say the same).
MEMBERSHIP_GATED = frozenset({"message", "reaction_added", "reaction_removed"})


@dataclass(frozen=True)
class AppManifest:
    """The parts of an app manifest the stand-in obeys."""

    bot_scopes: frozenset[str]
    bot_events: frozenset[str]
    messages_tab_enabled: bool = True
    messages_tab_read_only: bool = False
    #: ``should_escape`` per slash command (``/prep`` -> True)
    escaped_commands: dict[str, bool] = field(default_factory=dict)
    socket_mode_enabled: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AppManifest":
        features = data.get("features") or {}
        home = features.get("app_home") or {}
        scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
        settings = data.get("settings") or {}
        events = (settings.get("event_subscriptions") or {}).get("bot_events") or []
        commands = {c["command"]: bool(c.get("should_escape", False)) for c in features.get("slash_commands") or []}
        return cls(
            bot_scopes=frozenset(scopes),
            bot_events=frozenset(events),
            # manifest-schema: messages_tab_enabled and messages_tab_read_only_enabled default to false
            messages_tab_enabled=bool(home.get("messages_tab_enabled", False)),
            messages_tab_read_only=bool(home.get("messages_tab_read_only_enabled", False)),
            escaped_commands=commands,
            socket_mode_enabled=bool(settings.get("socket_mode_enabled", False)),
        )

    @classmethod
    def load(cls, path: Path) -> "AppManifest":
        return cls.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))

    @classmethod
    def shipped(cls) -> "AppManifest":
        """coachbot's own manifest.yml (the one the README tells admins to paste)."""
        return cls.load(Path(str(resources.files("coachbot").joinpath("manifest.yml"))))

    @classmethod
    def everything(cls) -> "AppManifest":
        """Every scope and event the stand-in knows, the Messages tab on, but not ``chat:write.public``:
        for testing the stand-in's own behaviour whatever coachbot's manifest asks for."""
        scopes = set().union(*METHOD_SCOPES.values(), *EVENT_SCOPES.values(), {"commands"})
        scopes |= {f"{prefix}:{kind}" for prefix in KIND_PREFIX.values() for kind in ("read", "history")}
        return cls(bot_scopes=frozenset(scopes), bot_events=frozenset(EVENT_SCOPES))

    # --- the rules ---------------------------------------------------------

    def scopes_for(self, method: str, kinds: frozenset[str]) -> frozenset[str] | None:
        """The scopes that would let ``method`` run on conversations of ``kinds``; None: no rule known."""
        if method in CONVERSATION_SCOPES:
            family = CONVERSATION_SCOPES[method]
            return frozenset(f"{KIND_PREFIX[k]}:{family}" for k in kinds)
        return METHOD_SCOPES.get(method)

    def missing_scope(self, method: str, kinds: frozenset[str]) -> str | None:
        """The scope ``method`` lacks (Slack's ``needed`` field), or None if the token may call it.

        A per-kind method needs the scope of every kind it touches; any other method one of its scopes.
        """
        needed = self.scopes_for(method, kinds)
        if not needed:
            return None
        if method in CONVERSATION_SCOPES:
            lacking = sorted(needed - self.bot_scopes)
            return ",".join(lacking) or None
        return None if needed & self.bot_scopes else ",".join(sorted(needed))

    def subscribed(self, event_type: str, kind: str | None) -> bool:
        """Does the app get this event? ``message`` events are subscribed per conversation kind."""
        if event_type in ALWAYS_DELIVERED:
            return True
        name = event_type
        if event_type == "message":
            suffix = {"public_channel": "channels", "private_channel": "groups", "im": "im", "mpim": "mpim"}
            name = f"message.{suffix.get(kind or '', 'channels')}"
        if name not in self.bot_events:
            return False
        needed = EVENT_SCOPES.get(name, frozenset())
        return not needed or bool(needed & self.bot_scopes)

    def escapes(self, command: str) -> bool:
        return self.escaped_commands.get(command, False)


# --- slash-command text as Slack sends it ------------------------------------

_MENTION_TYPED = re.compile(r"(?<![\w<@#])([@#])([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
_LINK_TYPED = re.compile(r"(?<![<|])\b(https?://[^\s<>]+|mailto:[^\s<>]+)")


def slash_text(typed: str, *, escape: bool, users: dict[str, str], channels: dict[str, str]) -> str:
    """The ``text`` field Slack sends for what a person typed after the command.

    Slack encodes ``&``, ``<`` and ``>`` as HTML entities in all text it sends
    (https://docs.slack.dev/messaging/formatting-message-text, "Escaping text").
    With ``should_escape: true`` it also turns @names, #channels and links the
    person picked or typed into its markup: ``<@U123|ben>``, ``<#C123|general>``
    and ``<https://example.com>`` (https://docs.slack.dev/interactivity/implementing-slash-commands,
    "Escaping"); with ``false`` they arrive as typed (``@ben``).
    ``users`` and ``channels`` map names to ids.
    """
    text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if not escape:
        return text
    by_user = {name.lower(): uid for name, uid in users.items()}
    by_channel = {name.lower(): cid for name, cid in channels.items()}

    def mention(match: re.Match[str]) -> str:
        sigil, name = match.group(1), match.group(2)
        table = by_user if sigil == "@" else by_channel
        found = table.get(name.lower())
        if found is None:
            return match.group(0)
        return f"<@{found}|{name}>" if sigil == "@" else f"<#{found}|{name}>"

    text = _MENTION_TYPED.sub(mention, text)
    return _LINK_TYPED.sub(lambda m: f"<{m.group(1)}>", text)
