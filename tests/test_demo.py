"""``coachbot demo``: the real app plays a scripted morning against the stand-in Slack.

The transcript is checked for what each person sees; the CLI runs with an
empty environment; the interactive loop is driven by a scripted stdin.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from coachbot.cli_demo import demo
from coachbot.demo import DemoOptions, run_demo
from coachbot.storage.db import Database
from coachbot.storage.models import Answer, Prompt, Reaction

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(scope="module")
def played() -> tuple[str, float]:
    """The scripted demo's transcript, and how long it took."""
    out = io.StringIO()
    started = time.perf_counter()
    run_demo(out)
    return out.getvalue(), time.perf_counter() - started


@pytest.fixture
def transcript(played: tuple[str, float]) -> str:
    return played[0]


def section(transcript: str, step: str) -> str:
    """The part of the transcript from the narration containing ``step`` to the next narration."""
    start = transcript.index(step)
    following = re.search(r"^\d\d:\d\d · ", transcript[start + len(step):], re.MULTILINE)
    return transcript[start: start + len(step) + following.start()] if following else transcript[start:]


def shown(part: str, where: str) -> str:
    """The lines of the first thing shown under the heading ``where`` in ``part``."""
    start = part.index(f"\n  {where}")
    lines = part[start:].split("\n")[2:]
    return "\n".join(line for line in _takewhile_gutter(lines))


def _takewhile_gutter(lines: list[str]):
    for line in lines:
        if not line.startswith("  |"):
            return
        yield line[4:]


def typed_lines(*lines: str) -> str:
    """What a person types at the interactive prompt, one command (or form field) a line."""
    return "".join(f"{line}\n" for line in lines)


def test_it_finishes_quickly(played: tuple[str, float]):
    assert played[1] < 10


def test_setting_up_and_the_prompt_in_the_channel(transcript: str):
    setup = section(transcript, "09:00 · Ana turns on daily practice")
    assert "@Ana turned on daily interview practice" in shown(setup, "#practice (channel) · coachbot")
    prompt = shown(section(transcript, "09:30 · the scheduler posts today's prompt"), "#practice (channel) · coachbot")
    assert "## Today's interview practice" in prompt
    assert "means in a stream processing system" in prompt  # technical-knowledge-027, exactly-once
    assert prompt.endswith("[ Answer ]")


def test_thread_answers_with_feedback_only_the_author_sees(transcript: str):
    ben = section(transcript, "09:41 · Ben answers")
    assert "Exactly-once means every event changes the result once" in shown(ben, "#practice › thread · Ben")
    feedback = shown(ben, "only Ben sees (in #practice › thread) · coachbot")
    assert "*A strong explanation: it does everything the coach checks for.*" in feedback
    assert "*To go further:*" in feedback
    assert "*How it works*: “Exactly-once means every event changes the result once" in feedback
    dev = section(transcript, "09:52 · Dev answers")
    assert "Under the hood the difference" in shown(dev, "#practice › thread · Dev")
    assert "*What worked:*" in shown(dev, "only Dev sees (in #practice › thread)")
    assert "only Ben sees" not in dev  # each person's feedback goes to them alone


def test_answering_through_the_modal(transcript: str):
    form = shown(section(transcript, "10:05 · Chloé"), "Chloé's modal")
    assert form.startswith("=== Practice answer ===") and "[ Get feedback ]  [ Cancel ]" in form
    submitted = section(transcript, "10:14 · Chloé")
    feedback = shown(submitted, "Chloé's modal")
    assert feedback.startswith("=== Your feedback ===")
    assert "*Fix this first:* Add one example from your own work" in feedback
    assert "It is being posted in #practice for your peers." in feedback
    assert "@Chloé answered" in shown(submitted, "#practice › thread · coachbot")


def test_reactions_count_in_stats_and_leaderboard(transcript: str):
    reactions = section(transcript, "10:30 · the team reacts")
    assert ":thumbsup: 1 (Ana)  :tada: 1 (Chloé)  :100: 1 (Dev)" in shown(
        reactions, "#practice › thread · reactions on the message from Ben")
    stats = shown(section(transcript, "12:15 · Ben checks"), "only Ben sees (in #practice) · coachbot")
    assert "*Reactions received:* 3" in stats and "*Most-reacted answer* (3 reactions" in stats
    board = shown(section(transcript, "12:20 · Ana looks"), "only Ana sees (in #practice) · coachbot")
    most_reactions = board.split("Most reactions received")[1]
    assert most_reactions.index("@Ben: *3 reactions*") < most_reactions.index("@Dev: *1 reaction*")
    assert board.endswith("[ Share with channel ]")


def test_the_leadership_question_card(transcript: str):
    card = shown(section(transcript, "12:30 · Dev wants"), "only Dev sees (in #practice) · coachbot")
    assert card.startswith("Leadership · ") and "*What interviewers look for*" in card
    assert card.endswith("[ Answer ]  [ Another ]  [ Share with channel ]")


def test_app_home_dashboard(transcript: str):
    home = shown(section(transcript, "13:00 · Chloé opens"), "Chloé's App Home")
    assert home.startswith("=== Home ===\n## Your interview practice")
    assert "*Answers:* 1 · *Reactions received:* 1" in home
    assert "[ Practise technical ]  [ Practise leadership ]" in home
    assert "• #practice: Alternate prompts at 09:30 on weekdays (Europe/Berlin)" in home


