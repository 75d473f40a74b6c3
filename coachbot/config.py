"""Settings, read from an environment mapping passed in (never os.environ directly).

``Config.from_env(environ, mode=...)`` raises ``ConfigError`` with one line naming the
variable and where to find its value; the CLI prints it and exits non-zero. Each way of
running asks for exactly the settings it uses (``MODES``): HTTP mode verifies requests with
the signing secret, Socket Mode connects with the app-level token instead, and the
scheduler only posts with the bot token.
"""

from __future__ import annotations

import importlib.util
import logging
from datetime import timedelta
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

from coachbot.errors import ConfigError

SLACK_API_DEFAULT = "https://slack.com/api/"
DATABASE_DEFAULT = "sqlite:///coachbot.db"

_WHERE = {
    "SLACK_BOT_TOKEN": "Slack app settings > OAuth & Permissions > Bot User OAuth Token (starts with xoxb-)",
    "SLACK_SIGNING_SECRET": "Slack app settings > Basic Information > App Credentials > Signing Secret",
    "SLACK_APP_TOKEN": "Slack app settings > Basic Information > App-Level Tokens, with the connections:write scope (starts with xapp-)",
}

# The optional LLM judge (docs/coaching.md, "The LLM judge"). The URL and the model name go together; a key
# is optional (local servers such as Ollama need none) and so is the timeout.
LLM_TIMEOUT_DEFAULT = 20.0
LLM_TIMEOUT_MAX = 120.0
_LLM_PAIR = ("COACHBOT_LLM_URL", "COACHBOT_LLM_MODEL")
_LLM_EXTRAS = ("COACHBOT_LLM_KEY", "COACHBOT_LLM_TIMEOUT_SECONDS")


HTTP, SOCKET, CLOCK = "http", "socket", "clock"

#: The Slack credentials each way of running needs, beyond the bot token all of them post with.
#: Socket Mode never sees a signed request (payloads arrive over its own authenticated
#: WebSocket: https://api.slack.com/apis/socket-mode), so it needs no signing secret.
MODES: dict[str, frozenset[str]] = {
    HTTP: frozenset({"SLACK_SIGNING_SECRET"}),
    SOCKET: frozenset({"SLACK_APP_TOKEN"}),
    CLOCK: frozenset(),
}


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: find it in {_WHERE[name]}.")
    return value


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a simple ``.env`` file (KEY=VALUE lines, # comments, optional quotes)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{path.name} line {number} is not KEY=VALUE.")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def merged_environ(environ: Mapping[str, str], dotenv: Path | None) -> dict[str, str]:
    """The process environment wins over ``.env``."""
    merged = read_dotenv(dotenv) if dotenv is not None else {}
    merged.update(environ)
    return merged


@dataclass(frozen=True)
class LlmConfig:
    """An OpenAI-compatible chat completions endpoint the operator chose for the judge."""

    url: str  # the API's base URL, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1
    model: str
    key: str | None = field(default=None, repr=False)  # never printed with the config
    timeout: float = LLM_TIMEOUT_DEFAULT  # seconds the judge may take before the rule feedback stands


@dataclass(frozen=True)
class Config:
    bot_token: str
    signing_secret: str  # "" where the mode needs none (Socket Mode, the scheduler)
    database_url: str = DATABASE_DEFAULT
    slack_api_url: str = SLACK_API_DEFAULT
    app_token: str | None = None
    port: int = 3000
    log_level: str = "INFO"
    admins: frozenset[str] = field(default_factory=frozenset)
    grace: timedelta = timedelta(hours=2)
    posts_per_minute: int = 300  # the pace of scheduled posts to Slack (per workspace)
    llm: LlmConfig | None = None  # None: no LLM judge anywhere (the default)
    ack_budget_ms: int = 1500  # how long an ack waits for its reply before sending it later (handlers.replies)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, mode: str = HTTP) -> "Config":
        needed = MODES[mode]
        if mode == SOCKET and not environ.get("SLACK_BOT_TOKEN", "").strip():
            # The app-level token only opens the connection; everything coachbot posts needs the bot token.
            raise ConfigError("SLACK_BOT_TOKEN is not set: Socket Mode needs it beside SLACK_APP_TOKEN, to post; "
                              f"find it in {_WHERE['SLACK_BOT_TOKEN']}.")
        bot_token = _required(environ, "SLACK_BOT_TOKEN")
        if not bot_token.startswith("xoxb-"):
            raise ConfigError(f"SLACK_BOT_TOKEN should start with xoxb-: find it in {_WHERE['SLACK_BOT_TOKEN']}.")
        if "SLACK_SIGNING_SECRET" in needed:
            signing_secret = _required(environ, "SLACK_SIGNING_SECRET")
        else:
            signing_secret = environ.get("SLACK_SIGNING_SECRET", "").strip()
        app_token = environ.get("SLACK_APP_TOKEN", "").strip() or None
        if "SLACK_APP_TOKEN" in needed:
            app_token = _required(environ, "SLACK_APP_TOKEN")
        if app_token is not None and not app_token.startswith("xapp-"):
            raise ConfigError(f"SLACK_APP_TOKEN should start with xapp-: find it in {_WHERE['SLACK_APP_TOKEN']}.")
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            database_url=parse_database_url(environ.get("DATABASE_URL", "").strip() or DATABASE_DEFAULT),
            slack_api_url=parse_api_url(environ.get("SLACK_API_URL", "").strip() or SLACK_API_DEFAULT),
            port=parse_port(environ.get("PORT", "").strip() or "3000"),
            log_level=parse_log_level(environ.get("LOG_LEVEL", "").strip() or "INFO"),
            admins=frozenset(a for a in environ.get("COACHBOT_ADMINS", "").replace(",", " ").split() if a),
            grace=parse_grace(environ.get("COACHBOT_GRACE_MINUTES", "").strip() or "120"),
            posts_per_minute=parse_rate(environ.get("COACHBOT_POSTS_PER_MINUTE", "").strip() or "300"),
            llm=parse_llm(environ),
            ack_budget_ms=parse_budget(environ.get("COACHBOT_ACK_BUDGET_MS", "").strip() or "1500"),
        )


