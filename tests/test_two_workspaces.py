"""Two workspaces side by side on one database: no command, digest, App Home, leaderboard
or export shows one the other's data, and a request for one can't touch the other's rows.
Both teams use the same user and channel ids, which is the hard case."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from coachbot import blocks
from coachbot.export import ExportFilters, iter_answers, write_json
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.standin.driver import SlackDriver
from coachbot.storage.models import Answer, Prompt, Reaction
from tests.scenario import SECRET, Bot, text_of, view_text

CHANNEL = "C0SHARED"
WED_0930_UTC = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
FRI_1600_UTC = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)
ANSWER_A = "TEAM-A-ANSWER: I split the monolith's billing module out first; as a result deploys fell from 40 to 5 min."
ANSWER_B = "TEAM-B-ANSWER: When I took over the team I ran 1:1s in week one; attrition dropped by half in a year."


def export_text(bot: Bot, teams: tuple[str, ...] = ()) -> str:
    out = io.StringIO()
    filters = ExportFilters.of(teams=teams)
    with bot.services.db.session() as session:
        write_json(iter_answers(session, filters), out, now=WED_0930_UTC, filters=filters)
    return out.getvalue()


def test_two_workspaces_never_see_each_other(bot: Bot):
    team_a, team_b = bot.slack.team_id, "T0OTHER"
    a, b = bot.driver, SlackDriver(bot.slack, bot.web, SECRET, team_id=team_b)
    poster = SlackPromptPoster(prompt_client(bot.web.bolt.client))
    for driver, answer in ((a, ANSWER_A), (b, ANSWER_B)):
        before = len(bot.slack.messages(CHANNEL))
        driver.slash("U1", "daily technical 09:30 weekdays UTC", CHANNEL)
        bot.driver.wait_message(CHANNEL, before + 1)
    report = bot.services.prompts.send_due(poster, WED_0930_UTC)
    assert sorted(label.split("/")[0] for label in report.posted) == sorted([team_a, team_b])
    with bot.services.db.session() as session:
        prompt_ts = dict(session.execute(select(Prompt.team_id, Prompt.message_ts)).all())
    bot.clock.set(WED_0930_UTC + timedelta(minutes=5))
    replies = {}
    for driver, answer, team in ((a, ANSWER_A, team_a), (b, ANSWER_B, team_b)):
        reply = bot.slack.post_as_user(CHANNEL, "U1", answer, thread_ts=prompt_ts[team])
        driver.event({"type": "message", "channel": CHANNEL, "user": "U1", "text": answer, "ts": reply.ts,
                      "thread_ts": prompt_ts[team], "channel_type": "channel"})
        replies[team] = reply
    bot.slack.wait_for(lambda: _count(bot, Answer) == 2 or None)

    # Team B's people react to team A's message ts: signed for B, it must not count on A's answer.
    b.react("U2", replies[team_a], "thumbsup")
    a.react("U2", replies[team_a], "tada")
    bot.slack.wait_for(lambda: _count(bot, Reaction) == 1 or None)
    time.sleep(0.3)
    assert _count(bot, Reaction) == 1
    with bot.services.db.session() as session:
        assert session.scalar(select(Reaction.team_id)) == team_a

    def seen(driver: SlackDriver, text: str, user: str = "U1") -> str:
        before = len(bot.slack.ephemerals(user))
        driver.slash(user, text, CHANNEL)
        return text_of(bot.driver.wait_ephemeral(user, before + 1).blocks)

    a_stats, b_stats = seen(a, "stats"), seen(b, "stats")
    assert "Reactions received:* 1" in a_stats and "Reactions received:* 0" in b_stats
    a_board, b_board = seen(a, "leaderboard all"), seen(b, "leaderboard all")
    assert "@U1: *1 answer* (1 reaction)" in a_board and "@U1: *1 answer* (0 reactions)" in b_board
    a_history, b_history = seen(a, "history"), seen(b, "history")
    assert ":tada: 1" in a_history and ":tada:" not in b_history

    b.open_home("U1")
    home = view_text(b.wait_home("U1").view)
    assert "Reactions received:* 0" in home and ":tada:" not in home

    bot.services.digests.send_due(poster, FRI_1600_UTC)
    digests = [text_of(m.blocks) for m in bot.slack.messages(CHANNEL)
               if (m.metadata or {}).get("event_type") == "coachbot_digest"]
    assert len(digests) == 2
    assert sum("Most-reacted answers" in d for d in digests) == 1  # only team A has a reacted answer

    only_b = json.loads(export_text(bot, (team_b,)))
    assert [row["text"] for row in only_b["answers"]] == [ANSWER_B]
    assert ANSWER_A not in export_text(bot, (team_b,))

    # A modal opened in team A, submitted by team B with the same private_metadata: refused, nothing stored.
    a.slash("U3", "leadership", CHANNEL)
    card = bot.driver.wait_ephemeral("U3")
    a.click("U3", card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U3")
    refused = b.submit("U3", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: "sneaky"}}).json()
    assert refused["response_action"] == "errors" and "another workspace" in json.dumps(refused)
    assert _count(bot, Answer) == 2

    # Forgetting U1 in team B leaves team A's U1 alone.
    forgotten = bot.services.progress.forget(team_b, "U1")
    assert forgotten.answers == 1
    with bot.services.db.session() as session:
        assert session.scalars(select(Answer.team_id)).all() == [team_a]


def _count(bot: Bot, model) -> int:
    with bot.services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))
