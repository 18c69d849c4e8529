"""Form fields that the pages read as text, so that a bad value is shown back with a message
beside the kept form rather than answered with a bare 422, and a refused form's errors by field."""

from __future__ import annotations

import math
from datetime import date

from app.errors import AppError, FileRejected, InvalidInput
from app.web.messages import in_chinese
from coded_messages import Message, message


def optional_day(
    text: str, *, which: str, code: str, error: type[AppError] = InvalidInput
) -> date | None:
    """An empty field is no day; `YYYY-MM-DD` is that day; anything else raises `error` with
    the message `code` (carrying `which` field it was and the `text` typed)."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise error(message(code, which=which, text=text)) from None


def field_errors(refused: FileRejected, *, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """A refused form's messages in Chinese by the field each is about, to be said beside
    it; "*" gathers what is no one field's fault (a rule over several fields)."""
    found: dict[str, list[str]] = {}
    for error in refused.errors:
        column = error.column if error.column in fields else "*"
        said = in_chinese(error.said) if error.said else error.reason
        found.setdefault(column, []).append(said)
    return found


class FieldError(InvalidInput):
    """A form field's value refused; `field` names the input the page says it beside."""

    def __init__(self, said: Message, *, field: str) -> None:
        super().__init__(said)
        self.field = field


def number_field(text: str, *, field: str, low: float, high: float, optional: bool = False,
                 above_low: bool = False) -> float | None:  # fmt: skip
    """A finite number typed in `field`, within [low, high] (or (low, high] with
    `above_low`); empty gives None when `optional`."""
    if optional and not text.strip():
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise FieldError(message("form.not_number", text=text), field=field) from None
    if not math.isfinite(value) or value < low or value > high or (above_low and value == low):
        said = message("form.out_of_range", low=_plain(low), high=_plain(high), text=text)
        raise FieldError(said, field=field)
    return value


def required_text(text: str, *, field: str, max_chars: int) -> str:
    """Text typed in `field`, stripped: at least one visible character, at most `max_chars`."""
    stripped = text.strip()
    if not stripped or len(stripped) > max_chars:
        raise FieldError(message("form.text_needed", max=max_chars), field=field)
    return stripped


def _plain(number: float) -> str:
    return f"{number:g}"
