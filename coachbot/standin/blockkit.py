"""Block Kit as Slack checks it: the documented limits, as a table of rules, and a validator.

Slack refuses a message, view or ack whose blocks break a documented limit:
chat.postMessage, chat.postEphemeral and chat.update answer ``invalid_blocks``
and the views methods ``invalid_arguments``, each with one
``[ERROR] <what> [json-pointer:<where>]`` line per problem in
``response_metadata.messages`` (the shape Slack answers with, e.g.
``[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]``).
The wording after ``[ERROR]`` is the stand-in's own; the error codes and the
pointers are Slack's.

Every rule in :data:`RULES` names the page it comes from. The numbers are
also encoded, independently, in python-slack-sdk's
``slack_sdk/models/blocks/*.py`` and ``slack_sdk/models/views/__init__.py``
(``*_max_length`` attributes), which agree with the pages; the stand-in does
not import them, it stands on the pages.

Which object a rule applies to is its ``owner``: a surface (``message``,
``modal``, ``home``), a block type (``section``, ``header``...), ``block``
(every block), an element type (``button``, ``checkboxes``...), ``element``
(every element), or a composition object (``text``, ``option``,
``confirm``). :data:`CHILDREN` says where each object holds others, so the
walk knows what each nested dict is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]

# Sources (Slack's reference pages; the older api.slack.com pages say the same).
_BK = "https://docs.slack.dev/reference/block-kit"
BLOCKS_PAGE = f"{_BK}/blocks"
SECTION = f"{_BK}/blocks/section-block"
HEADER = f"{_BK}/blocks/header-block"
CONTEXT = f"{_BK}/blocks/context-block"
ACTIONS = f"{_BK}/blocks/actions-block"
INPUT = f"{_BK}/blocks/input-block"
IMAGE = f"{_BK}/blocks/image-block"
BUTTON = f"{_BK}/block-elements/button-element"
PLAIN_TEXT_INPUT = f"{_BK}/block-elements/plain-text-input-element"
CHECKBOXES = f"{_BK}/block-elements/checkboxes-element"
TEXT_OBJECT = f"{_BK}/composition-objects/text-object"
OPTION = f"{_BK}/composition-objects/option-object"
CONFIRM = f"{_BK}/composition-objects/confirmation-dialog-object"
MODAL = "https://docs.slack.dev/reference/views/modal-views"
HOME = "https://docs.slack.dev/reference/views/home-tab-views"
# The view pages give external_id no length; views.update's argument of the same name does ("Max
# length of 255 characters"; also in slack-ruby/slack-api-ref methods/views/views.update.json).
EXTERNAL_ID = "https://docs.slack.dev/reference/methods/views.update"

PLAIN = frozenset({"plain_text"})
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})

#: Block types the Blocks reference lists (others are refused as unknown).
BLOCK_TYPES = frozenset({
    "actions", "context", "context_actions", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "table", "video",
})


@dataclass(frozen=True)
class Rule:
    """One documented limit: what it applies to, how it is checked, and where Slack says so.

    ``check`` names a function in :data:`CHECKS`; ``limit`` / ``low`` /
    ``allowed`` are its parameters. ``field`` is the owner's field the rule
    reads (``fields[]``: each item of the list).
    """

    id: str
    owner: str
    field: str
    check: str
    source: str
    limit: int | None = None
    low: int | None = None
    allowed: frozenset[str] = frozenset()


RULES: tuple[Rule, ...] = (
    # Surfaces
    Rule("message.blocks.max_items", "message", "blocks", "max_items", BLOCKS_PAGE, limit=50),
    Rule("message.block_id.unique", "message", "blocks", "unique_block_ids", SECTION),
    Rule("modal.blocks.max_items", "modal", "blocks", "max_items", MODAL, limit=100),
    Rule("modal.block_id.unique", "modal", "blocks", "unique_block_ids", INPUT),
    Rule("modal.title.required", "modal", "title", "required", MODAL),
    Rule("modal.title.plain_text", "modal", "title", "text_type", MODAL, allowed=PLAIN),
    Rule("modal.title.max_chars", "modal", "title", "max_chars", MODAL, limit=24),
    Rule("modal.submit.plain_text", "modal", "submit", "text_type", MODAL, allowed=PLAIN),
    Rule("modal.submit.max_chars", "modal", "submit", "max_chars", MODAL, limit=24),
    Rule("modal.submit.with_input", "modal", "submit", "submit_with_input", MODAL),
    Rule("modal.close.plain_text", "modal", "close", "text_type", MODAL, allowed=PLAIN),
    Rule("modal.close.max_chars", "modal", "close", "max_chars", MODAL, limit=24),
    Rule("modal.private_metadata.max_chars", "modal", "private_metadata", "max_chars", MODAL, limit=3000),
    Rule("modal.callback_id.max_chars", "modal", "callback_id", "max_chars", MODAL, limit=255),
    Rule("modal.external_id.max_chars", "modal", "external_id", "max_chars", EXTERNAL_ID, limit=255),
    Rule("home.blocks.max_items", "home", "blocks", "max_items", HOME, limit=100),
    Rule("home.block_id.unique", "home", "blocks", "unique_block_ids", HOME),
    Rule("home.private_metadata.max_chars", "home", "private_metadata", "max_chars", HOME, limit=3000),
    Rule("home.callback_id.max_chars", "home", "callback_id", "max_chars", HOME, limit=255),
    Rule("home.external_id.max_chars", "home", "external_id", "max_chars", EXTERNAL_ID, limit=255),
    # Every block
    Rule("block.type.known", "block", "type", "known_type", BLOCKS_PAGE, allowed=BLOCK_TYPES),
    Rule("block.block_id.max_chars", "block", "block_id", "max_chars", SECTION, limit=255),
    # Blocks
    Rule("section.text_or_fields.required", "section", "text|fields", "one_of", SECTION),
    Rule("section.text.max_chars", "section", "text", "max_chars", SECTION, limit=3000),
    Rule("section.fields.max_items", "section", "fields", "max_items", SECTION, limit=10),
    Rule("section.fields.max_chars", "section", "fields[]", "max_chars", SECTION, limit=2000),
    Rule("header.text.required", "header", "text", "required", HEADER),
    Rule("header.text.plain_text", "header", "text", "text_type", HEADER, allowed=PLAIN),
    Rule("header.text.max_chars", "header", "text", "max_chars", HEADER, limit=150),
    Rule("context.elements.required", "context", "elements", "required", CONTEXT),
    Rule("context.elements.max_items", "context", "elements", "max_items", CONTEXT, limit=10),
    Rule("actions.elements.required", "actions", "elements", "required", ACTIONS),
    Rule("actions.elements.max_items", "actions", "elements", "max_items", ACTIONS, limit=25),
    Rule("actions.action_id.unique", "actions", "elements", "unique_action_ids", BUTTON),
    Rule("input.label.required", "input", "label", "required", INPUT),
    Rule("input.label.plain_text", "input", "label", "text_type", INPUT, allowed=PLAIN),
    Rule("input.label.max_chars", "input", "label", "max_chars", INPUT, limit=2000),
    Rule("input.hint.plain_text", "input", "hint", "text_type", INPUT, allowed=PLAIN),
    Rule("input.hint.max_chars", "input", "hint", "max_chars", INPUT, limit=2000),
    Rule("input.element.required", "input", "element", "required", INPUT),
    Rule("image.image_url.max_chars", "image", "image_url", "max_chars", IMAGE, limit=3000),
    Rule("image.alt_text.required", "image", "alt_text", "required", IMAGE),
    Rule("image.alt_text.max_chars", "image", "alt_text", "max_chars", IMAGE, limit=2000),
    Rule("image.title.plain_text", "image", "title", "text_type", IMAGE, allowed=PLAIN),
    Rule("image.title.max_chars", "image", "title", "max_chars", IMAGE, limit=2000),
    # Every element
    Rule("element.action_id.max_chars", "element", "action_id", "max_chars", BUTTON, limit=255),
    # Elements
    Rule("button.text.required", "button", "text", "required", BUTTON),
    Rule("button.text.plain_text", "button", "text", "text_type", BUTTON, allowed=PLAIN),
    Rule("button.text.max_chars", "button", "text", "max_chars", BUTTON, limit=75),
    Rule("button.value.max_chars", "button", "value", "max_chars", BUTTON, limit=2000),
    Rule("button.url.max_chars", "button", "url", "max_chars", BUTTON, limit=3000),
    Rule("plain_text_input.placeholder.plain_text", "plain_text_input", "placeholder", "text_type",
         PLAIN_TEXT_INPUT, allowed=PLAIN),
    Rule("plain_text_input.placeholder.max_chars", "plain_text_input", "placeholder", "max_chars",
         PLAIN_TEXT_INPUT, limit=150),
    Rule("plain_text_input.max_length.range", "plain_text_input", "max_length", "int_range", PLAIN_TEXT_INPUT,
         low=1, limit=3000),
    Rule("plain_text_input.min_length.range", "plain_text_input", "min_length", "int_range", PLAIN_TEXT_INPUT,
         low=0, limit=3000),
    Rule("checkboxes.options.required", "checkboxes", "options", "required", CHECKBOXES),
    Rule("checkboxes.options.max_items", "checkboxes", "options", "max_items", CHECKBOXES, limit=10),
    # Composition objects
    Rule("text.type.known", "text", "type", "known_type", TEXT_OBJECT, allowed=TEXT_TYPES),
    Rule("text.text.min_chars", "text", "text", "min_chars", TEXT_OBJECT, limit=1),
    Rule("text.text.max_chars", "text", "text", "max_chars", TEXT_OBJECT, limit=3000),
    Rule("option.text.required", "option", "text", "required", OPTION),
    Rule("option.text.max_chars", "option", "text", "max_chars", OPTION, limit=75),
    Rule("option.value.required", "option", "value", "required", OPTION),
    Rule("option.value.max_chars", "option", "value", "max_chars", OPTION, limit=150),
    Rule("option.description.max_chars", "option", "description", "max_chars", OPTION, limit=75),
    # Overflow and select menus show plain_text options only; checkboxes and radio buttons may use mrkdwn.
    Rule("menu_option.text.plain_text", "menu_option", "text", "text_type", OPTION, allowed=PLAIN),
    *(
        rule
        for name, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30))
        for rule in (
            Rule(f"confirm.{name}.required", "confirm", name, "required", CONFIRM),
            Rule(f"confirm.{name}.plain_text", "confirm", name, "text_type", CONFIRM, allowed=PLAIN),
            Rule(f"confirm.{name}.max_chars", "confirm", name, "max_chars", CONFIRM, limit=limit),
        )
    ),
)

#: Where each kind of object holds others: (field, kind of what it holds); ``[]`` marks a list.
#: ``block`` and ``element`` resolve to the held object's own ``type``.
CHILDREN: Mapping[str, tuple[tuple[str, str], ...]] = {
    "message": (("blocks[]", "block"),),
    "modal": (("blocks[]", "block"), ("title", "text"), ("submit", "text"), ("close", "text")),
    "home": (("blocks[]", "block"),),
    "section": (("text", "text"), ("fields[]", "text"), ("accessory", "element")),
    "header": (("text", "text"),),
    "context": (("elements[]", "context_element"),),
    "actions": (("elements[]", "element"),),
    "input": (("label", "text"), ("hint", "text"), ("element", "element")),
    "image": (("title", "text"),),
    "button": (("text", "text"), ("confirm", "confirm")),
    "plain_text_input": (("placeholder", "text"),),
    "checkboxes": (("options[]", "option"), ("confirm", "confirm")),
    "radio_buttons": (("options[]", "option"), ("confirm", "confirm")),
    "static_select": (("placeholder", "text"), ("options[]", "menu_option"), ("confirm", "confirm")),
    "multi_static_select": (("placeholder", "text"), ("options[]", "menu_option"), ("confirm", "confirm")),
    "overflow": (("options[]", "menu_option"), ("confirm", "confirm")),
    "option": (("text", "text"), ("description", "text")),
    "menu_option": (("text", "text"), ("description", "text")),
    "confirm": (("title", "text"), ("text", "text"), ("confirm", "text"), ("deny", "text")),
}

#: Kinds whose rules also apply to every object of a family.
_FAMILY = {"block": "block", "element": "element"}


@dataclass(frozen=True)
class Problem:
    """One broken rule: which, where (a JSON pointer, as Slack gives it) and what."""

    rule: str
    pointer: str
    message: str

    @property
    def detail(self) -> str:
        """The problem as an item of Slack's ``errors`` list (chat.* methods)."""
        return f"{self.message} [json-pointer:{self.pointer}]"

    @property
    def line(self) -> str:
        """The problem as a line of Slack's ``response_metadata.messages``."""
        return f"[ERROR] {self.message} [json-pointer:{self.pointer}]"


