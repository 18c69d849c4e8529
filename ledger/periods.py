"""Accounting periods: calendar months in Asia/Shanghai.

Every instant the ledger stores is timezone-aware; a timestamp written without an offset is
read as Shanghai wall time (contract §7). The period an instant belongs to is the Shanghai month
it falls in, so 2026-01-31T16:00:00Z is already February.

Closed periods never change. The posting period of an entry is the period its
``occurred_at`` falls in, unless that period is closed: then it is the period of ``now`` (the
current open period) and the entry is a prior-period adjustment that keeps its original
``occurred_at``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from coded_messages import message
from ledger.errors import InvalidPeriodError, InvalidTimestampError, PeriodClosedError
from ledger.money import require_int
from ledger.revenue import require_aware

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month in Asia/Shanghai; ``str(p)`` is ``YYYY-MM``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        require_int(self.year, what="year")
        require_int(self.month, what="month")
        if not (1 <= self.month <= 12 and 1900 <= self.year <= 9998):
            raise InvalidPeriodError(
                message("ledger.no_such_period", year=self.year, month=self.month)
            )

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        """First instant of the month (Shanghai midnight), inclusive."""
        return datetime(self.year, self.month, 1, tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:
        """First instant of the next month, exclusive."""
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def contains(self, instant: datetime) -> bool:
        return period_of(instant) == self


def parse_period(text: str) -> Period:
    """Parse ``YYYY-MM`` strictly (``2026-1`` and ``2026-13`` are refused)."""
    match = _PERIOD.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidPeriodError(message("ledger.period_format", text=str(text)))
    return Period(int(match[1]), int(match[2]))


def period_of(instant: datetime) -> Period:
    """The Shanghai month ``instant`` falls in. Naive instants are refused."""
    local = require_aware(instant, what="instant").astimezone(SHANGHAI)
    return Period(local.year, local.month)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp; without an offset it is Asia/Shanghai wall time.

    A bare date means midnight Shanghai. Surrounding blanks are refused, like any other
    malformed value, so that the stored text and the parsed value never disagree.
    """
    if not isinstance(text, str) or not text or text != text.strip():
        raise InvalidTimestampError(message("ledger.invalid_timestamp", text=str(text)))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidTimestampError(message("ledger.invalid_iso_timestamp", text=text)) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=SHANGHAI)
    return parsed


def format_timestamp(instant: datetime) -> str:
    """Canonical text of an instant: ISO 8601 in Shanghai time with its ``+08:00`` offset."""
    return require_aware(instant, what="instant").astimezone(SHANGHAI).isoformat()


def posting_period(*, occurred_at: datetime, now: datetime, closed: Collection[Period]) -> Period:
    """The period an entry is posted in (see the module docstring).

    Raises :class:`PeriodClosedError` if the fallback period, the period of ``now``, is
    itself closed: nothing is ever posted into a closed period. An ``occurred_at`` later than
    ``now`` is not judged here; whether to accept future-dated events is the service's call.
    """
    occurred = period_of(occurred_at)
    if occurred not in closed:
        return occurred
    current = period_of(now)
    if current in closed:
        raise PeriodClosedError(
            message("ledger.closed_and_current_closed", period=str(occurred), current=str(current))
        )
    return current


def is_prior_period_adjustment(*, occurred_at: datetime, period: Period) -> bool:
    """Whether an entry posted in ``period`` belongs economically to an earlier period."""
    return period_of(occurred_at) < period


def check_can_close(*, period: Period, now: datetime, closed: Collection[Period]) -> None:
    """Refuse to close a period that is already closed or has not ended yet at ``now``."""
    if period in closed:
        raise PeriodClosedError(message("ledger.period_already_closed", period=str(period)))
    if require_aware(now, what="now") < period.end:
        raise InvalidPeriodError(message("ledger.period_not_ended", period=str(period)))
