"""Adapters from the Slack Web API to the small callables the services take."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from coachbot import blocks
from coachbot.blocks import digest as digest_blocks
from coachbot.bank import Question
from coachbot.errors import (
    ChannelGoneError,
    NotInChannelError,
    PostingError,
    SlackRejectedError,
    SlackUnavailableError,
)
from coachbot.pacing import LocalPacers, SharedPacer, WorkspacePacer
from coachbot.services.people import Directory, PersonInfo

if TYPE_CHECKING:
    from coachbot.storage.db import Database

log = logging.getLogger(__name__)


def slack_directory(client: WebClient) -> Directory:
    def lookup(team_id: str, user_id: str) -> PersonInfo:
        user = client.users_info(user=user_id)["user"]
        return PersonInfo(
            tz=user.get("tz") or "UTC",
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        )

    return lookup


def slack_links(client: WebClient):
    """Permalinks through chat.getPermalink (the services cache them)."""

    def permalink(team_id: str, channel_id: str, message_ts: str) -> str | None:
        try:
            return client.chat_getPermalink(channel=channel_id, message_ts=message_ts).get("permalink")
        except SlackApiError:
            return None

    return permalink


MAX_MEMBERSHIP_PAGES = 10
MEMBERSHIP_PAGE = 999  # users.conversations: "Must be an integer with a max value of 999" (its method page)


class SlackChannelAccess:
    """Keeps the bot a member of the channels it runs schedules in.

    Slack delivers message and reaction events only from conversations the app is a member
    of, and conversations.history needs membership too, so posting alone (which
    chat:write.public would allow) is not enough.
    """

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def ensure_member(self, team_id: str, channel_id: str) -> None:
        try:
            # conversations.info: a private channel the bot is not in is channel_not_found to it.
            channel = self.client.conversations_info(channel=channel_id)["channel"]
        except SlackApiError as exc:
            if exc.response.get("error") == "channel_not_found":
                raise NotInChannelError("channel_not_found") from exc
            raise _posting_error(exc) from exc
        if channel.get("is_member"):
            return
        if channel.get("is_private") or channel.get("is_im") or channel.get("is_mpim"):
            raise NotInChannelError("private")
        join(self.client, channel_id)


def try_join(client: WebClient, channel_id: str) -> bool:
    """Join a public channel; False if Slack refused (a private channel, archived, ...)."""
    try:
        client.conversations_join(channel=channel_id)
        return True
    except SlackApiError:
        return False


def join(client: WebClient, channel_id: str) -> None:
    """conversations.join for a public channel; a refusal becomes the PostingError it means."""
    try:
        client.conversations_join(channel=channel_id)
    except SlackApiError as exc:
        raise _posting_error(exc) from exc


def slack_memberships(client: WebClient):
    """The channels a person is in (users.conversations, public and private), for App Home."""

    def channels(team_id: str, user_id: str) -> set[str]:
        found: set[str] = set()
        cursor = None
        for _ in range(MAX_MEMBERSHIP_PAGES):
            page = client.users_conversations(user=user_id, types="public_channel,private_channel",
                                              exclude_archived=True, limit=MEMBERSHIP_PAGE, cursor=cursor)
            found |= {c["id"] for c in page.get("channels", [])}
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    return channels


class SlackPromptPoster:
    """Posts daily prompts through the Web API, turning Slack's answers into
    the PostingError subclasses the prompt service understands."""

    METADATA_TYPE = "coachbot_prompt"
    DIGEST_TYPE = "coachbot_digest"

    def __init__(self, client: WebClient, pacer: WorkspacePacer | None = None,
                 posting: PostingTeam | None = None) -> None:
        self.client = client
        self.pacer = pacer  # shared with the client's 429 handler (see prompt_client)
        self.posting = posting or PostingTeam()  # which workspace this thread posts to, for that handler

    def post_prompt(self, team_id: str, channel_id: str, question: Question, slot_key: str, schedule_id: int) -> str:
        metadata = {"event_type": self.METADATA_TYPE,
                    "event_payload": {"slot": slot_key, "schedule": schedule_id, "question": question.id}}
        return self._post_joining(channel_id, blocks.prompt_message(question), metadata)

    def _post_joining(self, channel_id: str, message: dict, metadata: dict) -> str:
        """Post; if the bot was removed from a public channel since, join it again and post."""
        try:
            try:
                return self._post(channel_id, message, metadata)
            except SlackApiError as exc:
                if exc.response.get("error", "") != "not_in_channel" or not try_join(self.client, channel_id):
                    raise
                return self._post(channel_id, message, metadata)
        except SlackApiError as exc:
            raise _posting_error(exc) from exc
        except OSError as exc:  # network faults that outlived slack_sdk's retries: Slack may have the post
            raise SlackUnavailableError(type(exc).__name__, maybe_posted=True) from exc

    def ready(self, team_id: str) -> None:
        self.posting.team_id = team_id
        if self.pacer is not None:
            self.pacer.acquire(team_id)

    def _post(self, channel_id: str, message: dict, metadata: dict) -> str:
        return str(self.client.chat_postMessage(channel=channel_id, metadata=metadata, **message)["ts"])

    def find_prompt(self, team_id: str, channel_id: str, slot_key: str, schedule_id: int, since: datetime) -> str | None:
        # The newest messages, not a time window: Slack's clock and ours may differ, and a
        # claim is only reconciled within minutes of the crash.
        return self._find(channel_id, self.METADATA_TYPE, slot_key, schedule_id)

    def _find(self, channel_id: str, event_type: str, slot_key: str, schedule_id: int) -> str | None:
        try:
            history = self.client.conversations_history(channel=channel_id, include_all_metadata=True, limit=200)
        except (SlackApiError, OSError) as exc:
            raise SlackUnavailableError("could not read the channel to reconcile") from exc
        for message in history.get("messages", []):
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == event_type and payload.get("slot") == slot_key \
                    and str(payload.get("schedule")) == str(schedule_id):
                return str(message["ts"])
        return None

    def post_digest(self, team_id: str, channel_id: str, digest: Any, slot_key: str, schedule_id: int) -> str:
        metadata = {"event_type": self.DIGEST_TYPE, "event_payload": {"slot": slot_key, "schedule": schedule_id}}
        return self._post_joining(channel_id, digest_blocks.digest_message(digest), metadata)

    def find_digest(self, team_id: str, channel_id: str, slot_key: str, schedule_id: int) -> str | None:
        return self._find(channel_id, self.DIGEST_TYPE, slot_key, schedule_id)

    def tell_owner(self, team_id: str, user_id: str, channel_id: str, reason: str) -> None:
        tell_owner(self.client, user_id, channel_id, reason)


def tell_owner(client: WebClient, user_id: str, channel_id: str, reason: str) -> None:
    """DM the person who set up a channel's schedule that it is paused, and why.

    Posting to a user id lands in their DM with the app, which needs the Messages tab
    (else messages_tab_disabled); a DM that fails is logged with Slack's reason."""
    try:
        client.chat_postMessage(channel=user_id, **blocks.invite_needed_message(channel_id, reason))
    except SlackApiError as exc:
        log.warning("could not tell %s that the daily prompt in %s is paused: %s", user_id, channel_id,
                    exc.response.get("error", "error"))
    except OSError as exc:
        log.warning("could not tell %s that the daily prompt in %s is paused: %s", user_id, channel_id,
                    type(exc).__name__)


