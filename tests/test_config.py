from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from coachbot.cli import main
from coachbot.config import CLOCK, HTTP, SOCKET, Config, merged_environ
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
        Config.from_env(BASE, mode=SOCKET)


@pytest.mark.parametrize("mode, needed", [(HTTP, {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}),
                                          (SOCKET, {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"}),
                                          (CLOCK, {"SLACK_BOT_TOKEN"})])
def test_each_mode_asks_for_exactly_the_settings_it_uses(mode: str, needed: set[str]):
    full = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret", "SLACK_APP_TOKEN": "xapp-1"}
    for name in full:
        without = {k: v for k, v in full.items() if k != name}
        if name in needed:
            with pytest.raises(ConfigError, match=f"{name} is not set"):
                Config.from_env(without, mode=mode)
        else:
            Config.from_env(without, mode=mode)  # not asked for


def test_socket_mode_says_it_needs_the_bot_token_too():
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set: Socket Mode needs it beside SLACK_APP_TOKEN"):
        Config.from_env({"SLACK_APP_TOKEN": "xapp-1"}, mode=SOCKET)


def test_socket_mode_runs_without_a_signing_secret():
    config = Config.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A1-x"}, mode=SOCKET)
    assert (config.app_token, config.signing_secret) == ("xapp-1-A1-x", "")


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


def test_the_llm_judge_is_off_unless_configured():
    assert Config.from_env(BASE).llm is None


def test_the_llm_judge_settings():
    config = Config.from_env({**BASE, "COACHBOT_LLM_URL": "http://127.0.0.1:11434/v1/", "COACHBOT_LLM_MODEL": "llama3"})
    assert config.llm is not None
    assert (config.llm.url, config.llm.model, config.llm.key, config.llm.timeout) == \
        ("http://127.0.0.1:11434/v1", "llama3", None, 20.0)
    keyed = Config.from_env({**BASE, "COACHBOT_LLM_URL": "https://api.openai.com/v1", "COACHBOT_LLM_MODEL": "gpt-4o",
                             "COACHBOT_LLM_KEY": "sk-secret", "COACHBOT_LLM_TIMEOUT_SECONDS": "7.5"})
    assert (keyed.llm.key, keyed.llm.timeout) == ("sk-secret", 7.5)
    assert "sk-secret" not in repr(keyed)


@pytest.mark.parametrize(
    "env, names",
    [
        ({"COACHBOT_LLM_URL": "http://127.0.0.1:11434/v1"}, "^COACHBOT_LLM_MODEL is not set"),
        ({"COACHBOT_LLM_MODEL": "llama3"}, "^COACHBOT_LLM_URL is not set"),
        ({"COACHBOT_LLM_KEY": "sk-1"}, "^COACHBOT_LLM_URL is not set"),
        ({"COACHBOT_LLM_URL": "localhost:11434", "COACHBOT_LLM_MODEL": "m"}, "^COACHBOT_LLM_URL is malformed"),
        ({"COACHBOT_LLM_URL": "http://h/v1", "COACHBOT_LLM_MODEL": "m", "COACHBOT_LLM_TIMEOUT_SECONDS": "soon"},
         "^COACHBOT_LLM_TIMEOUT_SECONDS is malformed"),
        ({"COACHBOT_LLM_URL": "http://h/v1", "COACHBOT_LLM_MODEL": "m", "COACHBOT_LLM_TIMEOUT_SECONDS": "0"},
         "^COACHBOT_LLM_TIMEOUT_SECONDS is malformed"),
        ({"COACHBOT_LLM_URL": "http://h/v1", "COACHBOT_LLM_MODEL": "m", "COACHBOT_LLM_TIMEOUT_SECONDS": "nan"},
         "^COACHBOT_LLM_TIMEOUT_SECONDS is malformed"),
    ],
)
def test_partial_llm_settings_name_the_missing_one(env: dict[str, str], names: str):
    with pytest.raises(ConfigError, match=names) as error:
        Config.from_env({**BASE, **env})
    assert "\n" not in str(error.value)


def test_the_llm_judge_needs_its_extra_installed(monkeypatch: pytest.MonkeyPatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openai" else real(name, *a))
    with pytest.raises(ConfigError, match=r"coachbot\[llm\]"):
        Config.from_env({**BASE, "COACHBOT_LLM_URL": "http://h/v1", "COACHBOT_LLM_MODEL": "m"})
