"""The weekly digest and its settings messages. Pure builders."""

from __future__ import annotations

from typing import Any

from coachbot import tracks
from coachbot.blocks import SECTION_LIMIT, Block, Message, context, fit_list, header, message, section
from coachbot.blocks.progress import emoji_line, plural, question_line

DIGEST_USAGE = ("`/prep digest`: show when it posts · `/prep digest fri 16:00`: change the day and time · "
                "`/prep digest off` / `/prep digest on`")


def _focus_command(category: tracks.Category) -> str:
    return f"/prep {category.track} {category.slug}"


def digest_message(digest: Any) -> Message:
    span = f"{digest.first_day:%a %d %b} – {digest.last_day:%a %d %b}"
    blocks: list[Block] = [header("This week's interview practice"), context(span)]
    if digest.answers == 0:
        blocks.append(section("No answers in this channel this week. Today's prompt is a good place to start: "
                              "answer in its thread, even in a few lines."))
    else:
        lead = (f"*{plural(digest.answers, 'answer')}* from "
                f"{plural(len(digest.participants), 'person', 'people')}: ")
        thanks = ". Thank you!"
        # Everyone who fits is named; the rest are counted, never dropped silently.
        people = fit_list([f"<@{p.user_id}> ({p.answers})" for p in digest.participants],
                          SECTION_LIMIT - len(lead) - len(thanks))
        blocks.append(section(lead + people + thanks))
        if digest.top:
            lines = []
            for i, top in enumerate(digest.top, 1):
                # A mention can't sit inside a link's label in Slack: the link is the word "answer".
                link = f"<@{top.user_id}>'s <{top.permalink}|answer>" if top.permalink else f"<@{top.user_id}>'s answer"
                lines.append(f"{i}. {link} · {emoji_line(top.emoji) or plural(top.reactions, 'reaction')}\n"
                             f"      _{question_line(top, 90)}_")
            blocks.append(section("*Most-reacted answers*\n" + "\n".join(lines)))
        else:
            blocks.append(section("No reactions this week. React to the answers you learn from: it helps the team "
                                  "see what good looks like."))
    covered = ", ".join(c.title for c in digest.covered) or "none"
    left = ", ".join(c.title for c in digest.left_out) or "none: every area had an answer"
    blocks.append(section(f"*Covered:* {covered}\n*Left out:* {left}"))
    if digest.focus is not None:
        blocks.append(section(f"*Suggested focus for next week:* {digest.focus.title}. "
                              f"Try `{_focus_command(digest.focus)}`."))
    blocks.append(context("Only answers posted in this channel are counted; private practice stays private. "
                          + DIGEST_USAGE))
    return message(f"This week's interview practice: {plural(digest.answers, 'answer')}", blocks)


def digest_settings_message(settings: Any, *, changed_by: str | None) -> Message:
    if settings.enabled:
        state = f"The weekly digest posts on *{settings.description}*."
        if settings.next_local is not None:
            state += f"\nNext digest: {settings.next_local:%a %d %b %Y, %H:%M} ({settings.tz})."
    else:
        state = "The weekly digest is *off* in this channel."
    lead = f"<@{changed_by}> changed the weekly digest. " if changed_by else ""
    return message(lead + state.replace("*", ""), [section(lead + state), context(DIGEST_USAGE)])