def test_the_weekly_digest_leads_with_the_most_reacted_answer(transcript: str):
    friday = transcript[transcript.index("=== Friday 27 November 2026 ==="):]
    digest = shown(section(friday, "16:00 · the week ends"), "#practice (channel) · coachbot")
    assert "## This week's interview practice" in digest and "*3 answers* from 3 people" in digest
    top = digest.split("*Most-reacted answers*")[1]
    assert top.index("@Ben's answer") < top.index("@Dev's answer") < top.index("@Chloé's answer")


def test_plain_text_without_a_database_left_behind(transcript: str, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path):
    assert not ANSI.search(transcript)
    assert transcript.rstrip().endswith("The demo is over; its temporary database is deleted.")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run_demo(io.StringIO(), DemoOptions(interactive=True, script=False))
    assert list(scratch.iterdir()) == []


def test_cli_runs_with_an_empty_environment_and_prints_the_same_transcript(transcript: str):
    empty = {name: None for name in os.environ}
    result = CliRunner().invoke(demo, ["--color"], env=empty)  # not a terminal: no colour anyway
    assert result.exit_code == 0, result.output
    assert result.output == transcript


def test_database_url_keeps_the_data(tmp_path: Path):
    url = f"sqlite:///{(tmp_path / 'x.db').as_posix()}"
    result = CliRunner().invoke(demo, ["--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"The demo's data stays in {url}." in result.output
    database = Database(url)
    try:
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Answer)) == 3
            assert session.scalar(select(func.count()).select_from(Reaction)) == 5
            assert session.scalars(select(Prompt.status)).all() == ["posted"]
    finally:
        database.dispose()
    again = CliRunner().invoke(demo, ["--database-url", url])
    assert again.exit_code == 1 and "already holds a demo run" in again.output


def test_bad_options_are_one_line_errors():
    runner = CliRunner()
    alone = runner.invoke(demo, ["--no-script"])
    assert alone.exit_code == 2 and "--no-script only makes sense with --interactive" in alone.output
    bad = runner.invoke(demo, ["--database-url", "mysql://nowhere/db"])
    assert bad.exit_code == 1 and "DATABASE_URL is malformed" in bad.output and "Traceback" not in bad.output


def test_interactive_after_the_script():
    typed = typed_lines(
        "/prep technical",
        "click 1",
        # Today's pick for Ana is coding-042, the search index (the rotation is seeded; a bank change moves it).
        ("First I would ask whether case and punctuation matter, and assume searches far outnumber additions. "
         "My approach is an inverted index from each lower-cased word to the set of document ids, so search "
         "intersects the sets starting from the rarest word, which costs O(k) for the smallest set. I would "
         "test an empty query, a word in no document and a word repeated in the query."),
        "buttons",
        "quit",
    )
    result = CliRunner().invoke(demo, ["--interactive"], input=typed)
    assert result.exit_code == 0, result.output
    session = result.output[result.output.index("your turn: you are Ana"):]
    assert "ana> /prep technical" in session
    card = shown(session, "only Ana sees (in #practice) · coachbot")
    assert card.startswith("Technical · ") and card.endswith("[ Answer ]  [ Another ]  [ Share with channel ]")
    assert "  1) [ Answer ]  · only Ana sees (in #practice)" in session
    after_click = session[session.index("ana> click 1"):]
    assert shown(after_click, "Ana's modal").startswith("=== Practice answer ===")
    assert "Your answer> First I would ask" in after_click
    feedback = shown(after_click[after_click.index("Your answer>"):], "Ana's modal")
    assert feedback.startswith("=== Your feedback ===") and "*What worked:*" in feedback
    assert "an inverted index from each lower-cased word" in feedback  # quoted from what Ana typed
    assert "ana> quit" in session


def test_interactive_in_a_fresh_workspace():
    typed = io.StringIO(typed_lines(
        "/prep daily alternate 09:30 weekdays Europe/Berlin",
        "reply too early",
        "time 09:30",
        "as ben",
        "click 1",
        "",
        "as dev",
        "reply I would pick asynchronous replication for analytics replicas.",
        "thread",
        "as chloé",
        "react 1 :eyes:",
        "home",
        "nonsense",
    ))
    out = io.StringIO()
    run_demo(out, DemoOptions(interactive=True, script=False), stdin=typed)
    session = out.getvalue()
    assert "09:00 · Ana turns on" not in session  # no script
    assert "@Ana turned on daily interview practice" in session
    assert "  ! no daily prompt yet" in session
    assert "09:30 · time passes; the scheduler runs" in session and "## Today's interview practice" in session
    assert "  ! only Ana sees that" not in session  # the prompt's button is everyone's
    assert "ben> click 1" in session and "Ben's modal" in session
    assert "(nothing typed: the form is closed without submitting)" in session
    assert "  1) Dev: I would pick asynchronous replication" in session
    assert "reactions on the message from Dev\n  | :eyes: 1 (Chloé)" in session
    assert "Chloé's App Home" in session
    assert "  ! I don't know 'nonsense'; type help" in session
    assert session.rstrip().endswith("The demo is over; its temporary database is deleted.")
