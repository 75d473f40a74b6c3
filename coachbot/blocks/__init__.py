"""Block Kit builders. Pure functions returning dicts: no Slack calls, no database.

Every message coachbot sends is built here, so the layout lives in one place
and the demo renders exactly what Slack would show. This module holds the
primitives and the practice messages; ``progress``, ``digest`` and ``home``
hold the progress messages, the weekly digest and the App Home view.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Sequence

from coachbot import tracks
from coachbot.bank import Question, QuestionBank
from coachbot.commands import Unknown
from coachbot.coaching import Feedback

Block = dict[str, Any]
Message = dict[str, Any]  # {"text": fallback, "blocks": [...]}

ACTION_ANSWER = "answer_open"
ACTION_ANOTHER = "question_another"
ACTION_SHARE = "question_share"
VIEW_ANSWER = "answer_submit"
BLOCK_ANSWER = "answer_block"
INPUT_ANSWER = "answer_input"
BLOCK_SHARE = "share_block"
INPUT_SHARE = "share_input"

DIFFICULTY_LABEL = {"entry": "Entry level", "mid": "Mid-level", "senior": "Senior", "staff": "Staff+"}
SECTION_LIMIT = 3000  # a section's text (Block Kit: section block)
OPTION_TEXT_LIMIT = 75  # an option's text (Block Kit: option object)


ELLIPSIS = "…"
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Slack's three mrkdwn control characters, so people's text can't become mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_clipped(text: str, limit: int = SECTION_LIMIT) -> str:
    """``escape(text)``, cut first if needed so the escaped result (with a closing "…") fits ``limit``.

    Cutting after escaping can end inside an entity (``&am…``), which Slack shows
    as garbage; cutting the raw text first, a whole character at a time, cannot.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    budget, used, end = limit - len(ELLIPSIS), 0, 0
    for end, char in enumerate(text):
        width = len(_ESCAPES.get(char, char))
        if used + width > budget:
            break
        used += width
    return escape(text[:end]) + ELLIPSIS


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """Cut already-built markup to ``limit`` with a visible "…", never inside ``&amp;`` or ``<@U1>``.

    A backstop: builders cut people's text before escaping (``escape_clipped``),
    but a long composed section may still need cutting here.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    entity = cut.rfind("&")
    if entity != -1 and ";" not in cut[entity:]:
        cut = cut[:entity]
    token = cut.rfind("<")
    if token != -1 and ">" not in cut[token:]:
        cut = cut[:token]
    return cut + ELLIPSIS


def fit_list(items: Sequence[str], budget: int, *, sep: str = ", ",
             others: Callable[[int], str] = lambda n: f" and {n} {'other' if n == 1 else 'others'}") -> str:
    """``items`` joined by ``sep`` within ``budget`` characters, the rest summarised ("and 42 others").

    A long list is never cut silently: what does not fit is counted instead.
    """
    joined = sep.join(items)
    if len(joined) <= budget:
        return joined
    shown: list[str] = []
    length = 0
    for index, item in enumerate(items):
        extra = len(item) + (len(sep) if shown else 0)
        if length + extra + len(others(len(items) - index - 1)) > budget:
            break
        shown.append(item)
        length += extra
    return sep.join(shown) + others(len(items) - len(shown))


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text)}


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text, 75), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"• {escape(item)}" for item in items)


def message(text: str, blocks: list[Block]) -> Message:
    return {"text": _clip(text, 3000), "blocks": blocks}


def _label(question: Question) -> str:
    category = tracks.category(question.category)
    return f"{tracks.track(question.track).title} · {category.title} · {DIFFICULTY_LABEL[question.difficulty]}"


def _question_text(question: Question) -> str:
    body = escape(question.text)
    # Questions with code keep their line breaks; a code block keeps indentation.
    if "\n" in body:
        first, _, rest = body.partition("\n")
        if rest.strip():
            return f"*{first}*\n```{rest.rstrip()}```"
    return f"*{body}*"


# --- /prep help, unknown, categories, compare ------------------------------

USAGE_LINES = (
    ("/prep leadership", "a leadership (behavioural) question"),
    ("/prep technical", "a technical question"),
    ("/prep technical system-design", "a question from one category (also: `/prep sd`, `/prep lead dm`)"),
    ("/prep random", "a question from either track"),
    ("/prep categories", "the nine categories and how many questions each has"),
    ("/prep compare", "how technical and leadership interviews differ"),
    ("/prep stats [@person]", "practice so far: answers, coverage, streak, reactions"),
    ("/prep history", "your recent answers with their reactions"),
    ("/prep leaderboard [week|month|all]", "the team's top people by answers and reactions"),
    ("/prep daily", "daily practice prompts in this channel (`/prep daily leadership 09:30`)"),
    ("/prep digest", "the channel's weekly digest (`/prep digest fri 16:00`, `/prep digest off`)"),
    ("/prep forget-me", "delete your coachbot data in this workspace"),
    ("/prep coach llm [on|off]", "admins: the AI review of answers, when the operator configured a model"),
)


def usage_text() -> str:
    return "\n".join(f"`{command}`: {what}" for command, what in USAGE_LINES)


def help_message() -> Message:
    return message(
        "coachbot: practise interview questions in Slack. Try /prep leadership.",
        [
            header("Practise for interviews, a few minutes a day"),
            section(
                "I ask you a real interview question, you answer in a few lines, and I coach the answer "
                "on the spot. Technical and leadership questions, nine categories."
            ),
            section(usage_text()),
            context("Words can be shortened: `/prep lead`, `/prep tech sd`. Only you see my replies unless you share."),
        ],
    )


def unknown_message(unknown: Unknown) -> Message:
    said = f"I didn't understand `{unknown.text}`." if unknown.text else "I didn't understand that."
    hint = f" Did you mean `{unknown.suggestion}`?" if unknown.suggestion else ""
    return message(
        said + hint,
        [section(said + hint), section("Here is what I can do:\n" + usage_text())],
    )


def categories_message(bank: QuestionBank) -> Message:
    counts = bank.counts()
    blocks: list[Block] = [header("Categories")]
    for track in tracks.TRACKS:
        lines = [
            f"• *{c.title}* (`{c.slug}`, {counts[(c.track, c.slug)]} questions): {c.description}"
            for c in tracks.categories_of(track.slug)
        ]
        blocks.append(section(f"*{track.title}*: {track.description}\n" + "\n".join(lines)))
    blocks.append(context("Ask for one with `/prep technical coding` or just `/prep coding`."))
    return message("The nine practice categories", blocks)


COMPARISON = (
    (
        "Focus",
        "Your craft: coding, problem solving and designing systems.",
        "Your judgement with people: managing, communicating, deciding.",
    ),
    (
        "Questions",
        "Solve a problem or design something, live, while you think aloud.",
        "Tell real stories: teams you led, projects you ran, calls you made.",
    ),
    (
        "Skills tested",
        "Hard skills: code, design, technical depth.",
        "Soft skills: communication, management, influence, decision making.",
    ),
    (
        "How to answer",
        "Clarify, outline an approach, weigh trade-offs and complexity, test edge cases.",
        "Use STAR: situation, task, the action *you* took, and a measurable result.",
    ),
)


def compare_message(technical_example: Question, leadership_example: Question) -> Message:
    rows = "\n".join(f"*{aspect}*\n• Technical: {tech}\n• Leadership: {lead}" for aspect, tech, lead in COMPARISON)
    return message(
        "How technical and leadership interviews differ",
        [
            header("Technical vs leadership interviews"),
            section(
                "Engineers practise technical interviews all the time and leadership ones rarely. "
                "They test different things, so they need different preparation."
            ),
            section(rows),
            divider(),
            section(f"*A technical question* ({tracks.category(technical_example.category).title})\n"
                    f"{escape(technical_example.text)}"),
            section(f"*A leadership question* ({tracks.category(leadership_example.category).title})\n"
                    f"{escape(leadership_example.text)}"),
            context("Try one: `/prep technical` or `/prep leadership`."),
        ],
    )


# --- question cards -------------------------------------------------------

def ask_value(track: str | None, category: str | None) -> str:
    return json.dumps({"t": track, "c": category}, separators=(",", ":"))


def question_card(question: Question, *, ask_track: str | None, ask_category: str | None) -> Message:
    """The private card /prep shows: the question with everything that helps answer it."""
    blocks: list[Block] = [
        context(_label(question)),
        section(_question_text(question)),
        section("*What interviewers look for*\n" + bullets(question.look_for)),
        section("*Follow-ups to expect*\n" + bullets(question.follow_ups)),
        context(f":bulb: *Tip:* {escape(question.tip)}"),
        actions(
            button("Answer", ACTION_ANSWER, question.id, style="primary"),
            button("Another", ACTION_ANOTHER, ask_value(ask_track, ask_category)),
            button("Share with channel", ACTION_SHARE, question.id),
            block_id=f"card:{question.id}",
        ),
    ]
    return message(f"Practice question: {question.text}", blocks)


def shared_question(question: Question, user_id: str) -> Message:
    """A question posted publicly as a discussion starter."""
    return message(
        f"Interview practice question shared by <@{user_id}>: {question.text}",
        [
            context(f"<@{user_id}> shared a practice question · {_label(question)}"),
            section(_question_text(question)),
            section("*What interviewers look for*\n" + bullets(question.look_for)),
            context("Answer in this thread, or privately with the button. React to the answers you like."),
            actions(button("Answer", ACTION_ANSWER, question.id, style="primary"), block_id=f"shared:{question.id}"),
        ],
    )


# --- the answer modal -----------------------------------------------------

AI_REVIEW_NOTE = ("This workspace has the AI review on: after the instant feedback, your answer is also sent to "
                  "the AI model the operator configured, for a second opinion.")


def answer_modal(question: Question, *, private_metadata: str, can_share: bool, max_chars: int,
                 ai_review: bool = False) -> dict[str, Any]:
    blocks: list[Block] = [
        context(_label(question)),
        section(_question_text(question)),
        {
            "type": "input",
            "block_id": BLOCK_ANSWER,
            "label": plain("Your answer"),
            "hint": plain(
                "Leadership: situation, task, what you did, the result. "
                "Technical: assumptions, approach, trade-offs, tests."
            ),
            "element": {
                "type": "plain_text_input",
                "action_id": INPUT_ANSWER,
                "multiline": True,
                "max_length": max_chars,
                "placeholder": plain("Write it as you would say it in the interview"),
            },
        },
    ]
    if can_share:
        blocks.append(
            {
                "type": "input",
                "block_id": BLOCK_SHARE,
                "optional": True,
                "label": plain("Share"),
                "element": {
                    "type": "checkboxes",
                    "action_id": INPUT_SHARE,
                    "options": [
                        {
                            "text": plain("Share my answer in the channel so peers can react", OPTION_TEXT_LIMIT),
                            "value": "share",
                        }
                    ],
                },
            }
        )
    if ai_review:  # before anything is typed: the person knows where the answer goes
        blocks.append(context(AI_REVIEW_NOTE))
    return {
        "type": "modal",
        "callback_id": VIEW_ANSWER,
        "private_metadata": private_metadata,
        "title": plain("Practice answer", 24),
        "submit": plain("Get feedback", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


QUOTE_MARK = ":white_check_mark:"
FIX_MARK = ":small_orange_diamond:"


def _listed(title: str, lines: Iterable[str]) -> Block:
    """A section of lines that stops before Slack's section limit rather than cutting a line
    (a cut could split an escaped "&amp;"); each line is already escaped."""
    text = title
    for line in lines:
        if len(text) + 1 + len(line) > SECTION_LIMIT:
            break
        text += "\n" + line
    return section(text)


def feedback_blocks(feedback: Feedback) -> list[Block]:
    """Coaching feedback: one headline, the most important fix first, then what else to fix,
    what worked (each with the words that earned it), the question's points as a checklist,
    and what the coach could not check. Nothing is said twice."""
    stretch = feedback.focus[:1] == ("none",)
    lead = "To go further" if stretch else "Fix this first"
    out: list[Block] = [section(f"*{escape(feedback.headline)}*\n*{lead}:* {escape(feedback.next_step)}")]
    if feedback.fixes:
        out.append(_listed("*Then:*", (f"{FIX_MARK} *{escape(c.label)}*: {escape(c.advice)}"
                                         for c in feedback.fixes)))
    if feedback.passed:
        # Checks earned by the same sentence share one line, so no quote is shown twice.
        by_quote: dict[str, list[str]] = {}
        for check in feedback.passed:
            by_quote.setdefault(check.quote or "", []).append(f"*{escape(check.label)}*")
        out.append(_listed("*What worked:*", (f"{QUOTE_MARK} {' and '.join(labels)}: “{escape(quote)}”"
                                              for quote, labels in by_quote.items())))
    if feedback.look_for:
        out.append(_listed("*Did you cover these?* Interviewers look for them; the coach can't judge them for you:",
                           (f"• {escape(p.point)}" for p in feedback.look_for)))
    words = f"{feedback.word_count} {'word' if feedback.word_count == 1 else 'words'}"
    out.append(context(f"{escape(feedback.not_checked)} · {words} · score {feedback.points}/10"))
    return out


def feedback_view(question: Question, feedback: Feedback, *, shared_to: str | None) -> dict[str, Any]:
    return feedback_modal(question, feedback_blocks(feedback), shared_to=shared_to)


def feedback_modal(question: Question, feedback: list[Block], *, shared_to: str | None) -> dict[str, Any]:
    """The answer modal once answered: the question, then ``feedback`` (the coach's, or the LLM judge's)."""
    blocks: list[Block] = [context(_label(question)), section(_question_text(question)), divider()]
    blocks += feedback
    note = "Your answer is saved and counts towards `/prep stats`."
    if shared_to:
        note += f" It is being posted in <#{shared_to}> for your peers."
    blocks.append(context(note))
    return {"type": "modal", "callback_id": "answer_feedback", "title": plain("Your feedback", 24),
            "close": plain("Done", 24), "blocks": blocks}


def saving_view() -> dict[str, Any]:
    """Shown while a submitted answer is still being saved (past the ack's budget); replaced by
    the feedback, or by ``not_saved_view``, once it is done."""
    return {"type": "modal", "callback_id": "answer_saving", "title": plain("Your feedback", 24),
            "close": plain("Close", 24),
            "blocks": [section("Saving your answer and working out your feedback... this takes a moment.")]}


def not_saved_view(reason: str, text: str) -> dict[str, Any]:
    """The answer could not be saved after the modal had moved on: the reason, and the text
    itself so nothing typed is lost."""
    blocks: list[Block] = [section(escape(reason))]
    if text.strip():
        blocks += [divider(), context("What you wrote, to copy and submit again:")]
        # Whole, in as many sections as it needs (a section holds SECTION_LIMIT characters).
        step = SECTION_LIMIT - 100
        blocks += [section(escape(text[i:i + step])) for i in range(0, len(text), step)]
    return {"type": "modal", "callback_id": "answer_not_saved", "title": plain("Not saved", 24),
            "close": plain("Close", 24), "blocks": blocks}


def shared_answer(user_id: str, question: Question, text: str) -> Message:
    return message(
        f"<@{user_id}> answered a practice question",
        [
            context(f"<@{user_id}> answered · {_label(question)}"),
            section(f"*{escape(question.text.splitlines()[0])}*"),
            section(escape_clipped(text)),
            context("React with an emoji to cheer them on, or reply in the thread with a follow-up question."),
        ],
    )


# --- errors and notices ----------------------------------------------------

def error_message(text: str) -> Message:
    return message(text, [section(f":warning: {escape(text)}")])


def notice_message(text: str) -> Message:
    return message(text, [section(escape(text))])


# --- daily prompts --------------------------------------------------------

DAILY_USAGE = (
    "`/prep daily leadership 09:30 weekdays Europe/Berlin`: set it up (track: technical, leadership, "
    "alternate or mixed; time, days and timezone are optional)\n"
    "`/prep daily`: show this channel's schedule\n"
    "`/prep daily pause until 2026-12-31`: skip days (holidays); `/prep daily resume` to undo\n"
    "`/prep daily off`: stop it"
)


def prompt_message(question: Question) -> Message:
    """The daily prompt, posted in the channel: answer in the thread or with the button."""
    return message(
        f"Today's practice question: {question.text}",
        [
            header("Today's interview practice"),
            context(_label(question)),
            section(_question_text(question)),
            section("*What interviewers look for*\n" + bullets(question.look_for)),
            context(":thread: Answer in this thread (I'll send you private feedback), or use the button. "
                    "React to the answers you find useful."),
            actions(button("Answer", ACTION_ANSWER, question.id, style="primary"), block_id=f"prompt:{question.id}"),
        ],
    )


def _schedule_lines(schedule: Any) -> str:
    description = schedule.description
    lines = [f"*{description[:1].upper() + description[1:]}*, set up by <@{schedule.created_by}>."]
    if schedule.paused_until:
        lines.append(f"Paused until {schedule.paused_until.isoformat()} (inclusive).")
    if schedule.next_local:
        lines.append(f"Next prompt: {schedule.next_local.strftime('%a %d %b %Y, %H:%M')} ({schedule.tz}).")
    if not schedule.enabled:
        lines.append(f"Not posting: {schedule.status_note or 'turned off'}.")
    return "\n".join(lines)


def schedule_set_message(schedule: Any, user_id: str, replaced: bool) -> Message:
    verb = "changed" if replaced else "turned on"
    return message(
        f"Daily practice {verb} for this channel",
        [
            section(f":calendar: <@{user_id}> {verb} daily interview practice in this channel.\n"
                    + _schedule_lines(schedule)),
            context("Answer each prompt in its thread; `/prep daily` shows the schedule, `/prep daily off` stops it."),
        ],
    )


def schedule_shown_message(schedule: Any | None) -> Message:
    if schedule is None:
        return message("No daily practice in this channel yet.", [
            section("There's no daily practice in this channel yet.\n" + DAILY_USAGE)])
    return message("This channel's daily practice", [section(_schedule_lines(schedule)), context(DAILY_USAGE)])


def schedule_stopped_message(user_id: str, had_schedule: bool) -> Message:
    if not had_schedule:
        return notice_message("There was no daily practice running in this channel, so nothing changed.")
    return message("Daily practice stopped", [
        section(f":no_entry_sign: <@{user_id}> stopped daily interview practice in this channel. "
                "Answers so far are kept.")])


def schedule_paused_message(schedule: Any, user_id: str, until: Any) -> Message:
    if until is None:
        text = f":arrow_forward: <@{user_id}> resumed daily practice."
    else:
        text = f":palm_tree: <@{user_id}> paused daily practice until {until.isoformat()}."
    return message("Daily practice paused" if until else "Daily practice resumed",
                   [section(text + "\n" + _schedule_lines(schedule))])


#: Why a schedule was paused for want of the bot, as its owner is told.
PAUSED_BECAUSE = {
    "not_in_channel": "I'm not a member of it, and it's private so I can't join by myself",
    "removed": "I was removed from it, and I only see replies and reactions in channels I'm in",
}


def invite_needed_message(channel_id: str, reason: str = "not_in_channel") -> Message:
    because = PAUSED_BECAUSE.get(reason, PAUSED_BECAUSE["not_in_channel"])
    return message(
        "I paused the daily practice prompt: I'm not in that channel.",
        [section(f"I paused the daily practice in <#{channel_id}> because {because}. Type "
                 f"`/invite @coachbot` in <#{channel_id}>, then `/prep daily resume` there to start it again.")],
    )


def thread_feedback_message(question: Question, feedback: Feedback) -> Message:
    return message(f"Feedback on your answer: {feedback.headline}",
                   [context(f"Only you can see this · feedback on your answer to: {escape(question.text.splitlines()[0])}")]
                   + feedback_blocks(feedback))
