"""``StandInSlack``: a stand-in for Slack's Web API on 127.0.0.1, for tests, demos and benchmarks.

Point slack_sdk (or Bolt) at it and it answers like Slack where that matters
to coachbot: bot-token auth, channel membership and archiving, threads,
ephemerals, message metadata, modals and App Home, response_urls, rate
limits. It records everything it is asked, and can be told to fail::

    with StandInSlack() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.messages("C1")[0].text == "hi"
        slack.fail("chat.postMessage", status=429, retry_after=3)

Every public method is thread-safe: the HTTP handler threads and the test
thread share one lock, and every record handed out is an immutable snapshot.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Protocol, TypeVar
from urllib.parse import parse_qsl

from coachbot.standin.errors import ApiError
from coachbot.standin.faults import Fault, FaultBook
from coachbot.standin.listener import LoopbackListener, Reply
from coachbot.standin.manifest import MEMBERSHIP_GATED, AppManifest
from coachbot.standin.model import Call, Channel, Ephemeral, JsonDict, Message, ResponsePost, User, View
from coachbot.standin.params import decode_params
from coachbot.standin.ratelimit import PostRateLimiter
from coachbot.standin.response_urls import ResponseUrls
from coachbot.standin.triggers import make_trigger_id
from coachbot.standin.web_api import WebApi
from coachbot.standin.workspace import Workspace

T = TypeVar("T")


class SocketModeUrls(Protocol):
    """What apps.connections.open needs of the Socket Mode stand-in."""

    app_token: str

    def new_url(self) -> str: ...

_RATE_LIMITED_METHODS = frozenset({"chat.postMessage"})

#: Called with the app-level token, not the bot token (https://api.slack.com/methods/apps.connections.open).
APPS_CONNECTIONS_OPEN = "apps.connections.open"


class StandInSlack:
    """A fake Slack workspace serving the Web API over loopback HTTP.

    ``auto_channels``: unknown ``C...`` ids are public channels the bot is
    in and ``D...`` ids DMs, created on first use. ``auto_users``: unknown
    users look like ordinary people in UTC. ``clock`` (monotonic seconds)
    drives the rate limits, ``wall_clock`` the message timestamps; inject
    either to make tests exact.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin",
        team_id: str = "T0STANDIN",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0STANDIN",
        auto_channels: bool = True,
        auto_users: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        manifest: AppManifest | None = None,
        bot_in_new_channels: bool = False,
    ) -> None:
        self.bot_token = bot_token
        # What the app's manifest grants decides scopes, posting, DMs, command text and events,
        # as in Slack: by default coachbot's own manifest.yml.
        self.manifest = manifest or AppManifest.shipped()
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self._lock = threading.RLock()
        self._changed = threading.Condition(threading.Lock())
        self._version = 0
        self._stopping = threading.Event()
        self._ws = Workspace(
            team_id=team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            auto_channels=auto_channels,
            auto_users=auto_users,
            wall_clock=wall_clock,
            bot_in_new_channels=bot_in_new_channels,
        )
        self._api = WebApi(self._ws, self.manifest)
        self._hooks = ResponseUrls()
        self._faults = FaultBook()
        self._limiter = PostRateLimiter(clock)
        self._calls: list[Call] = []
        self._response_posts: list[ResponsePost] = []
        self._ack_replies: list[ResponsePost] = []
        self._listener = LoopbackListener(self)
        self._socket_modes: dict[str, SocketModeUrls] = {}  # by app-level token: one per app

    # Lifecycle

    def start(self) -> StandInSlack:
        """Start listening on 127.0.0.1 (ephemeral port); returns ``self``."""
        self._stopping.clear()
        self._listener.start()
        return self

    def stop(self) -> None:
        """Stop listening; cuts injected delays short and waits for in-flight requests. Idempotent."""
        self._stopping.set()
        self._listener.stop()

    def __enter__(self) -> StandInSlack:
        """Start; ``with StandInSlack() as slack:``."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop, whatever happened in the block."""
        self.stop()

    @property
    def port(self) -> int:
        """The port the stand-in listens on (only while running)."""
        return self._listener.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base for ``WebClient(base_url=...)``, with its trailing slash."""
        return f"{self.base_url}/api/"

    def attach_socket_mode(self, socket_mode: SocketModeUrls) -> None:
        """Answer apps.connections.open with its app token with URLs from ``socket_mode``
        (``StandInSocketMode`` attaches itself when started, and detaches when stopped)."""
        with self._lock:
            self._socket_modes[socket_mode.app_token] = socket_mode

    def detach_socket_mode(self, socket_mode: SocketModeUrls) -> None:
        with self._lock:
            if self._socket_modes.get(socket_mode.app_token) is socket_mode:
                del self._socket_modes[socket_mode.app_token]

    # Set-up

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        is_private: bool = False,
        is_archived: bool = False,
        is_member: bool = True,
        members: Iterable[str] = (),
    ) -> Channel:
        """Create (or replace) a channel; ``name`` defaults to the lower-cased id.

        ``is_member`` says whether the bot is in it; ``members`` are the
        people in it (user ids; the bot's own id is refused, use ``is_member``).
        """
        people = frozenset(members) if not isinstance(members, str) else None
        if people is None:
            raise TypeError("members must be an iterable of user ids, not one string")
        if self.bot_user_id in people:
            raise ValueError("the bot's membership is is_member=, not members=")
        with self._lock:
            channel = self._ws.directory.add_channel(
                channel_id, name, is_private=is_private, is_archived=is_archived, is_member=is_member, members=people
            )
        self._bump()
        return channel

    def join(self, channel_id: str, user_id: str) -> Channel:
        """Put a person in a channel (no-op if there); the bot's id sets ``is_member`` instead.

        ``ValueError`` for an unknown channel or a DM (whose members are fixed).
        """
        with self._lock:
            channel = self._membership_target(channel_id)
            if user_id == self.bot_user_id:
                channel = self._ws.directory.update(replace(channel, is_member=True))
            else:
                channel = self._ws.directory.join(channel.id, user_id)
        self._bump()
        return channel

    def leave(self, channel_id: str, user_id: str) -> Channel:
        """Take a person out of a channel (no-op if absent); the bot's id clears ``is_member``."""
        with self._lock:
            channel = self._membership_target(channel_id)
            if user_id == self.bot_user_id:
                channel = self._ws.directory.update(replace(channel, is_member=False))
            else:
                channel = self._ws.directory.leave(channel.id, user_id)
        self._bump()
        return channel

    def channel(self, channel_id: str) -> Channel | None:
        """A channel (or DM) as it is now, without creating it; a user id means the DM with them."""
        with self._lock:
            return self._ws.directory.get(self._channel_id(channel_id))

    def remove_channel(self, channel_id: str) -> None:
        """Delete a channel and its messages (later calls naming it get ``channel_not_found``)."""
        with self._lock:
            self._ws.directory.remove_channel(channel_id)
            self._ws.messages.drop_channel(channel_id)

    def archive(self, channel_id: str) -> Channel:
        """Archive a channel: posting fails with ``is_archived``, reading still works."""
        with self._lock:
            return self._ws.directory.archive(self._resolve_for_setup(channel_id).id)

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
    ) -> User:
        """Create (or replace) a user; ``tz`` is an IANA zone (``ValueError`` if unknown)."""
        with self._lock:
            return self._ws.directory.add_user(
                user_id, name, real_name=real_name, tz=tz, is_admin=is_admin, is_owner=is_owner, is_bot=is_bot
            )

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM with a user, opening it if needed."""
        with self._lock:
            return self._resolve_for_setup(user_id).id

    def post_as_user(self, channel: str, user_id: str, text: str, thread_ts: str | None = None) -> Message:
        """Store a message from a person, as if typed in Slack; sends no event (the caller does).

        The poster becomes one of the channel's ``members`` (DMs excepted).
        """
        with self._lock:
            target = self._resolve_for_setup(channel)
            if not target.is_im and user_id != self.bot_user_id:
                target = self._ws.directory.join(target.id, user_id)
            message = self._ws.post(target, user=user_id, text=text, thread_ts=thread_ts)
        self._bump()
        return message

    def add_reaction(self, channel: str, ts: str, user_id: str, emoji: str) -> Message:
        """Record a person's emoji reaction on a message (``":tada:"`` or ``"tada"``); sends no event.

        Returns the message as it is now. ``ValueError`` (``message_not_found``,
        ``invalid_name``, ``already_reacted``) as reactions.add would fail.
        """
        with self._lock:
            try:
                message = self._ws.add_reaction(self._channel_id(channel), ts, user_id, emoji)
            except ApiError as error:
                raise ValueError(f"{error.error}: {emoji!r} on {channel} {ts} by {user_id}") from error
        self._bump()
        return message

    def remove_reaction(self, channel: str, ts: str, user_id: str, emoji: str) -> Message:
        """Take back a person's reaction; ``ValueError`` (``message_not_found``, ``no_reaction``...)."""
        with self._lock:
            try:
                message = self._ws.remove_reaction(self._channel_id(channel), ts, user_id, emoji)
            except ApiError as error:
                raise ValueError(f"{error.error}: {emoji!r} on {channel} {ts} by {user_id}") from error
        self._bump()
        return message

    def delivery_refusal(self, event: JsonDict) -> str | None:
        """Why Slack would not deliver ``event`` to this app (None: it would).

        Slack sends only the events the app subscribes to (with the scope each needs),
        and message and reaction events only from conversations the app is a member of
        (https://docs.slack.dev/apis/events-api/; see coachbot.standin.manifest).
        """
        event_type = str(event.get("type") or "")
        channel_ref = event.get("channel")
        item = event.get("item")
        if event_type.startswith("reaction_") and isinstance(item, dict):
            channel_ref = item.get("channel")
        with self._lock:
            channel = self._ws.directory.get(str(channel_ref)) if isinstance(channel_ref, str) else None
        kind = None if channel is None else _kind(channel)
        if not self.manifest.subscribed(event_type, kind):
            return f"the manifest does not subscribe to {event_type} ({kind or 'no conversation'})"
        if event_type in MEMBERSHIP_GATED and channel is not None and not channel.is_im and not channel.is_member:
            return f"the bot is not a member of {channel.id}"
        return None

    def new_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id for an action by ``user_id`` (single use, like Slack's)."""
        return make_trigger_id(user_id)

    def new_response_url(
        self, *, user_id: str | None = None, channel_id: str | None = None, message_ts: str | None = None
    ) -> str:
        """Issue a response_url for an interaction by ``user_id`` in ``channel_id``.

        ``message_ts`` names the message (channel message or ephemeral) the
        interaction came from; ``replace_original`` / ``delete_original``
        then act on it. Without it they act on the latest ephemeral posted
        through this URL. Needs :meth:`start` (the URL names the port).
        """
        with self._lock:
            hook = self._hooks.issue(self.base_url, user_id=user_id, channel_id=channel_id, message_ts=message_ts)
        return hook.url

    # Faults and limits

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        channel: str | None = None,
        delay_after: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (``times=-1``: until :meth:`clear_faults`).

        ``status`` 200 with ``error`` answers ``{"ok": false, "error": error}``;
        another status (429, 500, 503...) answers that HTTP status, 429 with
        a ``Retry-After`` header (``retry_after``, default 1). ``delay``
        sleeps first; with neither error nor status the call then goes
        through (a slow Slack). ``delay_after`` lets the call be handled and
        recorded at once, then holds the answer back that long (the post has
        landed; the client does not know yet). ``channel`` limits the fault to
        calls naming that channel. ``method="response_url"`` faults
        response_url posts.
        """
        if delay_after < 0:
            raise ValueError("delay_after cannot be negative")
        if status == 200 and error is None and delay <= 0 and delay_after <= 0:
            raise ValueError("a fault needs an error, a non-200 status, a delay or a delay_after")
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(method, error, status, retry_after, delay, channel, delay_after)
        self._faults.add(fault, times)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self._faults.clear()

    def set_rate_limits(
        self, *, per_channel_per_second: float | None = None, workspace_per_minute: float | None = None
    ) -> None:
        """Rate-limit chat.postMessage per channel and per workspace (``None`` lifts a limit).

        A call over a limit gets HTTP 429, ``ratelimited`` and a
        ``Retry-After`` of whole seconds (at least 1) until a slot frees.
        """
        self._limiter.configure(
            per_channel_per_second=per_channel_per_second, workspace_per_minute=workspace_per_minute
        )

    @property
    def rate_limited_count(self) -> int:
        """How many calls the rate limits refused."""
        return self._limiter.limited_count

    # Recordings

    @property
    def calls(self) -> list[Call]:
        """Every Web API call received, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one method, oldest first."""
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def messages(self, channel: str) -> list[Message]:
        """A channel's visible top-level messages, oldest first (a user id means the DM with them)."""
        with self._lock:
            return self._ws.messages.top_level(self._channel_id(channel))

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        """A thread's replies, oldest first, without the parent."""
        with self._lock:
            return self._ws.messages.thread(self._channel_id(channel), thread_ts)

    def message(self, channel: str, ts: str) -> Message | None:
        """One message (top-level or reply) as it is now, ``None`` if deleted or unknown."""
        with self._lock:
            return self._ws.messages.get(self._channel_id(channel), ts)

    def ephemerals(self, user_id: str) -> list[Ephemeral]:
        """What only this user sees: chat.postEphemeral and ephemeral response_url posts."""
        with self._lock:
            return self._ws.ephemerals.for_user(user_id)

    def views(self, user_id: str) -> list[View]:
        """The current state of each modal shown to the user, in opening order."""
        with self._lock:
            return self._ws.views.modals(user_id)

    def home(self, user_id: str) -> View | None:
        """The user's last published App Home view."""
        with self._lock:
            return self._ws.views.home(user_id)

    def home_publishes(self, user_id: str) -> int:
        """How many times views.publish has set the user's App Home (since start or :meth:`reset`)."""
        with self._lock:
            return self._ws.views.home_publishes(user_id)

    def reactions(self, channel: str, ts: str) -> dict[str, list[str]]:
        """``{emoji: [user ids]}`` on a message, in reaction order; ``{}`` if none or no such message."""
        with self._lock:
            message = self._ws.messages.get(self._channel_id(channel), ts)
            if message is None:
                return {}
            return {name: list(users) for name, users in message.reactions.items()}

    def response_posts(self, url: str | None = None) -> list[ResponsePost]:
        """Every POST to a response_url (to ``url`` only, if given), oldest first."""
        with self._lock:
            return [post for post in self._response_posts if url is None or post.url == url]

    def ack_replies(self, url: str | None = None) -> list[ResponsePost]:
        """Every slash command acknowledgement that carried a message (by its command's response_url)."""
        with self._lock:
            return [post for post in self._ack_replies if url is None or post.url == url]

    def show_ack_reply(self, response_url: str, body: JsonDict) -> None:
        """Show a slash command's acknowledgement body as Slack does: a message in the HTTP 200
        is the command's reply, ephemeral unless ``response_type`` is ``in_channel``, by the same
        rules as a post to its response_url ("Responding to slash commands",
        https://api.slack.com/interactivity/slash-commands)."""
        token = response_url.rsplit("/", 1)[-1]
        with self._lock:
            hook = self._hooks.get(token)
            if hook is None:
                raise ValueError("not a response_url this stand-in issued")
            self._hooks.apply(self._ws, hook, body)
            self._ack_replies.append(ResponsePost(hook.url, hook.user_id, hook.channel_id, body, time.time()))
        self._bump()

    def user_names(self) -> dict[str, str]:
        """``{user id: name}`` of known users, for ``render_*(users=...)``."""
        with self._lock:
            return self._ws.directory.display_names()

    def channel_names(self) -> dict[str, str]:
        """``{channel name: id}`` of the known channels (DMs excepted)."""
        with self._lock:
            return self._ws.directory.channel_names()

    def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, *, message: str | None = None
    ) -> T:
        """Wait until ``predicate()`` returns something truthy and return it.

        Re-checks whenever the stand-in records something (and at least
        every 50 ms). Raises ``AssertionError`` naming the predicate and the
        latest calls when ``timeout`` seconds pass.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                seen = self._version
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_message(predicate, timeout, message, value))
            with self._changed:
                if self._version == seen:
                    self._changed.wait(min(remaining, 0.05))

    def reset(self) -> None:
        """Forget calls, messages and reactions, ephemerals, views, response posts, faults, rate-limit state.

        Channels (with their members), users, issued response_urls and configured limits stay.
        """
        with self._lock:
            self._calls.clear()
            self._response_posts.clear()
            self._ack_replies.clear()
            self._ws.clear()
            self._faults.clear()
            self._limiter.reset()
        self._bump()

    # HTTP routes (called by the listener's threads)

    def handle_api(self, method: str, headers: Mapping[str, str], body: bytes, query: str) -> Reply:
        """Answer one Web API call: auth, injected faults, rate limits, then the method."""
        at = time.time()
        answer: JsonDict | None = None
        status = 200
        extra_headers: tuple[tuple[str, str], ...] = ()
        try:
            params = decode_params(body, headers.get("content-type", ""), query)
        except ApiError as error:
            params, answer = {}, _error_body(error)
        app_token = _bearer(headers) if method == APPS_CONNECTIONS_OPEN else ""
        if answer is None:
            answer = self._check_app_auth(app_token) if method == APPS_CONNECTIONS_OPEN \
                else self._check_auth(headers, params)
        fault = None
        if answer is None:
            fault = self._faults.take(method, _channel_arg(params))
            status, answer, extra_headers = self._apply_fault(fault)
        if answer is None and method in _RATE_LIMITED_METHODS:
            wait = self._limiter.admit(_channel_arg(params) or "")
            if wait is not None:
                status, answer = 429, {"ok": False, "error": "ratelimited"}
                extra_headers = (("Retry-After", str(wait)),)
        with self._lock:
            if answer is None and method == APPS_CONNECTIONS_OPEN:
                socket_mode = self._socket_modes.get(app_token)
                answer = {"ok": True, "url": socket_mode.new_url()} if socket_mode is not None else \
                    {"ok": False, "error": "invalid_auth"}
            if answer is None:
                try:
                    answer = self._api.call(method, params)
                except ApiError as error:
                    status, answer = error.status, _error_body(error)
            error_code = None if answer.get("ok") else str(answer.get("error"))
            self._calls.append(Call(method, params, at, status, error_code))
        self._bump()
        if fault is not None and fault.delay_after > 0:
            self._stopping.wait(fault.delay_after)  # handled and recorded; the answer is late
        return Reply.json(status, answer, extra_headers)

    def handle_response_url(self, token: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer a POST to a response_url the way Slack does (``ok`` as text)."""
        at = time.time()
        with self._lock:
            hook = self._hooks.get(token)
        if hook is None:
            return Reply.text(404, "no_service")
        payload = _response_payload(body, headers.get("content-type", ""))
        if payload is None:
            return Reply.text(400, "invalid_payload")
        fault = self._faults.take("response_url", hook.channel_id)
        if fault is not None and fault.delay > 0:
            self._stopping.wait(fault.delay)
        with self._lock:
            if fault is not None and fault.fails:
                retry = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
                reply = Reply.text(fault.status, fault.error_code, retry)
            else:
                try:
                    self._hooks.apply(self._ws, hook, payload)
                    reply = Reply.text(200, "ok")
                except ApiError as error:
                    reply = Reply.text(error.status if error.status != 200 else 400, error.error)
            self._response_posts.append(ResponsePost(hook.url, hook.user_id, hook.channel_id, payload, at))
        self._bump()
        if fault is not None and fault.delay_after > 0:
            self._stopping.wait(fault.delay_after)
        return reply

    # Internals

    def _check_auth(self, headers: Mapping[str, str], params: JsonDict) -> JsonDict | None:
        authorization = headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            token = authorization[len("Bearer ") :]
        else:
            token = str(params.get("token") or "")
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _check_app_auth(self, token: str) -> JsonDict | None:
        """apps.connections.open takes only an app-level token: a bot or user token is
        ``not_allowed_token_type``, an unknown app token ``invalid_auth`` (errors as in
        slack-ruby/slack-api-ref methods/apps/apps.connections.open.json)."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        with self._lock:
            if token not in self._socket_modes:
                return {"ok": False, "error": "invalid_auth"}
        return None

    def _apply_fault(self, fault: Fault | None) -> tuple[int, JsonDict | None, tuple[tuple[str, str], ...]]:
        if fault is None:
            return 200, None, ()
        if fault.delay > 0:
            self._stopping.wait(fault.delay)
        if not fault.fails:
            return 200, None, ()
        retry = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
        return fault.status, {"ok": False, "error": fault.error_code}, retry

    def _bump(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def _channel_id(self, ref: str) -> str:
        if self._ws.directory.get(ref) is None and ref[:1] in {"U", "W"}:
            return self._ws.directory.dm_for(ref) or ref
        return ref

    def _membership_target(self, ref: str) -> Channel:
        channel = self._ws.directory.get(ref)
        if channel is None:
            channel = self._resolve_for_setup(ref)
        if channel.is_im:
            raise ValueError(f"{channel.id} is a DM: its members are fixed")
        return channel

    def _resolve_for_setup(self, ref: str) -> Channel:
        try:
            return self._ws.directory.resolve(ref)
        except ApiError as error:
            raise ValueError(f"{error.error}: {ref!r} (add it with add_channel first)") from error

    def _timeout_message(
        self, predicate: Callable[[], object], timeout: float, message: str | None, last: object
    ) -> str:
        name = message or getattr(predicate, "__qualname__", repr(predicate))
        recent = ", ".join(f"{c.method}->{c.error or c.status}" for c in self.calls[-8:]) or "none"
        return f"wait_for({name}) timed out after {timeout}s (last value {last!r}); latest calls: {recent}"


def _kind(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


def _bearer(headers: Mapping[str, str]) -> str:
    authorization = headers.get("authorization", "")
    return authorization[len("Bearer "):] if authorization.startswith("Bearer ") else ""


def _error_body(error: ApiError) -> JsonDict:
    return {"ok": False, "error": error.error, **error.extra}


def _channel_arg(params: JsonDict) -> str | None:
    return str(params.get("channel") or "") or None


def _response_payload(body: bytes, content_type: str) -> JsonDict | None:
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/x-www-form-urlencoded"):
            text = dict(parse_qsl(text)).get("payload", "{}")
        payload = json.loads(text or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
