"""Form fields that the pages read as text, so that a bad value is shown back with a message
beside the kept form rather than answered with a bare 422."""

from __future__ import annotations

from datetime import date

from app.errors import AppError, InvalidInput
from coded_messages import message


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
