"""Services: the business rules. They know nothing of Slack."""

from __future__ import annotations

from dataclasses import dataclass

from coachbot.bank import QuestionBank
from coachbot.clock import Clock
from coachbot.services.digest import DigestService
from coachbot.services.housekeeping import HousekeepingService
from coachbot.services.judge import JudgeService
from coachbot.services.people import PeopleService
from coachbot.services.practice import PracticeService
from coachbot.services.progress import ProgressService
from coachbot.services.prompts import PromptService
from coachbot.services.reactions import ReactionService
from coachbot.services.threads import ThreadService
from coachbot.storage.db import Database


@dataclass
class Services:
    db: Database
    bank: QuestionBank
    clock: Clock
    people: PeopleService
    practice: PracticeService
    prompts: PromptService
    threads: ThreadService
    progress: ProgressService
    reactions: ReactionService
    digests: DigestService
    housekeeping: HousekeepingService
    judge: JudgeService  # the optional LLM judge; off unless configured and switched on
