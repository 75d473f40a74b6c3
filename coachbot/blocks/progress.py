"""Progress messages: /prep stats, history, leaderboard and forget-me. Pure builders."""

from __future__ import annotations

from typing import Any

from coachbot import tracks
from coachbot.blocks import Block, Message, actions, button, context, escape, header, message, section

ACTION_SHARE_LEADERBOARD = "leaderboard_share"
ACTION_FORGET_CONFIRM = "forget_confirm"
ACTION_FORGET_CANCEL = "forget_cancel"

PERIOD_TITLE = {"week": "the last 7 days", "month": "the last 30 days", "all": "all time"}
BAR_GOAL = 5  # answers per area that fill a coverage bar


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def coverage_bar(answers: int, goal: int = BAR_GOAL) -> str:
    filled = min(answers, goal)
    return "▰" * filled + "▱" * (goal - filled)


def emoji_line(emoji: dict[str, int]) -> str:
    return " ".join(f":{name}: {count}" for name, count in sorted(emoji.items(), key=lambda e: (-e[1], e[0])))


def question_line(summary: Any, limit: int = 120) -> str:
    text = " ".join(summary.question_text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(text)


def answer_line(summary: Any) -> str:
    """One answer: date, area, question, reactions, link; private ones are marked as such."""
    area = tracks.category(summary.category).title if summary.category in tracks.CATEGORY_SLUGS else summary.category
    where = "private" if summary.visibility != "channel" else (f"<{summary.permalink}|view>" if summary.permalink
                                                                 else f"in <#{summary.channel_id}>")
    reactions = f" · {emoji_line(summary.emoji)}" if summary.emoji else ""
    return f"*{summary.local_day:%a %d %b}* · {area} · {where}{reactions}\n{question_line(summary)}"


def stats_message(stats: Any) -> Message:
    own = stats.own
    who = "Your practice" if own else f"<@{stats.user_id}>'s practice"
    if stats.total == 0:
        text = ("You haven't answered a practice question yet. Start with `/prep leadership` or `/prep technical`."
                if own else f"<@{stats.user_id}> hasn't shared any practice answers in a channel yet.")
        return message(text, [section(text)])
    track_line = " · ".join(f"{tracks.track(t).title}: *{n}*" for t, n in stats.per_track.items())
    rows = "\n".join(f"`{coverage_bar(c.answers)}` {c.title}: {c.answers}" for c in stats.per_category)
    streak = plural(stats.current_streak, "day")
    blocks: list[Block] = [
        header("Your practice" if own else "Practice"),
        section(f"{who}: *{stats.total}* {'answer' if stats.total == 1 else 'answers'} · {track_line}"),
        section(f"*Coverage:* {stats.areas_covered} of {len(stats.per_category)} areas\n{rows}"),
        section(f"*Days practised:* {stats.days_practised} · *Current streak:* {streak} · "
                f"*Best streak:* {plural(stats.best_streak, 'day')}\n"
                f"*Reactions received:* {stats.reactions_received}"),
    ]
    if stats.top_answer is not None:
        top = stats.top_answer
        link = f" · <{top.permalink}|view it>" if top.permalink else ""
        blocks.append(section(f"*Most-reacted answer* ({plural(top.reactions, 'reaction')}{link})\n"
                              f"{question_line(top)}"))
    if not own:
        blocks.append(context("Built only from answers posted in channels; private practice stays private."))
    return message(f"{who}: {stats.total} answers, current streak {streak}", blocks)


def history_message(items: list[Any]) -> Message:
    if not items:
        text = "No answers yet. Try `/prep leadership` or `/prep technical`, or answer today's prompt in its thread."
        return message(text, [section(text)])
    return message(f"Your last {len(items)} answers", [
        header("Your recent answers"),
        *(section(answer_line(item)) for item in items),
        context("Only you see this. Private answers are never shown to anyone else."),
    ])


def _ranks(ranks: Any, what: str) -> str:
    if not ranks:
        return "_Nobody yet._"
    medal = {1: ":first_place_medal:", 2: ":second_place_medal:", 3: ":third_place_medal:"}
    lines = []
    for r in ranks:
        count = plural(r.answers, "answer") if what == "answers" else plural(r.reactions, "reaction")
        extra = plural(r.reactions, "reaction") if what == "answers" else plural(r.answers, "answer")
        lines.append(f"{medal.get(r.position, f'{r.position}.')} <@{r.user_id}>: *{count}* ({extra})")
    return "\n".join(lines)


def leaderboard_message(board: Any, *, shared_by: str | None = None) -> Message:
    period = PERIOD_TITLE[board.period]
    blocks: list[Block] = [
        header(f"Practice leaderboard: {period}"),
        section("*Most answers*\n" + _ranks(board.by_answers, "answers")),
        section("*Most reactions received*\n" + _ranks(board.by_reactions, "reactions")),
    ]
    if shared_by is None:
        mine = [f"by answers #{board.viewer_by_answers.position}" if board.viewer_by_answers else "",
                f"by reactions #{board.viewer_by_reactions.position}" if board.viewer_by_reactions else ""]
        if any(mine):
            blocks.append(context("Your place: " + ", ".join(m for m in mine if m)))
    blocks.append(context("Counts answers posted in channels and reactions from other people; private practice "
                          "and reactions on your own answers don't count." +
                          (f" Shared by <@{shared_by}>." if shared_by else "")))
    if shared_by is None:
        blocks.append(actions(button("Share with channel", ACTION_SHARE_LEADERBOARD, board.period)))
    return message(f"Practice leaderboard for {period}", blocks)


def forget_confirm_message() -> Message:
    confirm = {
        "title": {"type": "plain_text", "text": "Delete your data?"},
        # The confirmation dialog object takes plain_text only (Block Kit: confirmation dialog object).
        "text": {"type": "plain_text", "text": "This can't be undone."},
        "confirm": {"type": "plain_text", "text": "Delete"},
        "deny": {"type": "plain_text", "text": "Keep it"},
        "style": "danger",
    }
    delete = button("Delete my data", ACTION_FORGET_CONFIRM, "forget", style="danger")
    delete["confirm"] = confirm
    return message("Delete your coachbot data in this workspace?", [
        section("*Delete your coachbot data in this workspace?*\nThis deletes every answer you gave (private and "
                "shared), the reactions you gave and the reactions on your answers, and your practice history. "
                "Answers I posted in channels for you are deleted from Slack too; your own thread replies stay in "
                "Slack (delete them there if you want), but I forget them. It can't be undone."),
        actions(delete, button("Cancel", ACTION_FORGET_CANCEL, "cancel")),
    ])


def forgotten_message(forgotten: Any, removed_posts: int) -> Message:
    text = (f"Done. I deleted {plural(forgotten.answers, 'answer')} and {plural(forgotten.reactions, 'reaction')}"
            + (f", and removed {plural(removed_posts, 'post')} of your shared answers from channels" if removed_posts
               else "") + ". Your practice history here starts again from zero.")
    return message(text, [section(text)])


def forget_cancelled_message() -> Message:
    text = "Kept. Nothing was deleted."
    return message(text, [section(text)])
