"""Parsing one revenue CSV row into a core :class:`ledger.revenue.RevenueEvent`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from app.config import DEFAULT_MAX_REVENUE_AMOUNT_FEN
from app.imports.csvfile import CsvRow, ErrorCollector
from app.imports.fields import CellError, reason_of
from coded_messages import message
from ledger.errors import LedgerError
from ledger.money import format_fen, parse_amount
from ledger.periods import parse_timestamp
from ledger.revenue import (
    CHANNEL_NAME,
    RevenueEvent,
    RevenueType,
    parse_revenue_type,
    require_id,
)

REQUIRED = ("event_id", "external_id", "type", "amount", "occurred_at")
# Source systems' clocks drift a little; an event further in the future is a data error.
FUTURE_TOLERANCE = timedelta(minutes=10)
# Revenue before 1970 is a data error too (and year-1 dates do not survive every conversion).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_MAX_AMOUNT_FEN = DEFAULT_MAX_REVENUE_AMOUNT_FEN  # the O2O_MAX_REVENUE_AMOUNT_FEN default
T = TypeVar("T")


class RevenueRowParser:
    """Turns rows into staged tuples, reporting every bad cell to ``errors``."""

    def __init__(
        self, *, errors: ErrorCollector, now: datetime, max_amount_fen: int = DEFAULT_MAX_AMOUNT_FEN
    ) -> None:
        self.errors = errors
        self.latest = now + FUTURE_TOLERANCE
        self.max_amount_fen = max_amount_fen

    def parse(self, row: CsvRow) -> tuple[Any, ...] | None:
        """The stage row (see ``stage.STAGE_COLUMNS``), or None if the row is bad."""
        try:
            return self._parse_good(row)
        except (LedgerError, ValueError):
            return self._parse_reporting(row)

    def _parse_good(self, row: CsvRow) -> tuple[Any, ...]:
        """The fast path for a good row (the bulk of any file): each field through the
        validators :class:`ledger.revenue.RevenueEvent` applies, without building the event
        or per-cell bookkeeping. The first
        bad cell raises, and the caller re-parses the row cell by cell to report each error
        (``tests/app/test_revenue_rows.py`` holds the two paths to the same results)."""
        get = row.values.get
        event_id = require_id((get("event_id") or "").strip(), what="event_id")
        external_id = require_id((get("external_id") or "").strip(), what="external_id")
        revenue_type = _TYPES.get((get("type") or "").strip()) or _unknown_type()
        amount = self._amount(get("amount") or "")
        occurred_at = self._instant(get("occurred_at") or "")
        channel = _channel(get("channel") or "")
        return (row.line, event_id, external_id, channel, revenue_type.value, amount, occurred_at)

    def _parse_reporting(self, row: CsvRow) -> tuple[Any, ...] | None:
        """Every bad cell of ``row`` reported to ``errors``; None if there was one."""
        before = self.errors.total
        cells = {
            "event_id": self._cell(
                row, "event_id", lambda v: require_id(v.strip(), what="event_id")
            ),
            "external_id": self._cell(
                row, "external_id", lambda v: require_id(v.strip(), what="external_id")
            ),
            "type": self._cell(row, "type", lambda v: parse_revenue_type(v.strip())),
            "amount": self._cell(row, "amount", self._amount),
            "occurred_at": self._cell(row, "occurred_at", self._instant),
            "channel": self._cell(row, "channel", _channel),
        }
        if self.errors.total > before:
            return None
        event = RevenueEvent(
            event_id=cells["event_id"],
            external_id=cells["external_id"],
            revenue_type=cells["type"],
            amount_fen=cells["amount"],
            occurred_at=cells["occurred_at"],
        )
        return (
            row.line, event.event_id, event.external_id, cells["channel"],
            event.revenue_type.value, event.amount_fen, event.occurred_at,
        )  # fmt: skip

    def _cell(self, row: CsvRow, column: str, parse: Callable[[str], T]) -> Any:
        raw = row.values.get(column) or ""
        try:
            return parse(raw)
        except (LedgerError, ValueError) as exc:
            self.errors.add(row.line, column, reason_of(exc))
            return None

    def _amount(self, value: str) -> int:
        amount = parse_amount(value)
        if amount == 0:
            raise CellError(message("revenue.zero_amount"))
        if abs(amount) > self.max_amount_fen:
            limit = format_fen(self.max_amount_fen)
            raise CellError(message("revenue.implausible_amount", text=value.strip(), limit=limit))
        return amount

    def _instant(self, value: str) -> datetime:
        instant = parse_timestamp(value.strip())
        if instant > self.latest:
            raise CellError(message("revenue.in_future", text=value))
        if instant < EARLIEST:
            raise CellError(message("revenue.before_1970", text=value))
        return instant


_TYPES = {t.value: t for t in RevenueType}


def _unknown_type() -> RevenueType:
    raise ValueError("unknown revenue type")  # only to leave the fast path


def _channel(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not CHANNEL_NAME.fullmatch(value):
        raise CellError(message("ledger.invalid_channel", text=value))
    return value
