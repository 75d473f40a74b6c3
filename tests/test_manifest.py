"""manifest.yml asks for exactly the scopes and events the code uses: no more, no fewer.

The calls and listeners are read from the source (every ``client.<method>(`` and every
``app.event(...)`` / ``app.command(...)``), and the scopes each needs from the same table the
stand-in enforces (coachbot.standin.manifest, taken from Slack's method and event pages).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coachbot.standin.manifest import EVENT_SCOPES, AppManifest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for folder in ("coachbot", "handlers") for p in (ROOT / folder).rglob("*.py")
           if not {"standin", "demo"} & set(p.relative_to(ROOT).parts)]

#: coachbot runs schedules, reads threads and lists memberships in public and private channels.
CONVERSATION_KINDS = frozenset({"public_channel", "private_channel"})
#: A ``message`` listener hears each kind through its own subscription.
MESSAGE_SUBSCRIPTIONS = {"public_channel": "message.channels", "private_channel": "message.groups"}

_CALL = re.compile(r"\bclient\.([a-z]+)_([A-Za-z]+)\(")
#: The Web API's method families (slack-ruby/slack-api-ref, ``methods/``): a ``client.x_y(`` call in
#: another family is not a Web API call (the Socket Mode client's ``stop_accepting``, say).
FAMILIES = frozenset({
    "admin", "agents", "api", "apps", "assistant", "auth", "blocks", "bookmarks", "bots", "calls", "canvases",
    "chat", "conversations", "dialog", "dnd", "emoji", "entity", "files", "functions", "lists", "migration",
    "oauth", "openid", "pins", "reactions", "reminders", "rtm", "search", "stars", "team", "tooling",
    "usergroups", "users", "views", "workflows",
})
_EVENT = re.compile(r"\bapp\.event\(\s*\"([a-z_]+)\"")
_COMMAND = re.compile(r"\bapp\.command\(\s*\"(/[a-z-]+)\"")


def _source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)


def called_methods() -> set[str]:
    return {f"{family}.{name}" for family, name in _CALL.findall(_source()) if family in FAMILIES}


def listened_events() -> set[str]:
    return set(_EVENT.findall(_source()))


def needed_scopes(manifest: AppManifest) -> set[str]:
    scopes: set[str] = set()
    for method in called_methods():
        needed = manifest.scopes_for(method, CONVERSATION_KINDS)
        assert needed is not None, f"{method}: add its scopes (from its method page) to the stand-in's table"
        if method in ("conversations.info", "conversations.history", "conversations.replies",
                      "users.conversations"):
            scopes |= needed  # one scope per kind of conversation, each needed
        elif needed:
            scopes.add(_one_of(needed, scopes))
    for event in sorted(subscriptions()):
        if EVENT_SCOPES[event]:
            scopes.add(_one_of(EVENT_SCOPES[event], scopes))
    if _COMMAND.search(_source()):
        scopes.add("commands")
    return scopes


def _one_of(options: frozenset[str], granted: set[str]) -> str:
    """A call or event that any one of several scopes allows: one already needed, or the only one."""
    already = options & granted
    if already:
        return sorted(already)[0]
    assert len(options) == 1, f"choose which of {sorted(options)} the manifest should grant"
    return next(iter(options))


def subscriptions() -> set[str]:
    found: set[str] = set()
    for event in listened_events():
        if event == "message":
            found |= {MESSAGE_SUBSCRIPTIONS[kind] for kind in CONVERSATION_KINDS}
        else:
            found.add(event)
    return found


@pytest.fixture(scope="module")
def manifest() -> AppManifest:
    return AppManifest.shipped()


def test_the_scan_finds_the_calls_and_listeners():
    # Guards the scan itself: these are certainly in the code.
    assert {"chat.postMessage", "views.publish", "users.info"} <= called_methods()
    assert {"message", "reaction_added", "app_home_opened"} <= listened_events()


def test_scopes_are_exactly_what_the_code_needs(manifest: AppManifest):
    needed = needed_scopes(manifest)
    assert set(manifest.bot_scopes) - needed == set(), "scopes nothing uses"
    assert needed - set(manifest.bot_scopes) == set(), "scopes the code needs but the manifest lacks"


def test_event_subscriptions_are_exactly_what_the_code_listens_to(manifest: AppManifest):
    assert set(manifest.bot_events) == subscriptions()


def test_every_subscribed_event_has_its_scope(manifest: AppManifest):
    for event in manifest.bot_events:
        assert EVENT_SCOPES[event] == frozenset() or EVENT_SCOPES[event] & manifest.bot_scopes, event


def test_the_packaged_manifest_is_the_one_admins_paste():
    packaged = ROOT / "coachbot" / "manifest.yml"
    assert packaged.resolve() == (ROOT / "manifest.yml").resolve()
