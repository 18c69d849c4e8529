"""Writing many journal entries at once: postings first, then the headers that seal them.

The order is what the database checks (migration 0002): a header can only be inserted over
exactly its declared postings, balanced per unit, outside closed periods. Entries built by
the core are balanced already; the database refuses anything else whoever writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app import bulk
from ledger.entries import JournalEntry
from ledger.periods import Period

ENTRY_COLUMNS = (
    "id", "business_key", "kind", "event_id", "reverses", "occurred_at", "posted_at",
    "period", "posting_count", "memo",
)  # fmt: skip
POSTING_COLUMNS = ("entry_id", "line_no", "line_count", "account", "unit", "amount")


def write_entries(
    session: Session, *, entries: Sequence[tuple[JournalEntry, Period]], posted_at: datetime
) -> list[int]:
    """Persist ``entries`` (each with its posting period); returns their ids in order.

    The caller holds the posting lock (:func:`period_lock.take_posting_lock`).
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

    bulk.copy_rows(session, table="journal_posting", columns=POSTING_COLUMNS, rows=postings())
    bulk.copy_rows(session, table="journal_entry", columns=ENTRY_COLUMNS, rows=headers)
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
