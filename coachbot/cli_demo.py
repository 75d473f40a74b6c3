"""``coachbot demo``: try coachbot without a Slack workspace.

Registered on the main group with ``main.add_command(demo)``. It reads no
environment variables and no ``.env``: the demo brings its own stand-in Slack
and, unless ``--database-url`` is given, a temporary SQLite database.
"""

from __future__ import annotations

import sys

import click

from coachbot.demo import DemoError, DemoOptions, run_demo


@click.command()
@click.option("--interactive", is_flag=True,
              help="After the scripted morning, type /prep commands and press buttons yourself (type help).")
@click.option("--script/--no-script", default=True, show_default=True,
              help="Play the scripted morning; --no-script (with --interactive) starts from a fresh workspace.")
@click.option("--database-url", default=None, metavar="URL",
              help="Keep the demo's data in this database, e.g. sqlite:///demo.db "
                   "(default: a temporary SQLite file, deleted at the end).")
@click.option("--seed", type=int, default=DemoOptions.seed, show_default=True,
              help="Seed for the app's random choices, so the transcript is the same every run.")
@click.option("--color/--no-color", default=False, show_default=True,
              help="Colour the transcript (only when stdout is a terminal).")
def demo(interactive: bool, script: bool, database_url: str | None, seed: int, color: bool) -> None:
    """Play a morning of daily practice in a built-in stand-in Slack and show what each person sees.

    The real app runs (its Bolt listeners, services, storage and scheduler) with
    a fixed clock, in #practice with Ana, Ben, Chloé and Dev.
    """
    if not script and not interactive:
        raise click.UsageError("--no-script only makes sense with --interactive")
    out = sys.stdout
    options = DemoOptions(seed=seed, database_url=database_url, interactive=interactive, script=script,
                          color=color and out.isatty())
    try:
        run_demo(out, options, stdin=sys.stdin)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
