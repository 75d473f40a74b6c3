"""Block Kit for the LLM judge: its review (in the answer modal, or privately in a prompt's
thread) and the workspace's switch. Pure functions returning dicts."""

from __future__ import annotations

from typing import Any

from coachbot.bank import Question
from coachbot.blocks import (
    Block,
    Message,
    context,
    escape,
    feedback_modal,
    message,
    section,
)
from coachbot.coaching.judge import Review

MARK = {"met": ":white_check_mark:", "partial": ":small_orange_diamond:", "missing": ":heavy_minus_sign:"}
VERDICT_WORD = {"met": "met", "partial": "partly met", "missing": "not shown"}
KIND_TITLE = {"star": "STAR story", "technical": "Technical answer", "knowledge": "Explanation"}
QUOTE_SHOWN_CHARS = 160


def _quote(text: str) -> str:
    shown = text if len(text) <= QUOTE_SHOWN_CHARS else text[: QUOTE_SHOWN_CHARS - 1].rstrip() + "…"
    return f"“{escape(shown)}”"


def review_blocks(review: Review) -> list[Block]:
    lines = []
    for judged in review.criteria:
        quote = f" {_quote(judged.quote)}" if judged.quote else ""
        lines.append(f"{MARK[judged.verdict]} *{escape(judged.label)}*: {VERDICT_WORD[judged.verdict]}{quote}")
    notes = ["AI review by the model your workspace chose; every quote is checked against your answer."]
    if review.dropped_quotes:
        notes.append(f"{review.dropped_quotes} of the model's quotes didn't count (not found in your answer, "
                     "too short, or already used for two points).")
    if review.capped:
        notes.append(f"The model said {review.model_grade}; the evidence it quoted supports {review.grade}.")
    return [
        section(f"*{KIND_TITLE.get(review.kind, 'Answer')}: grade {review.grade} of 5*"),
        section("\n".join(lines)),
        section(f"*One fix:* {escape(review.fix)}"),
        context(" ".join(notes)),
    ]


def review_view(question: Question, review: Review, *, shared_to: str | None) -> dict[str, Any]:
    """Replaces the answer modal's rule feedback (views.update, or the submission's own reply
    when the review was cached); the same callback_id and buttons as that view."""
    return feedback_modal(question, review_blocks(review), shared_to=shared_to)


def review_thread_message(question: Question, review: Review) -> Message:
    """A prompt-thread answer's review. Slack can't update an ephemeral sent with
    chat.postEphemeral, so this follows the rule feedback as a new one."""
    first_line = escape(question.text.splitlines()[0])
    return message(f"AI review of your answer: grade {review.grade} of 5",
                   [context(f"Only you can see this · AI review of your answer to: {first_line} "
                            "(it takes the place of the quick check above)")] + review_blocks(review))


def switch_message(*, configured: bool, enabled: bool, model: str | None, changed_by: str | None) -> Message:
    """``/prep coach llm``: whether the AI review runs in this workspace, and how to change it."""
    if not configured:
        text = ("The AI review isn't available: the person who runs coachbot hasn't configured a model. "
                "Every answer gets the instant rule-based feedback.")
        return message(text, [section(text)])
    state = "on" if enabled else "off"
    if changed_by:
        headline = f"<@{changed_by}> turned the AI review of practice answers *{state}* for this workspace."
    else:
        headline = f"The AI review of practice answers is *{state}* in this workspace."
    detail = (f"When it is on, each answer is sent to the model `{escape(model or '')}` the operator configured, "
              "after the instant feedback; its review replaces that feedback when it arrives. ")
    detail += "`/prep coach llm off` stops it and deletes the stored reviews." if enabled else \
        "An admin can turn it on with `/prep coach llm on`."
    return message(headline.replace("*", ""), [section(headline), context(detail)])
