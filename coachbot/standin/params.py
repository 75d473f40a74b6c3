"""Decoding Web API request arguments the way Slack accepts them.

Slack takes arguments as a query string, a form body (urlencoded or
multipart) or a JSON body; form values that carry structures (``blocks``,
``view``...) arrive as JSON strings and are decoded here, so a method sees
the same params whichever way the client sent them.
"""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from coachbot.standin.errors import ApiError

#: Arguments that hold JSON structures and arrive as JSON strings in form bodies.
JSON_FIELDS = frozenset({"blocks", "attachments", "metadata", "view", "user_auth_blocks"})

_FIELD_ERRORS = {
    # "not a valid JSON object": slack-ruby/slack-api-ref methods/chat/chat.postMessage.json
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "metadata": "invalid_metadata_format",
}


def decode_params(body: bytes, content_type: str, query: str = "") -> dict[str, Any]:
    """Merge the query string and body into one dict of arguments.

    Raises :class:`ApiError` ``invalid_json`` for a malformed JSON body and
    ``invalid_form_data`` for a body that cannot be read as a form.
    """
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";", 1)[0].strip().lower()
    if body:
        if media_type == "application/json":
            params.update(_json_body(body))
        elif media_type == "multipart/form-data":
            params.update(_multipart_body(body, content_type))
        else:
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
            except UnicodeDecodeError as error:
                raise ApiError("invalid_form_data") from error
    return {key: _decode_field(key, value) for key, value in params.items()}


def truthy(value: Any) -> bool:
    """Read a boolean argument: ``true``/``1`` (any case) or a JSON true."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError("invalid_json") from error
    if not isinstance(parsed, dict):
        raise ApiError("invalid_json")
    return parsed


def _multipart_body(body: bytes, content_type: str) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError("invalid_form_data")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is None:
            fields[name] = data.decode("utf-8", errors="replace")
        else:
            fields[name] = data
    return fields


def _decode_field(key: str, value: Any) -> Any:
    if key in JSON_FIELDS and isinstance(value, str) and value.strip()[:1] in {"[", "{"}:
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise ApiError(_FIELD_ERRORS.get(key, "invalid_arguments")) from error
    return value
