"""Every Block Kit rule the stand-in models: a payload just within it is accepted, one breaking exactly it refused.

Each case is checked twice: by the validator (the only problem is that rule)
and through the stand-in over HTTP with slack_sdk's client (refused with the
error Slack gives for that surface, the problem's line in
``response_metadata.messages``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from coachbot.standin import StandInSlack
from coachbot.standin.manifest import AppManifest
from coachbot.standin.acks import command_ack_problems, submission_ack_problems
from coachbot.standin.blockkit import RULES, check_blocks, check_view, rule

JsonDict = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent


def limit(rule_id: str) -> int:
    value = rule(rule_id).limit
    assert value is not None
    return value


def txt(text: str = "x", kind: str = "plain_text") -> JsonDict:
    return {"type": kind, "text": text}


def section(**fields: Any) -> JsonDict:
    return {"type": "section", "text": txt("hi", "mrkdwn"), **fields}


def button(action_id: str = "go", **fields: Any) -> JsonDict:
    return {"type": "button", "text": txt("Go"), "action_id": action_id, **fields}


def actions(*elements: JsonDict, **fields: Any) -> JsonDict:
    return {"type": "actions", "elements": list(elements) or [button()], **fields}


def text_input(**fields: Any) -> JsonDict:
    return {"type": "input", "label": txt("Answer"), "element": {"type": "plain_text_input", "action_id": "a", **fields}}


def option(**fields: Any) -> JsonDict:
    return {"text": txt("One"), "value": "one", **fields}


def checkboxes(*options: JsonDict) -> JsonDict:
    return {"type": "input", "label": txt("Pick"),
            "element": {"type": "checkboxes", "action_id": "c", "options": list(options) or [option()]}}


def confirm(**fields: Any) -> JsonDict:
    dialog = {"title": txt("Sure?"), "text": txt("Really"), "confirm": txt("Yes"), "deny": txt("No"), **fields}
    return actions(button(confirm={k: v for k, v in dialog.items() if v is not None}))


def modal(blocks: list[JsonDict] | None = None, **fields: Any) -> JsonDict:
    view = {"type": "modal", "title": txt("Title"), "submit": txt("Send"), "blocks": blocks or [section()], **fields}
    return {k: v for k, v in view.items() if v is not None}


def home(blocks: list[JsonDict] | None = None, **fields: Any) -> JsonDict:
    return {"type": "home", "blocks": blocks or [section()], **fields}


def image(**fields: Any) -> JsonDict:
    return {"type": "image", "image_url": "https://example.invalid/a.png", "alt_text": "a", **fields}


def n_chars(count: int) -> str:
    return "a" * count


# rule id -> (surface, payload within the rule, payload breaking exactly it)
Case = tuple[str, Any, Any]


def cases() -> Iterator[tuple[str, Case]]:
    msg, view = "message", "view"
    n = limit
    yield "message.blocks.max_items", (msg, [section()] * n("message.blocks.max_items"),
                                       [section()] * (n("message.blocks.max_items") + 1))
    yield "message.block_id.unique", (msg, [section(block_id="a"), section(block_id="b")],
                                      [section(block_id="a"), section(block_id="a")])
    yield "modal.blocks.max_items", (view, modal([section()] * n("modal.blocks.max_items")),
                                     modal([section()] * (n("modal.blocks.max_items") + 1)))
    yield "modal.block_id.unique", (view, modal([section(block_id="a"), section(block_id="b")]),
                                    modal([section(block_id="a"), section(block_id="a")]))
    yield "modal.title.required", (view, modal(), modal(title=None))
    yield "modal.title.plain_text", (view, modal(), modal(title=txt("Title", "mrkdwn")))
    for name in ("title", "submit", "close"):
        yield f"modal.{name}.max_chars", (view, modal(**{name: txt(n_chars(n(f"modal.{name}.max_chars")))}),
                                          modal(**{name: txt(n_chars(n(f"modal.{name}.max_chars") + 1))}))
    for name in ("submit", "close"):
        yield f"modal.{name}.plain_text", (view, modal(**{name: txt("Go")}), modal(**{name: txt("Go", "mrkdwn")}))
    yield "modal.submit.with_input", (view, modal([text_input()]), modal([text_input()], submit=None))
    for surface, build in (("modal", modal), ("home", home)):
        for name in ("private_metadata", "callback_id", "external_id"):
            rule_id = f"{surface}.{name}.max_chars"
            yield rule_id, (view, build(**{name: n_chars(n(rule_id))}), build(**{name: n_chars(n(rule_id) + 1)}))
    yield "home.blocks.max_items", (view, home([section()] * n("home.blocks.max_items")),
                                    home([section()] * (n("home.blocks.max_items") + 1)))
    yield "home.block_id.unique", (view, home([section(block_id="a"), section(block_id="b")]),
                                   home([section(block_id="a"), section(block_id="a")]))
    yield "block.type.known", (msg, [{"type": "divider"}], [{"type": "banner"}])
    yield "block.block_id.max_chars", (msg, [section(block_id=n_chars(n("block.block_id.max_chars")))],
                                       [section(block_id=n_chars(n("block.block_id.max_chars") + 1))])
    yield "section.text_or_fields.required", (msg, [{"type": "section", "fields": [txt("a")]}],
                                              [{"type": "section", "accessory": button()}])
    yield "section.text.max_chars", (msg, [section(text=txt(n_chars(3000), "mrkdwn"))],
                                     [section(text=txt(n_chars(3001), "mrkdwn"))])
    yield "section.fields.max_items", (msg, [section(fields=[txt("a")] * n("section.fields.max_items"))],
                                       [section(fields=[txt("a")] * (n("section.fields.max_items") + 1))])
    yield "section.fields.max_chars", (msg, [section(fields=[txt(n_chars(n("section.fields.max_chars")))])],
                                       [section(fields=[txt(n_chars(n("section.fields.max_chars") + 1))])])
    yield "header.text.required", (msg, [{"type": "header", "text": txt("Hi")}], [{"type": "header"}])
    yield "header.text.plain_text", (msg, [{"type": "header", "text": txt("Hi")}],
                                     [{"type": "header", "text": txt("Hi", "mrkdwn")}])
    yield "header.text.max_chars", (msg, [{"type": "header", "text": txt(n_chars(n("header.text.max_chars")))}],
                                    [{"type": "header", "text": txt(n_chars(n("header.text.max_chars") + 1))}])
    yield "context.elements.required", (msg, [{"type": "context", "elements": [txt("a")]}],
                                        [{"type": "context", "elements": []}])
    yield "context.elements.max_items", (
        msg, [{"type": "context", "elements": [txt("a", "mrkdwn")] * n("context.elements.max_items")}],
        [{"type": "context", "elements": [txt("a", "mrkdwn")] * (n("context.elements.max_items") + 1)}])
    yield "actions.elements.required", (msg, [actions()], [{"type": "actions", "elements": []}])
    most = n("actions.elements.max_items")
    yield "actions.elements.max_items", (msg, [actions(*(button(f"b{i}") for i in range(most)))],
                                         [actions(*(button(f"b{i}") for i in range(most + 1)))])
    yield "actions.action_id.unique", (msg, [actions(button("a"), button("b"))], [actions(button("a"), button("a"))])
    yield "input.label.required", (view, modal([text_input()]),
                                   modal([{"type": "input", "element": {"type": "plain_text_input"}}]))
    yield "input.label.plain_text", (view, modal([text_input()]), modal([dict(text_input(), label=txt("A", "mrkdwn"))]))
    yield "input.label.max_chars", (view, modal([dict(text_input(), label=txt(n_chars(2000)))]),
                                    modal([dict(text_input(), label=txt(n_chars(2001)))]))
    yield "input.hint.plain_text", (view, modal([dict(text_input(), hint=txt("h"))]),
                                    modal([dict(text_input(), hint=txt("h", "mrkdwn"))]))
    yield "input.hint.max_chars", (view, modal([dict(text_input(), hint=txt(n_chars(2000)))]),
                                   modal([dict(text_input(), hint=txt(n_chars(2001)))]))
    yield "input.element.required", (view, modal([text_input()]), modal([{"type": "input", "label": txt("A")}]))
    yield "image.image_url.max_chars", (msg, [image(image_url="https://x.invalid/" + n_chars(3000 - 18))],
                                        [image(image_url="https://x.invalid/" + n_chars(3001 - 18))])
    yield "image.alt_text.required", (msg, [image()], [image(alt_text="")])
    yield "image.alt_text.max_chars", (msg, [image(alt_text=n_chars(2000))], [image(alt_text=n_chars(2001))])
    yield "image.title.plain_text", (msg, [image(title=txt("t"))], [image(title=txt("t", "mrkdwn"))])
    yield "image.title.max_chars", (msg, [image(title=txt(n_chars(2000)))], [image(title=txt(n_chars(2001)))])
    yield "element.action_id.max_chars", (msg, [actions(button(n_chars(255)))], [actions(button(n_chars(256)))])
    yield "button.text.required", (msg, [actions(button())], [actions({"type": "button", "action_id": "go"})])
    yield "button.text.plain_text", (msg, [actions(button())], [actions(button(text=txt("Go", "mrkdwn")))])
    yield "button.text.max_chars", (msg, [actions(button(text=txt(n_chars(75))))],
                                    [actions(button(text=txt(n_chars(76))))])
    yield "button.value.max_chars", (msg, [actions(button(value=n_chars(2000)))], [actions(button(value=n_chars(2001)))])
    yield "button.url.max_chars", (msg, [actions(button(url="https://x.invalid/" + n_chars(3000 - 18)))],
                                   [actions(button(url="https://x.invalid/" + n_chars(3001 - 18)))])
    yield "plain_text_input.placeholder.plain_text", (view, modal([text_input(placeholder=txt("p"))]),
                                                      modal([text_input(placeholder=txt("p", "mrkdwn"))]))
    yield "plain_text_input.placeholder.max_chars", (view, modal([text_input(placeholder=txt(n_chars(150)))]),
                                                     modal([text_input(placeholder=txt(n_chars(151)))]))
    yield "plain_text_input.max_length.range", (view, modal([text_input(max_length=3000)]),
                                                modal([text_input(max_length=3001)]))
    yield "plain_text_input.min_length.range", (view, modal([text_input(min_length=0)]),
                                                modal([text_input(min_length=-1)]))
    yield "checkboxes.options.required", (view, modal([checkboxes()]),
                                          modal([dict(checkboxes(), element={"type": "checkboxes", "options": []})]))
    yield "checkboxes.options.max_items", (view, modal([checkboxes(*[option(value=f"v{i}") for i in range(10)])]),
                                           modal([checkboxes(*[option(value=f"v{i}") for i in range(11)])]))
    yield "text.type.known", (msg, [section(text=txt("a", "mrkdwn"))], [section(text=txt("a", "markdown"))])
    yield "text.text.min_chars", (msg, [section(text=txt("a", "mrkdwn"))], [section(text=txt("", "mrkdwn"))])
    yield "text.text.max_chars", (msg, [{"type": "context", "elements": [txt(n_chars(3000), "mrkdwn")]}],
                                  [{"type": "context", "elements": [txt(n_chars(3001), "mrkdwn")]}])
    yield "option.text.required", (view, modal([checkboxes(option())]), modal([checkboxes({"value": "one"})]))
    yield "option.text.max_chars", (view, modal([checkboxes(option(text=txt(n_chars(75))))]),
                                    modal([checkboxes(option(text=txt(n_chars(76))))]))
    yield "option.value.required", (view, modal([checkboxes(option())]), modal([checkboxes({"text": txt("One")})]))
    yield "option.value.max_chars", (view, modal([checkboxes(option(value=n_chars(150)))]),
                                     modal([checkboxes(option(value=n_chars(151)))]))
    yield "option.description.max_chars", (view, modal([checkboxes(option(description=txt(n_chars(75))))]),
                                           modal([checkboxes(option(description=txt(n_chars(76))))]))
    menu = {"type": "overflow", "action_id": "more", "options": [option(text=txt("One", "mrkdwn"))]}
    yield "menu_option.text.plain_text", (msg, [actions(dict(menu, options=[option()]))], [actions(menu)])
    for name, most in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
        yield f"confirm.{name}.required", (msg, [confirm()], [confirm(**{name: None})])
        yield f"confirm.{name}.plain_text", (msg, [confirm()], [confirm(**{name: txt("Sure", "mrkdwn")})])
        yield f"confirm.{name}.max_chars", (msg, [confirm(**{name: txt(n_chars(most))})],
                                            [confirm(**{name: txt(n_chars(most + 1))})])


CASES = dict(cases())


def problems(surface: str, payload: Any) -> list[str]:
    found = check_blocks(payload) if surface == "message" else check_view(payload)
    return [problem.rule for problem in found]


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(r.id for r in RULES)


def test_every_rule_cites_its_source() -> None:
    assert all(r.source.startswith("https://docs.slack.dev/reference/") for r in RULES)
    documented = (ROOT / "docs" / "slack-conformance.md").read_text()
    assert [r.id for r in RULES if f"`{r.id}`" not in documented] == []


@pytest.fixture(scope="module")
def slack() -> Iterator[StandInSlack]:
    # The stand-in's own rules under test: every scope, and the bot in every channel it is handed.
    with StandInSlack(manifest=AppManifest.everything(), bot_in_new_channels=True) as running:
        yield running


@pytest.fixture(scope="module")
def client(slack: StandInSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def _call(client: WebClient, slack: StandInSlack, surface: str, payload: Any) -> Callable[[], Any]:
    if surface == "message":
        return lambda: client.chat_postMessage(channel="C0RULES", text="fallback", blocks=payload)
    if payload["type"] == "home":
        return lambda: client.views_publish(user_id="U0RULES", view=payload)
    return lambda: client.views_open(trigger_id=slack.new_trigger_id("U0RULES"), view=payload)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_within_the_rule_is_accepted(rule_id: str, slack: StandInSlack, client: WebClient) -> None:
    surface, within, _ = CASES[rule_id]
    assert problems(surface, within) == []
    assert _call(client, slack, surface, within)()["ok"] is True


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_breaking_the_rule_is_refused(rule_id: str, slack: StandInSlack, client: WebClient) -> None:
    surface, _, breaking = CASES[rule_id]
    assert set(problems(surface, breaking)) == {rule_id}
    before = len(slack.messages("C0RULES")), slack.home_publishes("U0RULES"), len(slack.views("U0RULES"))
    with pytest.raises(SlackApiError) as refused:
        _call(client, slack, surface, breaking)()
    body = refused.value.response.data
    expected = "invalid_blocks" if surface == "message" else "invalid_arguments"
    assert body["error"] == expected
    lines = body["response_metadata"]["messages"]
    assert lines and all(line.startswith("[ERROR] ") and "[json-pointer:/" in line for line in lines)
    if surface == "message":
        assert body["errors"] == [line.removeprefix("[ERROR] ") for line in lines]
    after = len(slack.messages("C0RULES")), slack.home_publishes("U0RULES"), len(slack.views("U0RULES"))
    assert after == before  # nothing was shown


def test_pointers_name_the_offending_field(client: WebClient, slack: StandInSlack) -> None:
    long_title = modal(title=txt(n_chars(25)))
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id=slack.new_trigger_id("U0RULES"), view=long_title)
    assert refused.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C0RULES", text="x", blocks=[{"type": "divider"}, section(
            text=txt(n_chars(3001), "mrkdwn"))])
    assert refused.value.response["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/1/text/text]"]


@pytest.mark.parametrize("method", ["chat.postMessage", "chat.postEphemeral", "chat.update"])
def test_every_chat_method_checks_blocks(method: str, client: WebClient, slack: StandInSlack) -> None:
    ts = client.chat_postMessage(channel="C0RULES", text="original")["ts"]
    bad = [{"type": "header", "text": txt("Hi", "mrkdwn")}]
    args = {"channel": "C0RULES", "text": "x", "blocks": json.dumps(bad), "user": "U0RULES", "ts": ts}
    with pytest.raises(SlackApiError) as refused:
        client.api_call(method, json=args)
    assert refused.value.response["error"] == "invalid_blocks"
    assert slack.message("C0RULES", ts).text == "original"  # type: ignore[union-attr]


def test_blocks_that_are_not_an_array_are_invalid_blocks_format(client: WebClient) -> None:
    for blocks in ("{not json", json.dumps({"type": "section"})):
        with pytest.raises(SlackApiError) as refused:
            client.api_call("chat.postMessage", params={"channel": "C0RULES", "text": "x", "blocks": blocks})
        assert refused.value.response["error"] == "invalid_blocks_format"


@pytest.mark.parametrize("method", ["views.update", "views.push"])
def test_every_views_method_checks_the_view(method: str, client: WebClient, slack: StandInSlack) -> None:
    user = f"U0{method.replace('.', '').upper()}"
    opened = client.views_open(trigger_id=slack.new_trigger_id(user), view=modal())["view"]
    bad = modal(title=txt(n_chars(25)))
    args = {"view_id": opened["id"]} if method == "views.update" else {"trigger_id": slack.new_trigger_id(user)}
    with pytest.raises(SlackApiError) as refused:
        client.api_call(method, json={**args, "view": bad})
    assert refused.value.response["error"] == "invalid_arguments"
    assert [v.view["title"]["text"] for v in slack.views(user)] == ["Title"]


def test_a_response_url_refuses_invalid_blocks_with_a_bare_400(slack: StandInSlack) -> None:
    url = slack.new_response_url(user_id="U0HOOK", channel_id="C0RULES")
    refused = WebhookClient(url).send(text="x", blocks=[{"type": "header", "text": txt(n_chars(151))}])
    accepted = WebhookClient(url).send(text="x", blocks=[{"type": "header", "text": txt(n_chars(150))}])
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    assert (accepted.status_code, accepted.body) == (200, "ok")
    assert len(slack.ephemerals("U0HOOK")) == 1


def _json(data: Any) -> tuple[bytes, str]:
    return json.dumps(data).encode(), "application/json"


def test_command_acks_are_checked_like_messages() -> None:
    assert command_ack_problems(*_json({"text": "hi", "blocks": [section()]})) == []
    assert command_ack_problems(b"", None) == [] and command_ack_problems(b"plain words", "text/plain") == []
    assert command_ack_problems(*_json({"blocks": [{"type": "header", "text": txt("x", "mrkdwn")}]})) == [
        "[ERROR] must be a plain_text text object [json-pointer:/blocks/0/text/type]"]
    assert command_ack_problems(*_json({"text": "hi", "response_type": "everyone"}))


def test_submission_acks_are_checked() -> None:
    submitted = modal([dict(text_input(), block_id="answer")])
    assert submission_ack_problems(b"", None, submitted) == []
    assert submission_ack_problems(*_json({"response_action": "clear"}), submitted) == []
    assert submission_ack_problems(*_json({"response_action": "errors", "errors": {"answer": "Too short"}}),
                                   submitted) == []
    assert submission_ack_problems(*_json({"response_action": "update", "view": modal()}), submitted) == []
    assert submission_ack_problems(*_json({"response_action": "errors", "errors": {"other": "x"}}), submitted)
    assert submission_ack_problems(*_json({"response_action": "errors", "errors": {}}), submitted)
    assert submission_ack_problems(*_json({"response_action": "close"}), submitted)
    assert submission_ack_problems(*_json({"response_action": "push", "view": home()}), submitted)
    assert submission_ack_problems(*_json({"response_action": "update", "view": modal(title=txt(n_chars(25)))}),
                                   submitted) == ["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]


def test_the_driver_fails_where_slack_would_refuse_an_ack(slack: StandInSlack, client: WebClient) -> None:
    """Through a real Bolt app: an ack Slack would refuse raises AckRefused; a valid one comes back."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    from coachbot.standin.acks import AckRefused
    from coachbot.standin.driver import SlackDriver

    app = App(signing_secret="rules-secret", client=client, process_before_response=True)

    @app.command("/good")
    def good(ack: Any) -> None:
        ack(text="ok", blocks=[{"type": "header", "text": txt("Fine")}])

    @app.command("/bad")
    def bad(ack: Any) -> None:
        ack(text="ok", blocks=[{"type": "header", "text": txt(n_chars(151))}])

    @app.view("form")
    def submitted(ack: Any) -> None:
        ack(response_action="update", view=modal(title=txt(n_chars(25))))

    driver = SlackDriver(slack, SlackRequestHandler(app), "rules-secret")
    assert driver.slash("U0ACK", "", command="/good").json()["blocks"][0]["text"]["text"] == "Fine"
    with pytest.raises(AckRefused, match=r"must be less than 151 characters \[json-pointer:/blocks/0/text/text\]"):
        driver.slash("U0ACK", "", command="/bad")
    opened = client.views_open(trigger_id=slack.new_trigger_id("U0ACK"), view=modal([text_input()],
                                                                                     callback_id="form"))
    shown = next(v for v in slack.views("U0ACK") if v.id == opened["view"]["id"])
    with pytest.raises(AckRefused, match=r"/view/title/text"):
        driver.submit("U0ACK", shown, {"x": {"a": "typed"}})