GONE = {"channel_not_found", "is_archived", "channel_is_archived"}
TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def _posting_error(exc: SlackApiError) -> PostingError:
    error = exc.response.get("error", "")
    status = getattr(exc.response, "status_code", 200)
    if error in GONE:
        return ChannelGoneError(error)
    if error in ("not_in_channel", "method_not_supported_for_channel_type"):
        return NotInChannelError(error)
    if status == 429 or error == "ratelimited":
        return SlackUnavailableError(error or "HTTP 429")  # refused before posting: safe to post again
    if status >= 500 or error in TRANSIENT:
        return SlackUnavailableError(error or f"HTTP {status}", maybe_posted=True)
    # invalid_auth, missing_scope...: nothing a retry fixes, but nothing to stop the schedule for either.
    return SlackRejectedError(error or f"HTTP {status}")


class PostingTeam(threading.local):
    """The workspace the current thread is posting to: the 429 handler sees only the HTTP request."""

    team_id = ""


class PacedRateLimitHandler(RateLimitErrorRetryHandler):
    """On 429, pause every posting thread of the workspace for Retry-After (not just this one),
    in every process sharing the pacer, then retry."""

    def __init__(self, pacer: WorkspacePacer, posting: PostingTeam, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer
        self.posting = posting

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            seconds = float(retry_after[0] if isinstance(retry_after, list) else retry_after)
        except ValueError:
            seconds = 1.0
        self.pacer.pause(self.posting.team_id, seconds)
        self.pacer.acquire(self.posting.team_id)
        state.next_attempt_requested = True
        state.increment_current_attempt()


def prompt_client(base: WebClient, pacer: WorkspacePacer | None = None,
                  posting: PostingTeam | None = None) -> WebClient:
    """A client for the scheduler: paced, and retrying 429 (after Retry-After), 5xx and connection faults."""
    client = WebClient(token=base.token, base_url=base.base_url, timeout=10)
    client.retry_handlers.extend([
        PacedRateLimitHandler(pacer, posting or PostingTeam()) if pacer is not None
        else RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=2,
                                interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.5)),
    ])
    return client


PACE_MARGIN = 0.95


def workspace_pacer(posts_per_minute: int, db: Database | None = None) -> WorkspacePacer:
    """The scheduler's pace per workspace: in this process only, or with ``db`` shared by every
    process posting through that database (``posting_pace``)."""
    # A little under the budget: requests reach Slack with jitter, so two posts paced exactly
    # one interval apart can arrive closer together than that and draw a 429.
    rate, burst = posts_per_minute * PACE_MARGIN, max(1, int(posts_per_minute * PACE_MARGIN))
    if db is None:
        return LocalPacers(rate, burst=burst)
    from coachbot.storage import pace

    return SharedPacer(rate, burst=burst,
                       take=lambda team, now, interval: pace.take(db, team, now=now, interval=interval),
                       hold=lambda team, until: pace.hold(db, team, until=until))


def scheduled_poster(base: WebClient, posts_per_minute: int, db: Database | None = None) -> SlackPromptPoster:
    """The scheduler's poster: the workspace's pacer shared by its posting threads and its 429 handler
    (and, with ``db``, by every other process posting to that workspace)."""
    pacer = workspace_pacer(posts_per_minute, db)
    posting = PostingTeam()
    return SlackPromptPoster(prompt_client(base, pacer, posting), pacer, posting)
