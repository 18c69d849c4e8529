"""Form fields that the pages read as text, so that a bad value is shown back with a message
beside the kept form rather than answered with a bare 422, and a refused form's errors by field."""

from __future__ import annotations

from datetime import date

from app.errors import AppError, FileRejected, InvalidInput
from app.web.messages import in_chinese
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


def field_errors(refused: FileRejected, *, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """A refused form's messages in Chinese by the field each is about, to be said beside
    it; "*" gathers what is no one field's fault (a rule over several fields)."""
    found: dict[str, list[str]] = {}
    for error in refused.errors:
        column = error.column if error.column in fields else "*"
        said = in_chinese(error.said) if error.said else error.reason
        found.setdefault(column, []).append(said)
    return found
