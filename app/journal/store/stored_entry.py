"""One stored journal entry read back as a core entry, and one core entry written.

The bulk paths (``bulk_entries``) write with COPY; a correction writes a single entry, so plain
parameterised INSERTs are enough, and a broken database rule (a second reversal of the same
entry) then surfaces as SQLAlchemy's ``IntegrityError`` that the service turns into a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app import bulk
from app.journal.store import ledger_rows
from ledger.accounts import parse_account
from ledger.entries import EntryKind, JournalEntry, Posting
from ledger.periods import Period, parse_period

# Read from the views (migration 0031): an entry is a stored header or a credit row.
_HEADER = """
    SELECT id, business_key, kind, event_id, reverses, occurred_at, posted_at, period, memo
    FROM ledger_entry WHERE {where}
"""
_LEGS = "SELECT account, amount FROM ledger_posting WHERE entry_id = :id ORDER BY line_no"
_INSERT_POSTING = """
    INSERT INTO journal_posting (entry_id, line_no, line_count, account, unit, amount)
    VALUES (:entry_id, :line_no, :line_count, :account, :unit, :amount)
"""
_INSERT_HEADER = """
    INSERT INTO journal_entry (id, business_key, kind, event_id, reverses, occurred_at,
                               posted_at, period, posting_count, memo)
    VALUES (:id, :business_key, :kind, :event_id, :reverses, :occurred_at, :posted_at,
            :period, :posting_count, :memo)
"""


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A core entry with what the database added: its id, posting period and time."""

    entry_id: int
    entry: JournalEntry
    period: Period
    posted_at: datetime


def load_entry(session: Session, *, entry_id: int, lock: bool = False) -> StoredEntry | None:
    """The entry with this id, or None; ``lock`` holds its row until commit (PostgreSQL),
    so two corrections of the same entry take turns instead of racing."""
    if lock:
        ledger_rows.lock_entry(session, entry_id=entry_id)
    row = session.execute(text(_HEADER.format(where="id = :id")), {"id": entry_id}).one_or_none()
    return None if row is None else _stored(session, row)


def load_by_key(session: Session, *, business_key: str) -> StoredEntry | None:
    entry_id = ledger_rows.entry_id_by_key(session, business_key=business_key)
    return None if entry_id is None else load_entry(session, entry_id=entry_id)


def _stored(session: Session, row: Any) -> StoredEntry:
    entry_id, key, kind, event_id, reverses, occurred_at, posted_at, period, memo = row
    legs = session.execute(text(_LEGS), {"id": entry_id}).all()
    entry = JournalEntry(
        business_key=str(key), kind=EntryKind(kind),
        occurred_at=bulk.parse_db_timestamp(occurred_at),
        postings=tuple(Posting(parse_account(str(a)), int(amount)) for a, amount in legs),
        event_id=event_id, reverses=reverses, memo=str(memo),
    )  # fmt: skip
    return StoredEntry(
        entry_id=int(entry_id), entry=entry, period=parse_period(str(period)),
        posted_at=bulk.parse_db_timestamp(posted_at),
    )  # fmt: skip


def write_entry(
    session: Session, *, entry: JournalEntry, period: Period, posted_at: datetime
) -> StoredEntry:
    """Persist one entry: postings first, then the header that seals them."""
    [entry_id] = bulk.reserve_ids(session, table="journal_entry", count=1)
    count = len(entry.postings)
    legs = [
        {"entry_id": entry_id, "line_no": line, "line_count": count, "account": p.account.code,
         "unit": p.unit.value, "amount": p.amount}
        for line, p in enumerate(entry.postings, start=1)
    ]  # fmt: skip
    session.execute(text(_INSERT_POSTING), legs)
    session.execute(text(_INSERT_HEADER), {
        "id": entry_id, "business_key": entry.business_key, "kind": entry.kind.value,
        "event_id": entry.event_id, "reverses": entry.reverses,
        "occurred_at": bulk.db_timestamp(session, entry.occurred_at),
        "posted_at": bulk.db_timestamp(session, posted_at), "period": str(period),
        "posting_count": count, "memo": entry.memo[:300],
    })  # fmt: skip
    return StoredEntry(entry_id=entry_id, entry=entry, period=period, posted_at=posted_at)
