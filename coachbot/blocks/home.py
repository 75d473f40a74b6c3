"""The App Home dashboard. A pure builder of the ``home`` view."""

from __future__ import annotations

import re
from typing import Any

from coachbot import tracks
from coachbot.blocks import SECTION_LIMIT, Block, actions, button, context, divider, fit_list, header, section
from coachbot.blocks.progress import answer_line, coverage_bar, plural

ACTION_HOME_PRACTISE = "home_practise"  # + ":technical" / ":leadership"
ACTION_HOME_PRACTISE_MATCH = re.compile(r"^home_practise:")


def home_view(dashboard: Any) -> dict[str, Any]:
    stats = dashboard.stats
    blocks: list[Block] = [
        header("Your interview practice"),
        section(f"*Current streak:* {plural(stats.current_streak, 'day')} · *Best:* {plural(stats.best_streak, 'day')}"
                f" · *Days practised:* {stats.days_practised}\n*Answers:* {stats.total} · "
                f"*Reactions received:* {stats.reactions_received}"),
        # Slack wants action_ids unique within a block: one per track, matched by prefix.
        actions(*(button(f"Practise {t.title.lower()}", f"{ACTION_HOME_PRACTISE}:{t.slug}", t.slug,
                         style="primary" if i == 0 else None)
                  for i, t in enumerate(tracks.TRACKS)), block_id="home_practise"),
        divider(),
        section(f"*Coverage* ({stats.areas_covered} of {len(stats.per_category)} areas; a full bar is "
                f"{plural(5, 'answer')})"),
    ]
    for t in tracks.TRACKS:
        rows = [c for c in stats.per_category if c.track == t.slug]
        blocks.append(section(f"*{t.title}*\n" + "\n".join(f"`{coverage_bar(c.answers)}` {c.title}: {c.answers}"
                                                         for c in rows)))
    blocks.append(divider())
    blocks.append(section("*Recent answers*"))
    if dashboard.recent:
        blocks.extend(section(answer_line(item)) for item in dashboard.recent)
    else:
        blocks.append(section("Nothing yet. Press a Practise button above: a question, your answer, instant feedback."))
    blocks.append(divider())
    if dashboard.channels:
        title = "*Daily prompts in your channels*\n"
        # Every channel that fits is listed; the rest are counted, never dropped silently.
        lines = fit_list([f"• <#{c.channel_id}>: {c.description[:1].upper()}{c.description[1:]}"
                          for c in dashboard.channels], SECTION_LIMIT - len(title), sep="\n",
                         others=lambda n: f"\n• and {n} other {'channel' if n == 1 else 'channels'}")
        blocks.append(section(title + lines))
    else:
        blocks.append(section("*Daily prompts in your channels*\nNone yet. In a channel, run "
                              "`/prep daily alternate 09:30` to start one."))
    blocks.append(context("Only you see this page. `/prep history` lists your answers; `/prep forget-me` deletes "
                          "your data."))
    return {"type": "home", "blocks": blocks}
