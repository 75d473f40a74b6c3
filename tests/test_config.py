from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from coachbot.cli import main
from coachbot.config import Config, merged_environ
from coachbot.errors import ConfigError

BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}


def test_defaults():
    config = Config.from_env(BASE)
    assert config.database_url == "sqlite:///coachbot.db"
    assert config.slack_api_url == "https://slack.com/api/"
    assert config.port == 3000 and config.log_level == "INFO"
    assert config.ack_budget_ms == 1500
    assert Config.from_env({**BASE, "COACHBOT_ACK_BUDGET_MS": "0"}).ack_budget_ms == 0


def test_values_are_normalised():
    config = Config.from_env(
        {**BASE, "DATABASE_URL": "postgres://u:p@h/db", "SLACK_API_URL": "http://127.0.0.1:9/api", "PORT": "8080",
         "LOG_LEVEL": "debug", "COACHBOT_ADMINS": "U1, U2"}
    )
    assert config.database_url == "postgresql+psycopg://u:p@h/db"
    assert config.slack_api_url == "http://127.0.0.1:9/api/"
    assert (config.port, config.log_level, config.admins) == (8080, "DEBUG", frozenset({"U1", "U2"}))


@pytest.mark.parametrize(
    "env, names",
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({**BASE, "SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN should start with xoxb-"),
        ({**BASE, "DATABASE_URL": "mysql://x"}, "DATABASE_URL is malformed"),
        ({**BASE, "SLACK_API_URL": "slack.com"}, "SLACK_API_URL is malformed"),
        ({**BASE, "PORT": "eighty"}, "PORT is malformed"),
        ({**BASE, "LOG_LEVEL": "loud"}, "LOG_LEVEL is malformed"),
        ({**BASE, "COACHBOT_ACK_BUDGET_MS": "2600"}, "COACHBOT_ACK_BUDGET_MS is malformed"),
        ({**BASE, "COACHBOT_ACK_BUDGET_MS": "1.5s"}, "COACHBOT_ACK_BUDGET_MS is malformed"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], names: str):
    with pytest.raises(ConfigError, match=names):
        Config.from_env(env)


def test_socket_mode_needs_the_app_token():
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set: find it in"):
        Config.from_env(BASE, need_app_token=True)


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# settings\nSLACK_BOT_TOKEN=xoxb-file\nexport SLACK_SIGNING_SECRET='quoted'\n")
    merged = merged_environ({"SLACK_BOT_TOKEN": "xoxb-env"}, dotenv)
    assert merged == {"SLACK_BOT_TOKEN": "xoxb-env", "SLACK_SIGNING_SECRET": "quoted"}


def test_serve_without_settings_prints_one_line_and_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: SLACK_BOT_TOKEN is not set: find it in Slack app settings > OAuth & Permissions > "
        "Bot User OAuth Token (starts with xoxb-)."
    ]
    assert "Traceback" not in result.output
