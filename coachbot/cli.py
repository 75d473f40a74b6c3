"""The ``coachbot`` command: a thin click layer over the library.

User errors (a missing setting, a bad bank) become ``click.ClickException``:
one clear line, a non-zero exit, no traceback.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

import click

from coachbot.bank import check_bank
from coachbot.config import CLOCK, DATABASE_DEFAULT, SOCKET, Config, merged_environ, parse_database_url
from coachbot.errors import ConfigError
from coachbot import bank_review, tracks


def environ() -> dict[str, str]:
    try:
        return merged_environ(os.environ, Path(".env"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def load_config(env: Mapping[str, str], **kwargs: Any) -> Config:
    try:
        return Config.from_env(env, **kwargs)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def database_url(env: Mapping[str, str]) -> str:
    try:
        return parse_database_url(env.get("DATABASE_URL", "").strip() or DATABASE_DEFAULT)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group()
@click.version_option(package_name="coachbot")
def main() -> None:
    """coachbot: practise technical and leadership interviews in Slack."""


@main.command()
@click.option("--port", type=int, default=None, help="Port to listen on (default: $PORT, else 3000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to bind.")
@click.option("--workers", type=int, default=None, help="Worker processes (default: $WEB_CONCURRENCY, else 2).")
@click.option("--no-scheduler", is_flag=True, help="Don't run the prompt scheduler (run `coachbot scheduler` instead).")
@click.option("--no-worker", is_flag=True,
              help="On PostgreSQL, don't run a job worker beside the web workers (run `coachbot worker` instead).")
def serve(port: int | None, host: str, workers: int | None, no_scheduler: bool, no_worker: bool) -> None:
    """Serve Slack's HTTP requests (slash commands, buttons, events) with gunicorn, the
    daily-prompt scheduler beside it unless --no-scheduler, and on PostgreSQL a job worker
    unless --no-worker (on SQLite jobs run inside the web workers)."""
    import subprocess
    import sys

    from coachbot.server import run_gunicorn
    from coachbot.storage.db import Database

    env = environ()
    config = load_config(env)
    setup_logging(config.log_level)
    db = Database(config.database_url)
    _upgrade(db)
    db.dispose()
    concurrency = workers or int(env.get("WEB_CONCURRENCY", "") or 2)
    # The scheduler runs in its own process: gunicorn forks workers, and forking
    # a process that has scheduler threads is unsafe.
    clock = None if no_scheduler else subprocess.Popen([sys.executable, "-m", "coachbot", "scheduler"])
    try:
        run_gunicorn(config, host=host, port=port or config.port, workers=concurrency, job_worker=not no_worker)
    finally:
        if clock is not None:
            clock.terminate()
            clock.wait(timeout=10)


def _runtime(config: Config):
    from coachbot.app import slack_services, web_client
    from coachbot.slackapi import scheduled_poster
    from coachbot.storage.db import Database

    db = Database(config.database_url)
    _upgrade(db)
    client = web_client(config)
    services = slack_services(config, db, client)
    return services, scheduled_poster(client, config.posts_per_minute, db)


@main.command()
def scheduler() -> None:
    """Run the clock: post daily prompts when they are due (the Procfile's clock: process)."""
    from coachbot.scheduler import run_forever

    config = load_config(environ(), mode=CLOCK)
    setup_logging(config.log_level)
    services, poster = _runtime(config)
    run_forever(services, poster)


@main.command()
@click.option("--concurrency", type=int, default=None, help="Jobs at once (default 8).")
@click.option("--heartbeat-seconds", type=float, default=None, hidden=True)
@click.option("--stalled-after-seconds", type=float, default=None, hidden=True)
@click.option("--parent", type=int, default=None, hidden=True, help="Stop when this process is gone (coachbot serve).")
def worker(concurrency: int | None, heartbeat_seconds: float | None, stalled_after_seconds: float | None,
           parent: int | None) -> None:
    """Run the work that follows Slack's acks (replies in threads, App Home, shared answers) from
    the PostgreSQL job queue; run as many as you like, on any hosts (the Procfile's worker:)."""
    import asyncio

    from coachbot.app import create_job_runtime
    from coachbot.jobs import queue

    # Jobs post with the bot token only: a worker serves HTTP mode and Socket Mode alike.
    config = load_config(environ(), mode=CLOCK)
    setup_logging(config.log_level)
    if not config.database_url.startswith("postgresql"):
        raise click.ClickException("coachbot worker needs PostgreSQL (DATABASE_URL); on SQLite, "
                                   "coachbot serve runs the jobs itself.")
    runtime = create_job_runtime(config)
    _upgrade(runtime.services.db)
    app = queue.make_app(config.database_url, runtime)
    options = {k: v for k, v in (("concurrency", concurrency), ("heartbeat_s", heartbeat_seconds),
                                 ("stalled_after_s", stalled_after_seconds)) if v is not None}
    try:
        asyncio.run(queue.work(app, parent=parent, **options))
    finally:
        runtime.services.db.dispose()


@main.group()
def prompts() -> None:
    """Daily prompt commands."""


@prompts.command("send-due")
@click.option("--now", "now_text", default=None, metavar="ISO-8601",
              help="The instant to act at, with its offset, e.g. 2026-11-25T08:30:00+00:00 (default: now).")
def prompts_send_due(now_text: str | None) -> None:
    """Post every daily prompt and weekly digest due at that instant that was not posted yet, then exit."""
    from datetime import datetime

    from coachbot.scheduler import tick

    now = None
    if now_text is not None:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.ClickException(f"--now {now_text!r} is not an ISO 8601 date-time") from None
        if now.tzinfo is None:
            raise click.ClickException("--now needs a UTC offset, e.g. 2026-11-25T08:30:00+00:00")
    config = load_config(environ(), mode=CLOCK)
    setup_logging(config.log_level)
    services, poster = _runtime(config)
    try:
        report = tick(services, poster, now)
    finally:
        services.db.dispose()
    for label in report.posted:
        click.echo(f"posted {label}")
    for label in report.recovered:
        click.echo(f"already posted {label}")
    for label in report.retry_later:
        click.echo(f"will retry {label}")
    for label in report.stopped:
        click.echo(f"stopped {label}")
    for label in report.missed:
        click.echo(f"missed {label}")
    click.echo(f"{len(report.posted)} posted, {len(report.retry_later)} to retry, {len(report.stopped)} stopped")


@main.command()
@click.option("--no-scheduler", is_flag=True, help="Don't run the prompt scheduler (run `coachbot scheduler` instead).")
def socket(no_scheduler: bool) -> None:
    """Connect to Slack over Socket Mode (no public URL needed), and run the daily-prompt
    scheduler beside it unless --no-scheduler. Needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN;
    no signing secret. SIGTERM finishes what was taken, then stops."""
    from coachbot.socketmode import runner
    from coachbot.socketmode.client import SocketModeRefused
    from coachbot.storage.db import Database

    config = load_config(environ(), mode=SOCKET)
    setup_logging(config.log_level)
    db = Database(config.database_url)
    _upgrade(db)
    db.dispose()
    try:
        runner.run(config, scheduler=not no_scheduler)
    except SocketModeRefused as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    from coachbot.storage.db import Database

    database = Database(database_url(environ()))
    _upgrade(database)
    click.echo(f"database is at revision {database.current_revision()}")
    database.dispose()


def _upgrade(database: Any) -> None:
    from sqlalchemy.exc import OperationalError

    try:
        database.upgrade()
    except OperationalError as exc:
        raise click.ClickException(
            f"cannot reach the database named by DATABASE_URL ({exc.orig.__class__.__name__}); check it is running."
        ) from None


@main.group()
def questions() -> None:
    """Question bank commands."""


@questions.command("check")
@click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A question bank folder (default: the shipped bank).")
def questions_check(path: Path | None) -> None:
    """Validate every question file, then look for near-duplicates and labels that don't fit;
    print counts per track, category and level. Exits 1 on any error (warnings don't fail it)."""
    found, problems = check_bank(path)
    levels = bank_review.level_counts(found)
    for track in tracks.TRACKS:
        in_track = [(c, levels[c.slug]) for c in tracks.categories_of(track.slug)]
        click.echo(f"{track.slug}: {sum(sum(n.values()) for _, n in in_track)}")
        for category, n in in_track:
            spread = ", ".join(f"{level} {n[level]}" for level in tracks.DIFFICULTIES)
            click.echo(f"  {category.slug}: {sum(n.values())} ({spread})")
    in_use = sum(1 for n in levels.values() if n)
    click.echo(f"total: {len(found)} questions, {in_use} categories")
    findings = bank_review.review(found)
    errors = len(problems) + sum(1 for f in findings if f.severity == bank_review.ERROR)
    warnings = len(findings) + len(problems) - errors
    for problem in problems:
        click.echo(f"{bank_review.ERROR}: {problem}", err=True)
    for finding in findings:
        click.echo(str(finding), err=True)
    if errors:
        raise click.ClickException(f"{errors} error(s), {warnings} warning(s) in the question bank")
    click.echo(f"no errors, {warnings} warning(s)")


# Defined in their own modules (they import this one's helpers), registered here.
from coachbot.cli_demo import demo  # noqa: E402
from coachbot.cli_export import export  # noqa: E402

main.add_command(demo)
main.add_command(export)
