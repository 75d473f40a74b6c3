"""``coachbot export``: stored answers with their reactions, as JSON or CSV on stdout.

Registered on the main group with ``main.add_command(export)``. The helpers of
``coachbot.cli`` are imported inside the command, so either module may import
the other first.

It never migrates: a database that is unreachable, missing or not at the newest
revision is a one-line ``click.ClickException``, before anything is written.
"""

from __future__ import annotations

import io
import os
import sys
from contextlib import closing
from pathlib import Path
from typing import TextIO

import click

from coachbot.export import FORMATS, ExportFilters, iter_answers, write_csv, write_json


@click.command()
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="json", show_default=True,
              help="json: one object with metadata and every answer; csv: one row per answer.")
@click.option("--team", "teams", multiple=True, metavar="TEAM_ID",
              help="Only this Slack workspace (team id, e.g. T0123ABCD). Repeat for several. Default: all teams.")
@click.option("--user", "users", multiple=True, metavar="USER_ID",
              help="Only answers written by this person (user id, e.g. U0123ABCD), within the --team "
                   "filter. Repeat for several. Default: everyone.")
def export(output_format: str, teams: tuple[str, ...], users: tuple[str, ...]) -> None:
    """Write stored answers, their questions and reactions to stdout (see docs/export.md).

    The output includes private answers: treat it as personal data.
    """
    from coachbot.cli import database_url, environ
    from coachbot.clock import SystemClock
    from coachbot.errors import StorageUnavailableError

    filters = ExportFilters.of(teams, users)
    database = _open_migrated(database_url(environ()))
    try:
        out = _utf8_stdout()
        try:
            # closing(): a writer that stops early (a broken pipe) releases the cursor inside the session.
            with database.session() as session, closing(iter_answers(session, filters)) as rows:
                if output_format == "csv":
                    write_csv(rows, out)
                else:
                    write_json(rows, out, now=SystemClock().now(), filters=filters)
            out.flush()
        except StorageUnavailableError:
            raise click.ClickException("lost the database during the export; the output is incomplete") from None
        except BrokenPipeError:
            # The reader went away (e.g. `coachbot export | head`): stop quietly. Point stdout at
            # /dev/null so flushing the rest at exit doesn't fail a second time.
            _silence_stdout()
            sys.exit(1)
        finally:
            if out is not sys.stdout:
                try:
                    out.detach()  # leave the process's stdout open
                except (BrokenPipeError, ValueError):
                    pass
    finally:
        database.dispose()


def _open_migrated(url: str):
    """A Database at the newest revision, or a ClickException saying why not. Never creates or migrates."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from coachbot.storage.db import Database

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise click.ClickException(
                f"no SQLite database at {parsed.database} (from DATABASE_URL); nothing to export")
    try:
        database = Database(url)
    except ImportError as exc:
        raise click.ClickException(
            f"DATABASE_URL needs a database driver that is not installed ({exc.name}); "
            "pip install 'coachbot[postgres]'") from None
    try:
        current = database.current_revision()
    except DBAPIError as exc:
        database.dispose()
        raise click.ClickException(
            f"cannot reach the database named by DATABASE_URL ({_reason(exc)}); check it is running.") from None
    head = database.head_revision()
    if current != head:
        database.dispose()
        raise click.ClickException(
            f"the database is at revision {current or 'none (empty)'}, not {head}; "
            "run `coachbot db upgrade` first (export never migrates).")
    return database


def _reason(exc: Exception) -> str:
    """The driver's error in one line: its class and the first line of its message."""
    orig = getattr(exc, "orig", None) or exc
    first = next((line.strip() for line in str(orig).splitlines() if line.strip()), "")
    return f"{orig.__class__.__name__}: {first}" if first else orig.__class__.__name__


def _utf8_stdout() -> TextIO:
    """stdout as UTF-8 whatever the locale, with no newline translation (CSV writes its own CRLFs)."""
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # stdout replaced by a text-only stream
        return sys.stdout
    return io.TextIOWrapper(binary, encoding="utf-8", newline="")


def _silence_stdout() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
