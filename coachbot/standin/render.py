"""Block Kit as readable plain text: roughly what a person would see in Slack.

Used by scenario tests (assert on what people see), ``coachbot demo`` and
snapshots. The output is deterministic, plain text, one block after another,
no trailing spaces::

    ## Daily question
    *How would you design a rate limiter?*
    Track: Technical
    [ Answer ]  [ Skip ]

Slack markup in text is turned into what Slack shows: ``&amp;`` -> ``&``,
``<@U1>`` -> ``@name``, ``<#C1|general>`` -> ``#general``, ``<!here>`` ->
``@here``, ``<https://x|label>`` -> ``label (https://x)``. ``*bold*`` and
``_italic_`` markers are kept as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Block = Mapping[str, Any]
Users = Mapping[str, str]

_TOKEN = re.compile(r"<([^<>]*)>")
_SEPARATOR = "  "


def render_message(text: str | None, blocks: list[dict[str, Any]] | None, *, users: Users | None = None) -> str:
    """A message as shown: its blocks when it has any, else its text."""
    if blocks:
        return render_blocks(blocks, users=users)
    return _finish(format_text(text or "", users=users).split("\n"))


def render_blocks(blocks: list[dict[str, Any]], *, users: Users | None = None) -> str:
    """Blocks as text, one block after another."""
    return _finish(_block_lines(blocks, users or {}))


def render_view(view: Mapping[str, Any], *, users: Users | None = None) -> str:
    """A modal (title, blocks, ``[ Submit ]  [ Cancel ]``) or an App Home view."""
    names = users or {}
    if view.get("type") == "home":
        return _finish(["=== Home ===", *_block_lines(view.get("blocks") or [], names)])
    title = _text(view.get("title"), names) or "Modal"
    lines = [f"=== {title} ===", *_block_lines(view.get("blocks") or [], names)]
    buttons = []
    if view.get("submit"):
        buttons.append(_button(_text(view.get("submit"), names)))
    buttons.append(_button(_text(view.get("close"), names) or "Cancel"))
    lines.append(_SEPARATOR.join(buttons))
    return _finish(lines)


def format_text(text: str, *, users: Users | None = None) -> str:
    """Slack markup -> what Slack displays (mentions, links, escapes)."""
    names = users or {}
    return _unescape(_TOKEN.sub(lambda match: _token(match.group(1), names), text))


# Blocks


def _block_lines(blocks: list[Any] | tuple[Any, ...], users: Users) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Mapping):
            renderer = _RENDERERS.get(str(block.get("type")), _unknown)
            lines.extend(renderer(block, users))
    return lines


def _header(block: Block, users: Users) -> list[str]:
    return [f"## {_text(block.get('text'), users)}"]


def _section(block: Block, users: Users) -> list[str]:
    lines = _text(block.get("text"), users).split("\n") if block.get("text") else []
    for field in block.get("fields") or []:
        label, _, value = _text(field, users).partition("\n")
        lines.append(f"{label}: {value}" if value else label)
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping):
        rendered = _element(accessory, users)
        if rendered and len(rendered) == 1 and lines:
            lines[0] = f"{lines[0]}{_SEPARATOR}{rendered[0]}"
        else:
            lines.extend(rendered)
    return lines


def _context(block: Block, users: Users) -> list[str]:
    parts = []
    for element in block.get("elements") or []:
        if element.get("type") == "image":
            parts.append(str(element.get("alt_text", "")))
        else:
            parts.append(_text(element, users))
    return [_SEPARATOR.join(part for part in parts if part)]


def _divider(block: Block, users: Users) -> list[str]:
    return ["---"]


def _actions(block: Block, users: Users) -> list[str]:
    inline: list[str] = []
    lines: list[str] = []
    for element in block.get("elements") or []:
        rendered = _element(element, users)
        if element.get("type") in {"checkboxes", "radio_buttons"}:
            lines.extend(rendered)
        else:
            inline.extend(rendered)
    return ([_SEPARATOR.join(inline)] if inline else []) + lines


def _image(block: Block, users: Users) -> list[str]:
    return [f"[image: {block.get('alt_text', '')}]"]


def _input(block: Block, users: Users) -> list[str]:
    label = _text(block.get("label"), users)
    if block.get("optional"):
        label += " (optional)"
    element = block.get("element") or {}
    rendered = _element(element, users)
    if element.get("type") in {"checkboxes", "radio_buttons"}:
        lines = [f"{label}:", *rendered]
    else:
        lines = [f"{label}: {' '.join(rendered)}".rstrip()]
    if block.get("hint"):
        lines.append(f"({_text(block.get('hint'), users)})")
    return lines


def _rich_text(block: Block, users: Users) -> list[str]:
    lines: list[str] = []
    for element in block.get("elements") or []:
        kind = element.get("type")
        if kind == "rich_text_list":
            indent = "  " * int(element.get("indent", 0))
            for number, item in enumerate(element.get("elements") or [], start=1):
                marker = f"{number}." if element.get("style") == "ordered" else "-"
                lines.append(f"{indent}{marker} {_rich_inline(item, users)}")
        elif kind == "rich_text_quote":
            lines.extend(f"> {line}" for line in _rich_inline(element, users).split("\n"))
        else:
            lines.extend(_rich_inline(element, users).split("\n"))
    return lines


def _unknown(block: Block, users: Users) -> list[str]:
    return [f"[{block.get('type', 'unknown')}]"]


_RENDERERS: dict[str, Callable[[Block, Users], list[str]]] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "image": _image,
    "input": _input,
    "rich_text": _rich_text,
}


# Elements


def _element(element: Mapping[str, Any], users: Users) -> list[str]:
    kind = str(element.get("type", ""))
    if kind in {"button", "workflow_button"}:
        return [_button(_text(element.get("text"), users))]
    if kind == "overflow":
        options = ", ".join(_text(o.get("text"), users) for o in element.get("options") or [])
        return [f"[ ... {options} ]" if options else "[ ... ]"]
    if kind == "checkboxes":
        chosen = _values(element.get("initial_options"))
        marks = {True: "[x]", False: "[ ]"}
        return [f"{marks[o.get('value') in chosen]} {_text(o.get('text'), users)}" for o in _options(element)]
    if kind == "radio_buttons":
        picked = (element.get("initial_option") or {}).get("value")
        marks = {True: "(o)", False: "( )"}
        return [f"{marks[o.get('value') == picked]} {_text(o.get('text'), users)}" for o in _options(element)]
    if kind == "image":
        return [f"[image: {element.get('alt_text', '')}]"]
    if kind.endswith("select"):
        return [f"[ {_select_label(element, users)} v ]"]
    if kind in {"plain_text_input", "number_input", "email_text_input", "url_text_input"}:
        shown = element.get("initial_value") or _text(element.get("placeholder"), users)
        return [f"[ {shown} ]" if shown else "[ ]"]
    if kind in {"datepicker", "timepicker", "datetimepicker"}:
        shown = (
            element.get("initial_date")
            or element.get("initial_time")
            or element.get("initial_date_time")
            or _text(element.get("placeholder"), users)
            or kind
        )
        return [f"[ {shown} ]"]
    return [f"[{kind or 'element'}]"]


def _button(label: str) -> str:
    return f"[ {label} ]"


def _options(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [o for o in element.get("options") or [] if isinstance(o, Mapping)]


def _values(options: Any) -> set[Any]:
    return {o.get("value") for o in options or [] if isinstance(o, Mapping)}


def _select_label(element: Mapping[str, Any], users: Users) -> str:
    initial = element.get("initial_option")
    if isinstance(initial, Mapping):
        return _text(initial.get("text"), users)
    chosen = element.get("initial_options")
    if chosen:
        return ", ".join(_text(o.get("text"), users) for o in chosen)
    if element.get("initial_user"):
        user_id = str(element["initial_user"])
        return "@" + users.get(user_id, user_id)
    if element.get("initial_channel") or element.get("initial_conversation"):
        return "#" + str(element.get("initial_channel") or element.get("initial_conversation"))
    return _text(element.get("placeholder"), users) or "Select"


# Text


def _text(value: Any, users: Users) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return format_text(value, users=users)
    if isinstance(value, Mapping):
        return format_text(str(value.get("text", "")), users=users)
    return str(value)


def _rich_inline(element: Mapping[str, Any], users: Users) -> str:
    parts = []
    for item in element.get("elements") or []:
        kind = item.get("type")
        if kind == "text":
            parts.append(str(item.get("text", "")))
        elif kind == "link":
            url = str(item.get("url", ""))
            label = item.get("text")
            parts.append(f"{label} ({url})" if label and label != url else url)
        elif kind == "user":
            parts.append("@" + users.get(item.get("user_id", ""), item.get("user_id", "")))
        elif kind == "channel":
            parts.append(f"#{item.get('channel_id', '')}")
        elif kind == "usergroup":
            parts.append(f"@{item.get('usergroup_id', '')}")
        elif kind == "broadcast":
            parts.append(f"@{item.get('range', 'here')}")
        elif kind == "emoji":
            parts.append(f":{item.get('name', '')}:")
        elif kind == "date":
            parts.append(str(item.get("fallback") or item.get("timestamp", "")))
        elif kind == "color":
            parts.append(str(item.get("value", "")))
        elif kind in {"rich_text_section", "rich_text_preformatted", "rich_text_quote"}:
            parts.append(_rich_inline(item, users))
    return "".join(parts)


def _token(inner: str, users: Users) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        return "@" + users.get(user_id, label or user_id)
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        command = target[1:]
        if command in {"here", "channel", "everyone"}:
            return "@" + command
        if command.startswith("subteam^"):
            return label or "@" + command[len("subteam^") :]
        return label or "@" + command
    if label:
        return f"{label} ({target})"
    return target


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _finish(lines: list[str]) -> str:
    tidy = [line.rstrip() for chunk in lines for line in chunk.split("\n")]
    while tidy and not tidy[-1]:
        tidy.pop()
    while tidy and not tidy[0]:
        tidy.pop(0)
    return "\n".join(tidy)
