"""Every CLI command is documented in the README, and the README's test command is what CI runs."""

from __future__ import annotations

from pathlib import Path

import click

from coachbot.cli import main

ROOT = Path(__file__).resolve().parent.parent


def commands(group: click.Group, prefix: str = "coachbot") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in commands(main) if f"`{c}" not in readme]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in readme
    assert "\npython3 -m pytest\n" in ci
