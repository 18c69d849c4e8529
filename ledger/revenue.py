"""Revenue events: what finance imports and the ledger credits.

A revenue event is immutable and identified for ever by its ``event_id``. Its content tells
a harmless replay (same id, same content) from a conflicting one (same id, different
content), which must be refused. The importer compares the stored content columns (migration
0033); :meth:`RevenueEvent.fingerprint` is the same content as one digest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from coded_messages import message
from ledger.errors import InvalidEventError, InvalidTimestampError
from ledger.money import require_int

MAX_ID_LENGTH = 128
# Channel names come from lead imports and may be Chinese; ':' is the account-code separator.
CHANNEL_NAME = re.compile(r"[\w.-]{1,64}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class RevenueType(StrEnum):
    """The revenue types of contract §4; each has its own clearing account."""

    BROKERAGE_COMMISSION = "brokerage_commission"
    PRODUCT_FEE = "product_fee"
    MARGIN_INTEREST = "margin_interest"
    ADVISORY_FEE = "advisory_fee"
    OTHER = "other"


def parse_revenue_type(text: str) -> RevenueType:
    """The revenue type named ``text`` exactly, or :class:`InvalidEventError`."""
    try:
        return RevenueType(text)
    except ValueError:
        known = ", ".join(t.value for t in RevenueType)
        raise InvalidEventError(
            message("ledger.unknown_revenue_type", text=text, known=known)
        ) from None


def require_aware(value: datetime, *, what: str) -> datetime:
    """Return ``value`` if it carries a UTC offset; naive instants are ambiguous."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidTimestampError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value


def require_id(value: str, *, what: str) -> str:
    """Return ``value`` if it is a non-empty printable identifier of sane length."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise InvalidEventError(message("ledger.id_length", what=what, max=MAX_ID_LENGTH))
    if value != value.strip() or not value.isprintable():
        raise InvalidEventError(message("ledger.id_blanks", what=what, text=value))
    return value


@dataclass(frozen=True, slots=True)
class RevenueEvent:
    """One revenue event. ``amount_fen`` is signed: negative is a refund or clawback."""

    event_id: str
    external_id: str
    revenue_type: RevenueType
    amount_fen: int
    occurred_at: datetime
    channel: str | None = None

    def __post_init__(self) -> None:
        require_id(self.event_id, what="event_id")
        require_id(self.external_id, what="external_id")
        if not isinstance(self.revenue_type, RevenueType):
            raise InvalidEventError("revenue_type must be a RevenueType")
        if require_int(self.amount_fen, what="amount_fen") == 0:
            raise InvalidEventError(f"event {self.event_id!r} has a zero amount")
        require_aware(self.occurred_at, what="occurred_at")
        if self.channel is not None and not CHANNEL_NAME.fullmatch(self.channel):
            raise InvalidEventError(message("ledger.invalid_channel", text=self.channel))

    def fingerprint(self) -> str:
        """SHA-256 of the canonical content; equal for equal events, whatever the offset."""
        return content_fingerprint(
            self.event_id, self.external_id, self.revenue_type, self.amount_fen,
            self.occurred_at, self.channel,
        )  # fmt: skip


def content_fingerprint(
    event_id: str, external_id: str, revenue_type: RevenueType, amount_fen: int,
    occurred_at: datetime, channel: str | None,
) -> str:  # fmt: skip
    """:meth:`RevenueEvent.fingerprint` of already validated fields (bulk parsing calls it
    directly, after the same validators as the event's own)."""
    # Integer microseconds since the epoch: exact, and independent of the UTC offset.
    instant = (occurred_at - _EPOCH) // _MICROSECOND
    canonical = "\x1f".join(
        (event_id, external_id, revenue_type.value, str(amount_fen), str(instant), channel or "")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