def parse_database_url(url: str) -> str:
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        # Heroku-style URLs name no driver; we use psycopg 3.
        return "postgresql+psycopg" + url[len(scheme) :]
    if scheme in ("sqlite", "postgresql+psycopg") and "://" in url:
        return url
    raise ConfigError(
        "DATABASE_URL is malformed: use sqlite:///coachbot.db (the default) or "
        "postgresql+psycopg://user:password@host:5432/dbname."
    )


def parse_api_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("SLACK_API_URL is malformed: it is the Web API's base URL, e.g. https://slack.com/api/.")
    return url if url.endswith("/") else url + "/"


def parse_port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT is malformed: {value!r} is not a TCP port number (1-65535).")
    return int(value)


def parse_log_level(value: str) -> str:
    level = value.upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigError(f"LOG_LEVEL is malformed: {value!r}; use DEBUG, INFO, WARNING or ERROR.")
    return level


def parse_grace(value: str) -> timedelta:
    if not value.isdigit():
        raise ConfigError(f"COACHBOT_GRACE_MINUTES is malformed: {value!r} is not a whole number of minutes.")
    return timedelta(minutes=int(value))


def parse_rate(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"COACHBOT_POSTS_PER_MINUTE is malformed: {value!r} is not a whole number of posts (1 or more).")
    return int(value)


def parse_llm(environ: Mapping[str, str]) -> LlmConfig | None:
    """The judge's endpoint, or None when none of its settings is set.

    Some set but not all that are needed is a mistake worth stopping for: an operator who set
    a key expects the judge to run."""
    values = {name: environ.get(name, "").strip() for name in (*_LLM_PAIR, *_LLM_EXTRAS)}
    if not any(values.values()):
        return None
    for name in _LLM_PAIR:
        if not values[name]:
            given = ", ".join(n for n, v in values.items() if v)
            raise ConfigError(f"{name} is not set: the LLM judge needs COACHBOT_LLM_URL and COACHBOT_LLM_MODEL "
                              f"together (set: {given}).")
    url = values["COACHBOT_LLM_URL"]
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("COACHBOT_LLM_URL is malformed: it is the base URL of an OpenAI-compatible API, "
                          "e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1.")
    if importlib.util.find_spec("openai") is None:
        raise ConfigError("COACHBOT_LLM_URL is set but the openai package is not installed: install coachbot with "
                          "its llm extra, pip install 'coachbot[llm]'.")
    timeout_text = values["COACHBOT_LLM_TIMEOUT_SECONDS"] or str(LLM_TIMEOUT_DEFAULT)
    try:
        timeout = float(timeout_text)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout <= LLM_TIMEOUT_MAX:
        raise ConfigError(f"COACHBOT_LLM_TIMEOUT_SECONDS is malformed: {timeout_text!r} is not a number of seconds "
                          f"above 0 and at most {LLM_TIMEOUT_MAX:g}.")
    return LlmConfig(url=url.rstrip("/"), model=values["COACHBOT_LLM_MODEL"],
                     key=values["COACHBOT_LLM_KEY"] or None, timeout=timeout)
#: Slack waits 3 s for an ack; the budget leaves room for the request's own way there and back.
MAX_ACK_BUDGET_MS = 2500


def parse_budget(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_ACK_BUDGET_MS:
        raise ConfigError(f"COACHBOT_ACK_BUDGET_MS is malformed: {value!r} is not a whole number of milliseconds "
                          f"from 0 to {MAX_ACK_BUDGET_MS} (Slack waits 3 seconds for an acknowledgement).")
    return int(value)
