"""Peers react and discuss, end to end: reactions on thread replies and shared answers,
/prep stats, history, leaderboard, the weekly digest, App Home and forget-me, through
the real Bolt app with signed requests against the stand-in Slack; SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from coachbot import blocks
from coachbot.blocks import home as home_blocks
from coachbot.blocks import progress as progress_blocks
from coachbot.slackapi import SlackPromptPoster, prompt_client
from coachbot.standin.driver import Seen
from coachbot.standin.model import Message
from coachbot.storage.models import Answer, Digest, Reaction
from tests.scenario import Bot, text_of, view_text

CHANNEL = "C0DAILY"
WED_0930_BERLIN = datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc)
FRI_1600_BERLIN = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
REPLY_U1 = ("At my last job our on-call load was burning people out. I was asked to fix it. I proposed a rotation "
            "with a secondary and I wrote the runbooks. As a result pages fell by 40% in a quarter.")
REPLY_U2 = ("When two teams disagreed on an API, my task was to unblock the launch. I set up a short design review "
            "and wrote up the trade-offs; we shipped two weeks early.")
SHARED_U3 = "I mentored a new lead; the result was that she ran the next planning cycle on her own within 2 months."
PRIVATE_U1 = "A private rehearsal that nobody else may ever read: PRIVATE-MARKER-7731."


@pytest.fixture
def poster(bot: Bot) -> SlackPromptPoster:
    return SlackPromptPoster(prompt_client(bot.web.bolt.client))


def react(bot: Bot, user: str, message: Message, emoji: str, *, removed: bool = False, event_id: str | None = None,
          retry_num: int | None = None, team: str | None = None):
    event = {"type": "reaction_removed" if removed else "reaction_added", "user": user, "reaction": emoji,
             "item_user": message.user, "item": {"type": "message", "channel": message.channel, "ts": message.ts},
             "event_ts": f"{time.time():.6f}"}
    return bot.driver.event(event, event_id=event_id, retry_num=retry_num)


def count(bot: Bot, model) -> int:
    with bot.services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def settle(bot: Bot, condition, timeout: float = 5.0):
    return bot.slack.wait_for(lambda: condition() or None, timeout, message="the app to finish")


def reply_in_thread(bot: Bot, prompt: Message, user: str, text: str, event_id: str) -> Message:
    reply = bot.slack.post_as_user(CHANNEL, user, text, thread_ts=prompt.ts)
    event = {"type": "message", "channel": CHANNEL, "user": user, "text": text, "ts": reply.ts,
             "thread_ts": prompt.ts, "channel_type": "channel"}
    before = count(bot, Answer)
    assert bot.driver.event(event, event_id=event_id).status == 200
    settle(bot, lambda: count(bot, Answer) == before + 1)
    return reply


def morning(bot: Bot, poster: SlackPromptPoster):
    """A channel with a daily prompt, two thread replies (U1, U2) and one answer through the modal (U3)."""
    bot.driver.slash("U1", "daily leadership 09:30 weekdays Europe/Berlin", CHANNEL)
    bot.driver.wait_message(CHANNEL, 1)
    assert len(bot.services.prompts.send_due(poster, WED_0930_BERLIN).posted) == 1
    prompt = bot.slack.messages(CHANNEL)[-1]
    bot.clock.set(WED_0930_BERLIN + timedelta(minutes=15))
    r1 = reply_in_thread(bot, prompt, "U1", REPLY_U1, "EvR1")
    r2 = reply_in_thread(bot, prompt, "U2", REPLY_U2, "EvR2")
    bot.driver.click("U3", bot.driver.seen_message(prompt), blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal("U3")
    assert bot.driver.submit("U3", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: SHARED_U3}}).status == 200
    shared = settle(bot, lambda: [m for m in bot.slack.replies(CHANNEL, prompt.ts) if m.bot_id])[-1]
    settle(bot, lambda: _shared_marked(bot))
    return prompt, r1, r2, shared


def _shared_marked(bot: Bot) -> bool:
    with bot.services.db.session() as session:
        return session.scalar(select(Answer.message_ts).where(Answer.user_id == "U3")) is not None


def reactions_stored(bot: Bot, n: int) -> None:
    settle(bot, lambda: count(bot, Reaction) == n)


def ask(bot: Bot, user: str, text: str, channel: str = CHANNEL, nth: int | None = None) -> str:
    before = len(bot.slack.ephemerals(user))
    assert bot.driver.slash(user, text, channel).status == 200
    return text_of(bot.driver.wait_ephemeral(user, (nth or before + 1)).blocks)


# --- reactions ----------------------------------------------------------------


def test_reactions_on_replies_and_shared_answers_move_stats_and_leaderboard(bot: Bot, poster: SlackPromptPoster):
    prompt, r1, r2, shared = morning(bot, poster)
    react(bot, "U2", r1, "thumbsup")
    react(bot, "U3", r1, "tada")
    react(bot, "U1", r1, "star")  # on their own answer: kept, never counted
    react(bot, "U1", shared, "clap")
    react(bot, "U5", prompt, "eyes")  # on the prompt itself: not an answer, ignored
    reactions_stored(bot, 4)
    with bot.services.db.session() as session:  # stored at the app's clock, in UTC, on both backends
        assert set(session.scalars(select(Reaction.created_at))) == {bot.clock.now()}
        assert sorted(session.execute(select(Reaction.emoji, Reaction.is_self))) == [
            ("clap", False), ("star", True), ("tada", False), ("thumbsup", False)]

    stats = ask(bot, "U1", "stats")
    assert "Reactions received:* 2" in stats
    assert "Most-reacted answer* (2 reactions · view it (https://" in stats
    assert "Coverage:* 1 of 9 areas" in stats

    board = ask(bot, "U4", "leaderboard")
    most_reactions = board.split("Most reactions received")[1]
    assert most_reactions.index("@U1") < most_reactions.index("@U3")
    assert "@U1: *2 reactions*" in most_reactions and "@U3: *1 reaction*" in most_reactions
    assert "@U2" not in most_reactions  # no reactions received: not ranked
    most_answers = board.split("Most answers")[1].split("Most reactions")[0]
    # One answer each: ties broken by reactions received, then who answered first.
    assert [most_answers.index(u) for u in ("@U1", "@U3", "@U2")] == sorted(
        most_answers.index(u) for u in ("@U1", "@U3", "@U2"))


def test_retries_count_once_and_removals_take_back(bot: Bot, poster: SlackPromptPoster):
    _, r1, _, _ = morning(bot, poster)
    assert react(bot, "U2", r1, "thumbsup", event_id="EvA").status == 200
    assert react(bot, "U2", r1, "thumbsup", event_id="EvA", retry_num=1).status == 200
    assert react(bot, "U2", r1, "thumbsup", event_id="EvA", retry_num=2).status == 200
    react(bot, "U2", r1, "thumbsup", event_id="EvB")  # the same emoji again (a missed removal): still one
    reactions_stored(bot, 1)
    # Events are handled after their ack, in any order: let the retries and EvB finish before the removal.
    time.sleep(0.5)
    assert count(bot, Reaction) == 1
    assert "Reactions received:* 1" in ask(bot, "U1", "stats")

    react(bot, "U2", r1, "thumbsup", removed=True, event_id="EvC")
    reactions_stored(bot, 0)
    react(bot, "U2", r1, "thumbsup", event_id="EvA", retry_num=3)  # a late retry of the first add: not again
    react(bot, "U2", r1, "thumbsup", removed=True, event_id="EvC", retry_num=1)
    time.sleep(0.3)
    assert count(bot, Reaction) == 0
    with bot.services.db.session() as session:
        assert session.scalar(select(Answer.reaction_count).where(Answer.user_id == "U1")) == 0
    assert "Reactions received:* 0" in ask(bot, "U1", "stats")


def test_reactions_on_other_messages_are_ignored(bot: Bot, poster: SlackPromptPoster):
    prompt, _, _, _ = morning(bot, poster)
    chat = bot.slack.post_as_user(CHANNEL, "U2", "lunch?")
    react(bot, "U1", chat, "pizza")
    react(bot, "U1", prompt, "eyes")
    bot.driver.event({"type": "reaction_added", "user": "U1", "reaction": "eyes",
                      "item": {"type": "file", "file": "F1"}, "event_ts": "1.1"})
    time.sleep(0.3)
    assert count(bot, Reaction) == 0


# --- stats, history: private stays private ------------------------------------------


def private_answer(bot: Bot, user: str = "U1") -> None:
    cards = len(bot.slack.ephemerals(user)) + 1
    modals = len([v for v in bot.slack.views(user) if v.type == "modal"]) + 1
    bot.driver.slash(user, "leadership team", "D0DM")
    card = bot.driver.wait_ephemeral(user, cards)
    bot.driver.click(user, card, blocks.ACTION_ANSWER)
    modal = bot.driver.wait_modal(user, modals)
    assert bot.driver.submit(user, modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: PRIVATE_U1}}).json()[
        "response_action"] == "update"


def test_stats_of_someone_else_show_only_what_they_posted_in_channels(bot: Bot, poster: SlackPromptPoster):
    _, r1, _, _ = morning(bot, poster)
    private_answer(bot)
    react(bot, "U2", r1, "thumbsup")
    reactions_stored(bot, 1)

    own = ask(bot, "U1", "stats")
    assert "*2* answers" in own and "Coverage:* 2 of 9 areas" in own
    bot.slack.add_user("U1", "alice")
    bot.slack.add_user("U9", "zoe")
    # Typed as a person types it; with the manifest's should_escape Slack sends <@U1|alice>.
    other = ask(bot, "U2", "stats @alice")
    assert "@U1's practice: *1* answer ·" in other and "Coverage:* 1 of 9 areas" in other
    assert "private practice stays private" in other
    assert "Reactions received:* 1" in other
    nobody = ask(bot, "U2", "stats @zoe")
    assert "hasn't shared any practice answers" in nobody


def test_history_lists_own_answers_with_reactions_and_links(bot: Bot, poster: SlackPromptPoster):
    _, r1, _, _ = morning(bot, poster)
    private_answer(bot)
    react(bot, "U2", r1, "thumbsup")
    react(bot, "U3", r1, "thumbsup")
    reactions_stored(bot, 2)
    shown = ask(bot, "U1", "history")
    assert "Your recent answers" in shown
    assert shown.count("Wed 25 Nov") == 2
    assert "Team management · private" in shown and ":thumbsup: 2" in shown and "view (https://" in shown
    assert PRIVATE_U1 not in shown  # the answer text isn't repeated; the question is
    assert "No answers yet" in ask(bot, "U7", "history")


def test_private_answers_never_reach_others(bot: Bot, poster: SlackPromptPoster):
    morning(bot, poster)
    private_answer(bot)
    bot.services.digests.send_due(poster, FRI_1600_BERLIN)
    texts = [text_of(m.blocks) + m.text for m in bot.slack.messages(CHANNEL)]
    bot.slack.add_user("U1", "alice")
    for user in ("U2", "U3"):
        texts.append(ask(bot, user, "leaderboard all"))
        texts.append(ask(bot, user, "stats @alice"))
    assert not any("PRIVATE-MARKER" in t for t in texts)
    board = texts[-2]
    assert "@U1: *1 answer*" in board  # the private one is not counted


# --- the leaderboard ---------------------------------------------------------------


def test_leaderboard_periods_and_sharing(bot: Bot, poster: SlackPromptPoster):
    _, r1, _, _ = morning(bot, poster)
    react(bot, "U2", r1, "thumbsup")
    reactions_stored(bot, 1)
    bot.clock.set(WED_0930_BERLIN + timedelta(days=10))
    week = ask(bot, "U2", "leaderboard")
    assert "last 7 days" in week and "Nobody yet" in week
    month = ask(bot, "U2", "leaderboard month")
    assert "last 30 days" in month and "@U1: *1 answer*" in month
    seen = bot.driver.wait_ephemeral("U2", len(bot.slack.ephemerals("U2")))  # the month's board
    assert "I didn't understand" in text_of(bot.driver.slash("U2", "leaderboard fortnight", CHANNEL).json()["blocks"])
    before = len(bot.slack.response_posts())
    bot.driver.click("U2", seen, progress_blocks.ACTION_SHARE_LEADERBOARD)
    posts = settle(bot, lambda: bot.slack.response_posts()[before:])
    shared = posts[-1]
    assert shared.body.get("response_type") == "in_channel"
    assert "Shared by @U2." in text_of(shared.body["blocks"]) and "last 30 days" in text_of(shared.body["blocks"])
    assert "Share with channel" not in text_of(shared.body["blocks"])


# --- the weekly digest -------------------------------------------------------------


def digests(bot: Bot) -> list[Message]:
    return [m for m in bot.slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") == "coachbot_digest"]


def test_digest_posts_once_with_the_week_s_best_answers(bot: Bot, poster: SlackPromptPoster):
    _, r1, r2, shared = morning(bot, poster)
    for user in ("U2", "U3", "U4"):
        react(bot, user, r1, "thumbsup")
    react(bot, "U1", shared, "tada")
    react(bot, "U2", r2, "U2-self" and "star")  # self-reaction: not counted, so r2 has none
    reactions_stored(bot, 5)
    assert bot.services.digests.send_due(poster, FRI_1600_BERLIN - timedelta(minutes=1)).posted == []

    reports = []
    workers = [threading.Thread(target=lambda: reports.append(bot.services.digests.send_due(poster, FRI_1600_BERLIN)))
               for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    bot.services.digests.send_due(poster, FRI_1600_BERLIN + timedelta(minutes=30))
    assert sum(len(r.posted) for r in reports) == 1
    assert len(digests(bot)) == 1
    shown = text_of(digests(bot)[0].blocks)
    assert "This week's interview practice" in shown
    assert "*3 answers* from 3 people" in shown
    top = shown.split("Most-reacted answers")[1]
    assert top.index("@U1") < top.index("@U3")  # 3 reactions before 1
    assert ":thumbsup: 3" in top and "answer (https://" in top
    assert "@U2's answer" not in top  # only its own author's star
    assert "Covered:* " in shown and "Left out:*" in shown and "Suggested focus for next week:*" in shown
    with bot.services.db.session() as session:
        assert [d.status for d in session.scalars(select(Digest))] == ["posted"]
    # The next week's digest is its own slot.
    assert len(bot.services.digests.send_due(poster, FRI_1600_BERLIN + timedelta(days=7)).posted) == 1
    assert "No answers in this channel this week" in text_of(digests(bot)[-1].blocks)


def test_digest_settings_change_when_it_posts(bot: Bot, poster: SlackPromptPoster):
    assert "comes with a daily prompt" in ask(bot, "U1", "digest")
    bot.driver.slash("U1", "daily alternate 09:30 weekdays Europe/Berlin", CHANNEL)
    bot.driver.wait_message(CHANNEL, 1)
    assert "Fridays at 16:00 (Europe/Berlin)" in ask(bot, "U2", "digest")
    bot.driver.slash("U1", "digest thu 17:30", CHANNEL)
    announced = text_of(bot.driver.wait_message(CHANNEL, 2).blocks)
    assert "@U1 changed the weekly digest" in announced and "Thursdays at 17:30" in announced
    assert "isn't a day or a time" in ask(bot, "U1", "digest someday")
    thursday = datetime(2026, 11, 26, 16, 30, tzinfo=timezone.utc)
    assert bot.services.digests.send_due(poster, FRI_1600_BERLIN).posted == []
    assert len(bot.services.digests.send_due(poster, thursday + timedelta(days=7)).posted) == 1
    bot.driver.slash("U1", "digest off", CHANNEL)
    assert "weekly digest is *off*" in text_of(bot.driver.wait_message(CHANNEL, 4).blocks)
    assert bot.services.digests.send_due(poster, thursday + timedelta(days=14)).posted == []


def test_send_due_cli_posts_digests_too(bot: Bot, poster: SlackPromptPoster):
    from coachbot.scheduler import tick

    morning(bot, poster)
    report = tick(bot.services, poster, FRI_1600_BERLIN)
    assert [label.split("/")[-1] for label in report.posted] == ["digest-2026-11-27"]


# --- App Home --------------------------------------------------------------------------


def test_app_home_publishes_the_dashboard(bot: Bot, poster: SlackPromptPoster):
    _, r1, _, _ = morning(bot, poster)
    react(bot, "U2", r1, "thumbsup")
    reactions_stored(bot, 1)
    bot.driver.event({"type": "app_home_opened", "user": "U1", "channel": "D0HOME", "tab": "home",
                      "event_ts": "1.1"})
    home = settle(bot, lambda: bot.slack.home("U1"))
    shown = view_text(home.view)
    assert "Your interview practice" in shown
    assert "Current streak:* 1 day" in shown and "Reactions received:* 1" in shown
    assert "`▰▱▱▱▱` Team management: 0" not in shown  # bars reflect answers
    assert "[ Practise technical ]" in shown and "[ Practise leadership ]" in shown
    assert ":thumbsup: 1" in shown
    assert f"#{CHANNEL}: Leadership prompts at 09:30 on weekdays (Europe/Berlin)" in shown
    bot.driver.event({"type": "app_home_opened", "user": "U1", "channel": "D0HOME", "tab": "messages",
                      "event_ts": "1.2"})

    in_home = Seen(home.view["blocks"], None, None, False, view=home.view)
    bot.driver.click("U1", in_home, f"{home_blocks.ACTION_HOME_PRACTISE}:leadership")
    modal = bot.driver.wait_modal("U1")
    assert "Your answer" in view_text(modal.view) and "Leadership ·" in view_text(modal.view)
    publishes = bot.slack.home_publishes("U1")
    text = "I would start from the access pattern, then pick the store; O(1) reads, tested with a load test."
    assert bot.driver.submit("U1", modal, {blocks.BLOCK_ANSWER: {blocks.INPUT_ANSWER: text}}).status == 200
    refreshed = bot.driver.wait_home("U1", publishes + 1)
    assert "*Answers:* 2" in view_text(refreshed.view)


# --- forget-me -------------------------------------------------------------------------


def test_forget_me_deletes_answers_and_reactions_after_confirmation(bot: Bot, poster: SlackPromptPoster):
    _, r1, _, shared = morning(bot, poster)
    react(bot, "U1", shared, "clap")  # U1's reaction on U3's answer
    react(bot, "U3", r1, "tada")
    reactions_stored(bot, 2)

    asked = bot.driver.slash("U3", "forget-me", CHANNEL)
    confirm = asked.json()
    assert "Delete your coachbot data" in text_of(confirm["blocks"])
    card = bot.driver.seen_message(Message(CHANNEL, "1.0", None, "U3", confirm["text"], confirm["blocks"]))
    bot.driver.click("U3", card, progress_blocks.ACTION_FORGET_CANCEL)
    settle(bot, lambda: [p for p in bot.slack.response_posts() if "Nothing was deleted" in p.body.get("text", "")])
    assert count(bot, Answer) == 3

    bot.driver.click("U3", card, progress_blocks.ACTION_FORGET_CONFIRM)
    done = settle(bot, lambda: [p for p in bot.slack.response_posts() if "Done." in p.body.get("text", "")])
    assert "I deleted 1 answer and 2 reactions" in done[-1].body["text"]
    assert "removed 1 post" in done[-1].body["text"]
    assert bot.slack.message(CHANNEL, shared.ts) is None  # the bot's post of the shared answer is gone
    with bot.services.db.session() as session:
        assert session.scalars(select(Answer.user_id).order_by(Answer.user_id)).all() == ["U1", "U2"]
        assert session.scalar(select(Answer.reaction_count).where(Answer.user_id == "U1")) == 0
    assert count(bot, Reaction) == 0
    assert "Reactions received:* 0" in ask(bot, "U1", "stats")
    assert "haven't answered" in ask(bot, "U3", "stats")


def test_a_digest_whose_poster_died_after_slack_accepted_it_is_reconciled_not_reposted(
        bot: Bot, poster: SlackPromptPoster):
    morning(bot, poster)
    real = poster.post_digest

    def post_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt("killed")

    poster.post_digest = post_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        bot.services.digests.send_due(poster, FRI_1600_BERLIN, workers=1)
    poster.post_digest = real  # type: ignore[method-assign]
    assert bot.services.digests.send_due(poster, FRI_1600_BERLIN + timedelta(seconds=30)).posted == []
    report = bot.services.digests.send_due(poster, FRI_1600_BERLIN + timedelta(minutes=3))
    assert report.recovered and not report.posted
    assert len(digests(bot)) == 1


def test_a_digest_slack_refused_with_5xx_is_retried_on_the_next_tick(bot: Bot, poster: SlackPromptPoster):
    morning(bot, poster)
    bot.slack.fail("chat.postMessage", status=503, times=-1, channel=CHANNEL)
    assert bot.services.digests.send_due(poster, FRI_1600_BERLIN).retry_later
    bot.slack.clear_faults()
    assert len(bot.services.digests.send_due(poster, FRI_1600_BERLIN + timedelta(minutes=1)).posted) == 1
    assert len(digests(bot)) == 1
