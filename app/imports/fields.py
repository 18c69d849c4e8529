"""Parsers for single CSV cells: each returns a value or raises CellError with the reason."""

from __future__ import annotations

import math
import re
from datetime import datetime

from allocation.model import BUILT_IN_TIERS
from app.messages import in_english
from coded_messages import Message, message
from ledger.periods import SHANGHAI

CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
REGION_PATTERN = re.compile(r"\d{6}")


class CellError(ValueError):
    """A cell's value is unusable; the message says why in an operator's words (in English,
    or as a code the pages say in Chinese: `said`)."""

    def __init__(self, reason: str | Message) -> None:
        self.said = reason if isinstance(reason, Message) else None
        super().__init__(reason if isinstance(reason, str) else in_english(reason))


def reason_of(exc: Exception) -> str | Message:
    """What a row error says about `exc`: its code where the core or a parser gave one."""
    said = getattr(exc, "said", None)  # LedgerError and CellError carry one
    return said if isinstance(said, Message) else str(exc)


def parse_code(value: str) -> str:
    if not CODE_PATTERN.fullmatch(value):
        raise CellError(message("cell.not_code", text=value))
    return value


def parse_float(value: str, *, low: float, high: float, what: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise CellError(message("cell.not_number", text=value)) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise CellError(
            message("cell.outside", what=what, text=value, low=f"{low:g}", high=f"{high:g}")
        )
    return number


MAX_COUNT = 10**9  # a capacity above this is a typo (and far from any 64-bit limit)


def parse_int(value: str, *, low: int, what: str, high: int = MAX_COUNT) -> int:
    if not re.fullmatch(r"[+-]?\d{1,12}", value):
        raise CellError(message("cell.not_whole", text=value))
    number = int(value)
    if number < low:
        raise CellError(message("cell.too_small", what=what, low=low, number=number))
    if number > high:
        raise CellError(message("cell.too_large", what=what, high=high, number=number))
    return number


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise CellError(message("cell.not_bool", text=value))


def parse_tier(value: str) -> str:
    """Only the known tiers: `vip` or `Mass` would silently change eligibility (issue 12)."""
    if value not in BUILT_IN_TIERS:
        raise CellError(message("cell.not_tier", text=value, tiers=", ".join(BUILT_IN_TIERS)))
    return value


def parse_tiers(value: str) -> tuple[str, ...]:
    """'mass|affluent' -> ('affluent', 'mass'); empty means every tier."""
    if not value:
        return ()
    return tuple(sorted({parse_tier(part.strip()) for part in value.split("|")}))


def parse_region_code(value: str) -> str:
    if not REGION_PATTERN.fullmatch(value):
        raise CellError(message("cell.not_region", text=value))
    return value


def parse_instant(value: str) -> datetime:
    """ISO 8601; a value without an offset means Asia/Shanghai local time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CellError(message("cell.not_instant", text=value)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed


def parse_text(value: str, *, max_length: int) -> str:
    if len(value) > max_length:
        raise CellError(message("cell.too_long", max=max_length))
    return value
