"""The composition root: the one place that wires config, database, services,
the Bolt app and (later) the scheduler together."""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from coachbot.bank import QuestionBank, load_bank
from coachbot.clock import Clock, SystemClock
from coachbot.coaching.judge import JudgeClient, OpenAICompatibleClient
from coachbot.config import Config
from coachbot.handlers import register_events, register_interactive
from coachbot.handlers.errors import on_error
from coachbot.handlers.replies import Replies
from coachbot.jobs import JobRunner, Runtime
from coachbot.jobs.pool import PoolRunner
from coachbot.services import Services
from coachbot.services.people import Directory, PeopleService
from coachbot.services.digest import DigestService
from coachbot.services.housekeeping import HousekeepingService
from coachbot.services.judge import JudgeService
from coachbot.services.practice import PracticeService
from coachbot.services.progress import LinkResolver, Memberships, ProgressService
from coachbot.services.prompts import DEFAULT_GRACE, ChannelAccess, PromptService
from coachbot.services.reactions import ReactionService
from coachbot.services.threads import ThreadService
from coachbot.slackapi import SlackChannelAccess, slack_directory, slack_links, slack_memberships
from coachbot.storage.db import Database
from coachbot.web import WebApp

log = logging.getLogger("coachbot")

def web_client(config: Config) -> WebClient:
    client = WebClient(token=config.bot_token, base_url=config.slack_api_url, timeout=10)
    # slack_sdk already retries connection errors; also honour Retry-After once on 429.
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    return client


def build_services(
    db: Database,
    directory: Directory,
    *,
    clock: Clock | None = None,
    bank: QuestionBank | None = None,
    rng: random.Random | None = None,
    grace: timedelta = DEFAULT_GRACE,
    admins: frozenset[str] = frozenset(),
    links: LinkResolver | None = None,
    memberships: Memberships | None = None,
    channels: ChannelAccess | None = None,
    judge: JudgeClient | None = None,
) -> Services:
    clock = clock or SystemClock()
    bank = bank or load_bank()
    people = PeopleService(db, directory, clock)
    practice = PracticeService(db, bank, people, clock, rng)
    prompts = PromptService(db, bank, people, clock, grace=grace, admins=admins, channels=channels)
    progress = ProgressService(db, people, clock, links=links, memberships=memberships)
    return Services(
        db=db,
        bank=bank,
        clock=clock,
        people=people,
        practice=practice,
        prompts=prompts,
        threads=ThreadService(practice, prompts),
        progress=progress,
        reactions=ReactionService(db, clock),
        digests=DigestService(db, progress, clock, grace=grace),
        housekeeping=HousekeepingService(db, clock),
        judge=JudgeService(db, clock, people, judge, admins=admins),
    )


def slack_services(config: Config, db: Database, client: WebClient, *, clock: Clock | None = None,
                   rng: random.Random | None = None) -> Services:
    """Services wired to Slack's Web API for people, permalinks and channel memberships, and to the
    LLM judge's endpoint when the operator configured one."""
    judge = OpenAICompatibleClient(config.llm) if config.llm is not None else None
    return build_services(db, slack_directory(client), clock=clock, rng=rng, grace=config.grace, admins=config.admins,
                          links=slack_links(client), memberships=slack_memberships(client),
                          channels=SlackChannelAccess(client), judge=judge)


INTERACTIVE, EVENTS, ALL = "interactive", "events", "all"


class ProvideServices(Middleware):
    """Puts the services, the runner for work after an ack (``jobs``) and the pool interactive
    replies run on (``replies``) where listeners ask for them.

    A class rather than a decorated function: Bolt calls a function middleware through its
    argument injection on every request, which is most of this middleware's cost."""

    def __init__(self, services: Services, jobs: JobRunner, replies: Replies) -> None:
        self.services = services
        self.replies = replies
        self.jobs = jobs

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        req.context["services"] = self.services
        req.context["jobs"] = self.jobs
        req.context["replies"] = self.replies
        return next()


