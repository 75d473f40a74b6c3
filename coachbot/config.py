"""Settings, read from an environment mapping passed in (never os.environ directly).

``Config.from_env(environ)`` raises ``ConfigError`` with one line naming the
variable and where to find its value; the CLI prints it and exits non-zero.
"""

from __future__ import annotations

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
class Config:
    bot_token: str
    signing_secret: str
    database_url: str = DATABASE_DEFAULT
    slack_api_url: str = SLACK_API_DEFAULT
    app_token: str | None = None
    port: int = 3000
    log_level: str = "INFO"
    admins: frozenset[str] = field(default_factory=frozenset)
    grace: timedelta = timedelta(hours=2)
    posts_per_minute: int = 300  # the pace of scheduled posts to Slack (per workspace)
    ack_budget_ms: int = 1500  # how long an ack waits for its reply before sending it later (handlers.replies)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, need_app_token: bool = False) -> "Config":
        bot_token = _required(environ, "SLACK_BOT_TOKEN")
        if not bot_token.startswith("xoxb-"):
            raise ConfigError(f"SLACK_BOT_TOKEN should start with xoxb-: find it in {_WHERE['SLACK_BOT_TOKEN']}.")
        signing_secret = _required(environ, "SLACK_SIGNING_SECRET")
        app_token = environ.get("SLACK_APP_TOKEN", "").strip() or None
        if need_app_token:
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


#: Slack waits 3 s for an ack; the budget leaves room for the request's own way there and back.
MAX_ACK_BUDGET_MS = 2500


def parse_budget(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_ACK_BUDGET_MS:
        raise ConfigError(f"COACHBOT_ACK_BUDGET_MS is malformed: {value!r} is not a whole number of milliseconds "
                          f"from 0 to {MAX_ACK_BUDGET_MS} (Slack waits 3 seconds for an acknowledgement).")
    return int(value)