def _text_of(value: Any) -> str | None:
    """The characters a field holds: a string, or a text object's ``text``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return None


def _pointer_of(value: Any, pointer: str) -> str:
    return f"{pointer}/text" if isinstance(value, dict) else pointer


def _items(obj: JsonDict, name: str, pointer: str) -> Iterator[tuple[Any, str]]:
    """``(value, pointer)`` of a field, or of each item when ``name`` ends in ``[]``."""
    if name.endswith("[]"):
        values = obj.get(name[:-2])
        if isinstance(values, list):
            for index, value in enumerate(values):
                yield value, f"{pointer}/{name[:-2]}/{index}"
    elif name in obj:
        yield obj[name], f"{pointer}/{name}"


Check = Callable[[Rule, JsonDict, str], Iterator[Problem]]


def _max_chars(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    assert rule.limit is not None
    for value, where in _items(obj, rule.field, pointer):
        text = _text_of(value)
        if text is not None and len(text) > rule.limit:
            yield Problem(rule.id, _pointer_of(value, where), f"must be less than {rule.limit + 1} characters")


def _min_chars(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    assert rule.limit is not None
    for value, where in _items(obj, rule.field, pointer):
        if isinstance(value, str) and len(value) < rule.limit:
            yield Problem(rule.id, where, f"must be more than {rule.limit - 1} characters")


def _max_items(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    assert rule.limit is not None
    values = obj.get(rule.field)
    if isinstance(values, list) and len(values) > rule.limit:
        yield Problem(rule.id, f"{pointer}/{rule.field}", f"no more than {rule.limit} items allowed")


def _required(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    value = obj.get(rule.field)
    if value is None or value == "" or value == []:
        yield Problem(rule.id, pointer, f"missing required field: {rule.field}")


def _one_of(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    names = rule.field.split("|")
    if not any(obj.get(name) not in (None, "", []) for name in names):
        yield Problem(rule.id, pointer, f"must provide one of: {', '.join(names)}")


def _text_type(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    value = obj.get(rule.field)
    if isinstance(value, dict) and value.get("type") not in rule.allowed:
        wanted = " or ".join(sorted(rule.allowed))
        yield Problem(rule.id, f"{pointer}/{rule.field}/type", f"must be a {wanted} text object")


def _known_type(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    if obj.get(rule.field) not in rule.allowed:
        yield Problem(rule.id, f"{pointer}/{rule.field}", f"unsupported type: {obj.get(rule.field)!r}")


def _int_range(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    value = obj.get(rule.field)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not (rule.low or 0) <= value <= (rule.limit or 0):
        yield Problem(rule.id, f"{pointer}/{rule.field}", f"must be an integer from {rule.low} to {rule.limit}")


def _unique(key: str, values: Any, pointer: str, field_name: str, rule: Rule) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, value in enumerate(values if isinstance(values, list) else []):
        ident = value.get(key) if isinstance(value, dict) else None
        if ident is None:
            continue
        if ident in seen:
            yield Problem(rule.id, f"{pointer}/{field_name}/{index}/{key}", f"duplicate {key}: {ident!r}")
        seen.add(ident)


def _unique_block_ids(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    yield from _unique("block_id", obj.get(rule.field), pointer, rule.field, rule)


def _unique_action_ids(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    yield from _unique("action_id", obj.get(rule.field), pointer, rule.field, rule)


def _submit_with_input(rule: Rule, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    blocks = obj.get("blocks")
    has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and not obj.get("submit"):
        yield Problem(rule.id, pointer, "missing required field: submit (the view has an input block)")


CHECKS: Mapping[str, Check] = {
    "max_chars": _max_chars,
    "min_chars": _min_chars,
    "max_items": _max_items,
    "required": _required,
    "one_of": _one_of,
    "text_type": _text_type,
    "known_type": _known_type,
    "int_range": _int_range,
    "unique_block_ids": _unique_block_ids,
    "unique_action_ids": _unique_action_ids,
    "submit_with_input": _submit_with_input,
}

_RULES_BY_OWNER: dict[str, tuple[Rule, ...]] = {}
for _rule in RULES:
    _RULES_BY_OWNER[_rule.owner] = (*_RULES_BY_OWNER.get(_rule.owner, ()), _rule)


def rule(rule_id: str) -> Rule:
    """The rule with this id (``KeyError`` if none)."""
    for candidate in RULES:
        if candidate.id == rule_id:
            return candidate
    raise KeyError(rule_id)


def _kind(slot: str, value: JsonDict) -> tuple[str, str | None]:
    """What a held object is: ``(kind, family)``."""
    if slot in _FAMILY:
        return str(value.get("type")), _FAMILY[slot]
    if slot == "menu_option":
        return "menu_option", "option"  # an option's rules, and a menu's own
    if slot == "context_element":
        return ("image_element", "element") if value.get("type") == "image" else ("text", None)
    return slot, None


def _walk(kind: str, family: str | None, obj: JsonDict, pointer: str) -> Iterator[Problem]:
    for owner in (family, kind):
        for each in _RULES_BY_OWNER.get(owner or "", ()):
            yield from CHECKS[each.check](each, obj, pointer)
    for slot_field, slot in CHILDREN.get(kind, ()):
        for value, where in _items(obj, slot_field, pointer):
            if not isinstance(value, dict):
                yield Problem("object.shape", where, "must be an object")
                continue
            child_kind, child_family = _kind(slot, value)
            yield from _walk(child_kind, child_family, value, where)


def _distinct(problems: Iterator[Problem]) -> list[Problem]:
    """One problem per place and complaint: a block's own rule (walked first) hides the generic
    text-object rule saying the same (a section's 3,000 is also every text object's 3,000)."""
    seen: set[tuple[str, str]] = set()
    kept: list[Problem] = []
    for problem in problems:
        if (problem.pointer, problem.message) not in seen:
            seen.add((problem.pointer, problem.message))
            kept.append(problem)
    return kept


def check_blocks(blocks: Any) -> list[Problem]:
    """Problems with a message's ``blocks`` (pointers start at ``/blocks``)."""
    if not isinstance(blocks, list):
        return [Problem("blocks.shape", "/blocks", "must be an array")]
    return _distinct(_walk("message", None, {"blocks": blocks}, ""))


def check_view(view: Any) -> list[Problem]:
    """Problems with a modal or App Home view (pointers start at ``/view``)."""
    if not isinstance(view, dict) or view.get("type") not in {"modal", "home"}:
        return [Problem("view.type", "/view/type", "must be modal or home")]
    return _distinct(_walk(str(view["type"]), None, view, "/view"))


def messages(problems: list[Problem]) -> list[str]:
    """The ``response_metadata.messages`` lines for these problems."""
    return [problem.line for problem in problems]
