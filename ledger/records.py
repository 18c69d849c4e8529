"""Stored postings as the service reads them back: the input of statements and exports.

A :class:`PostingRecord` is one posting together with what the database adds to an entry:
its id, ``posted_at`` and posting period. :func:`posting_records` flattens a freshly built
entry into these records so the service persists exactly what statements and exports read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.accounts import Account
from ledger.entries import EntryKind, JournalEntry
from ledger.errors import InvalidEntryError
from ledger.money import Unit, require_int
from ledger.periods import Period, is_prior_period_adjustment
from ledger.revenue import require_aware


@dataclass(frozen=True, slots=True)
class PostingRecord:
    """One stored posting. ``amount`` is signed, debit positive; ids are text."""

    entry_id: str
    kind: EntryKind
    event_id: str | None
    occurred_at: datetime
    posted_at: datetime
    period: Period
    account: Account
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.entry_id, str) or not self.entry_id:
            raise InvalidEntryError("entry_id must be a non-empty string")
        require_aware(self.occurred_at, what="occurred_at")
        require_aware(self.posted_at, what="posted_at")
        if require_int(self.amount, what="amount") == 0:
            raise InvalidEntryError(f"zero posting in entry {self.entry_id!r}")

    @property
    def unit(self) -> Unit:
        return self.account.unit

    @property
    def debit(self) -> int:
        return max(self.amount, 0)

    @property
    def credit(self) -> int:
        return max(-self.amount, 0)

    @property
    def prior_period_adjustment(self) -> bool:
        return is_prior_period_adjustment(occurred_at=self.occurred_at, period=self.period)


def posting_records(
    *, entry_id: str, entry: JournalEntry, posted_at: datetime, period: Period
) -> tuple[PostingRecord, ...]:
    """One record per posting of ``entry``, in the entry's posting order."""
    return tuple(
        PostingRecord(
            entry_id=entry_id,
            kind=entry.kind,
            event_id=entry.event_id,
            occurred_at=entry.occurred_at,
            posted_at=posted_at,
            period=period,
            account=posting.account,
            amount=posting.amount,
        )
        for posting in entry.postings
    )


def entry_id_key(entry_id: str) -> tuple[int, int, str, str]:
    """Sort key for entry ids: numeric ids in numeric order, before any other text."""
    if entry_id.isascii() and entry_id.isdigit():
        digits = entry_id.lstrip("0")
        return (0, len(digits), digits, entry_id)
    return (1, 0, "", entry_id)
