"""One root error class, small named subclasses.

Handlers and the CLI catch ``CoachbotError`` (or a subclass) and turn it into
a friendly message; anything else is a bug and goes to the global error
handler.
"""

from __future__ import annotations


class CoachbotError(Exception):
    """Base of every error coachbot raises on purpose."""


class ConfigError(CoachbotError):
    """A setting is missing or malformed. The message names the variable."""


class QuestionBankError(CoachbotError):
    """The question bank failed validation. ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems) if problems else "question bank is invalid")


class NotFoundError(CoachbotError):
    """A thing named by a request (question, answer, schedule) does not exist for this team."""


class InvalidInputError(CoachbotError):
    """A person typed something we cannot act on. The message is shown to them."""


class AnswerTooLongError(InvalidInputError):
    """An answer over the stored limit: refused whole, never truncated."""


class StorageUnavailableError(CoachbotError):
    """The database could not be reached; the caller should ask the person to try again."""


class PostingError(CoachbotError):
    """Slack would not take a post. Subclasses say what to do about it."""


class ChannelGoneError(PostingError):
    """The channel is archived or no longer exists: stop posting there."""


class NotInChannelError(PostingError):
    """The bot is not a member and cannot join (a private channel): someone must /invite it."""


class SlackUnavailableError(PostingError):
    """Slack failed for now (5xx, network, rate limits past our retries): try again on the next tick.

    ``maybe_posted``: the outcome is unknown (a timeout, a dropped connection, a 5xx after
    the request went out), so the post may exist; check the channel before posting again."""

    def __init__(self, message: str = "", *, maybe_posted: bool = False) -> None:
        super().__init__(message)
        self.maybe_posted = maybe_posted


class SlackRejectedError(SlackUnavailableError):
    """Slack refused the call itself (invalid_auth, missing_scope, ...): nothing was posted,
    and retrying won't help until an operator fixes the app's token or scopes."""
