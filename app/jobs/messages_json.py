"""A job's error, stored as a message code and its values (nested messages included)."""

from __future__ import annotations

import json
from typing import Any

from coded_messages import Message, Param


def params_to_json(said: Message) -> str:
    return json.dumps(_plain(said)["params"], ensure_ascii=False, sort_keys=True)


def message_from_columns(code: str | None, params: str | None) -> Message | None:
    if code is None:
        return None
    return message_from_plain(code, json.loads(params) if params else {})


def message_from_plain(code: str, params: dict[str, Any]) -> Message:
    """The message from its code and its values as JSON gave them back."""
    return _message({"code": code, "params": params})


def _plain(said: Message) -> dict[str, Any]:
    params = {
        name: [_plain(item) for item in value] if isinstance(value, tuple) else value
        for name, value in said.params.items()
    }
    return {"code": said.code, "params": params}


def _message(data: dict[str, Any]) -> Message:
    params: dict[str, Param] = {
        name: tuple(_message(item) for item in value) if isinstance(value, list) else value
        for name, value in data["params"].items()
    }
    return Message(data["code"], params)