def build_bolt_app(
    config: Config, services: Services, client: WebClient, executor: ThreadPoolExecutor | None = None,
    *, kind: str = INTERACTIVE, jobs: JobRunner | None = None, replies: Replies | None = None,
) -> App:
    """A Bolt app for one kind of request: ``interactive`` (slash commands, buttons, modals),
    ``events`` (the Events API) or ``all`` (Socket Mode, one connection for everything).

    Each processes a request before responding to it. Interactive listeners run their work on
    the ``replies`` pool and wait for it up to the ack budget (``handlers.replies``): a quick
    reply goes in the ack, a slow one follows it, so the 3-second ack holds even when the
    database is slow. Event listeners store the event before the response: an event is
    acknowledged only once it is stored, so if the database is down Slack gets a 503
    and delivers it again.
    """
    executor = executor or ThreadPoolExecutor(max_workers=16, thread_name_prefix="listener")
    jobs = jobs or PoolRunner(Runtime(services, client))
    # Never the listener pool: a listener waits on its reply, which must not queue behind it.
    replies = replies or Replies(ThreadPoolExecutor(max_workers=16, thread_name_prefix="reply"),
                                 config.ack_budget_ms / 1000)
    app = App(
        client=client,
        # Our own pool, so shutdown can wait for listeners still finishing after their ack.
        listener_executor=executor,
        signing_secret=config.signing_secret,
        # Verify the token on the first request rather than at boot, so a worker
        # starts even while Slack is briefly unreachable.
        token_verification_enabled=False,
        process_before_response=True,
    )

    app.use(ProvideServices(services, jobs, replies))

    app.error(on_error)
    # Bolt logs the whole body of a request that fails verification at INFO; bodies hold answers.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    if kind in (INTERACTIVE, ALL):
        register_interactive(app)
    if kind in (EVENTS, ALL):
        register_events(app)
    return app


def assemble_web_app(config: Config, services: Services, client: WebClient,
                     executor: ThreadPoolExecutor | None = None, *, jobs: JobRunner | None = None) -> WebApp:
    """The HTTP front over two Bolt apps (interactive and events) sharing one listener pool, a
    pool for interactive replies, and a job runner for the work after an ack (by default a
    pool in this process). Given an ``executor``, it runs all three (the demo passes one it
    can watch)."""
    # Interactive work (a card to pick, an answer to store) runs here while its listener waits
    # for it up to the ack budget: a pool of its own, so the listener threads stay free for acks.
    reply_pool = executor or ThreadPoolExecutor(max_workers=16, thread_name_prefix="reply")
    replies = Replies(reply_pool, config.ack_budget_ms / 1000)
    jobs = jobs or PoolRunner(Runtime(services, client), pool=executor)
    executor = executor or ThreadPoolExecutor(max_workers=16, thread_name_prefix="listener")
    # Listeners first at shutdown: they may still hand work to the replies and the jobs.
    return WebApp(build_bolt_app(config, services, client, executor, jobs=jobs, replies=replies),
                  services.db, tuple(dict.fromkeys((executor, reply_pool, *pools_of(jobs)))), jobs=jobs,
                  events=build_bolt_app(config, services, client, executor, kind=EVENTS, jobs=jobs,
                                        replies=replies),
                  signing_secret=config.signing_secret)


def pools_of(jobs: JobRunner) -> tuple[ThreadPoolExecutor, ...]:
    """The pool a runner runs jobs on in this process, if it does (tests wait for it to settle)."""
    return (jobs.pool,) if isinstance(jobs, PoolRunner) else ()


def job_runner(config: Config, services: Services, client: WebClient) -> JobRunner:
    """The durable queue on PostgreSQL (``coachbot worker`` runs it), a pool here on SQLite."""
    if services.db.is_postgresql:
        from coachbot.jobs.queue import QueueRunner

        return QueueRunner(config.database_url)
    return PoolRunner(Runtime(services, client))


def create_web_app(config: Config, *, clock: Clock | None = None) -> WebApp:
    db = Database(config.database_url)
    client = web_client(config)
    services = slack_services(config, db, client, clock=clock)
    return assemble_web_app(config, services, client, jobs=job_runner(config, services, client))


def create_job_runtime(config: Config) -> Runtime:
    """A worker process's own services and Slack client, for the jobs it runs."""
    db = Database(config.database_url)
    client = web_client(config)
    return Runtime(slack_services(config, db, client), client)
