"""Writing journal entries: postings first, then the header that seals them.

The order is what the database checks (migration 0002): a header can only be inserted over
exactly its declared postings, balanced per unit, outside closed periods. Entries built by
the core are balanced already; the database refuses anything else whoever writes it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app import bulk
from app.journal import repository
from ledger.entries import JournalEntry
from ledger.periods import Period, posting_period


@dataclass(frozen=True, slots=True)
class ClosedThrough(Collection[Period]):
    """Every period up to the latest closed one counts as closed (they close in order)."""

    closed: tuple[Period, ...]

    def __contains__(self, item: object) -> bool:
        return bool(self.closed) and isinstance(item, Period) and item <= self.closed[-1]

    def __iter__(self) -> Iterator[Period]:
        return iter(self.closed)

    def __len__(self) -> int:
        return len(self.closed)


def closed_through(session: Session) -> ClosedThrough:
    return ClosedThrough(tuple(repository.closed_periods(session)))


def period_for(entry: JournalEntry, *, now: datetime, closed: ClosedThrough) -> Period:
    """The posting period: the event's month, or the open month for a closed one."""
    return posting_period(occurred_at=entry.occurred_at, now=now, closed=closed)


def write_entries(
    session: Session, *, entries: Sequence[tuple[JournalEntry, Period]], posted_at: datetime
) -> list[int]:
    """Persist ``entries`` (each with its posting period); returns their ids in order.

    The caller holds the posting lock (:func:`repository.take_posting_lock`).
    """
    return write_stream(session, count=len(entries), entries=entries, posted_at=posted_at)


def write_stream(
    session: Session,
    *,
    count: int,
    entries: Iterable[tuple[JournalEntry, Period]],
    posted_at: datetime,
) -> list[int]:
    """Like :func:`write_entries` for exactly ``count`` entries produced lazily: the
    postings are sent while the entries are still being built (the bulk import path)."""
    ids = bulk.reserve_ids(session, table="journal_entry", count=count)
    headers: list[tuple[Any, ...]] = []

    def postings() -> Iterator[tuple[Any, ...]]:
        for entry_id, (entry, period) in zip(ids, entries, strict=True):
            total = len(entry.postings)
            for line, p in enumerate(entry.postings, start=1):
                yield (entry_id, line, total, p.account.code, p.unit.value, p.amount)
            headers.append(_header(entry_id, entry, period=period, posted_at=posted_at))

    bulk.copy_rows(
        session, table="journal_posting", columns=repository.POSTING_COLUMNS, rows=postings()
    )
    bulk.copy_rows(session, table="journal_entry", columns=repository.ENTRY_COLUMNS, rows=headers)
    return ids


def _header(
    entry_id: int, entry: JournalEntry, *, period: Period, posted_at: datetime
) -> tuple[Any, ...]:
    return (
        entry_id,
        entry.business_key,
        entry.kind.value,
        entry.event_id,
        entry.reverses,
        entry.occurred_at,
        posted_at,
        str(period),
        len(entry.postings),
        entry.memo[:300],
    )
