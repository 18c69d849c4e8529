"""Low-level ledger storage: the close lock, closed periods, journal columns.

Raw row writes, id reservation and timestamps are ``app.bulk``'s, shared with the lead
imports and rounds. Everything here only executes statements in the caller's transaction;
the caller commits (``session_scope``).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from app import locks
from app.db import is_sqlite
from ledger.periods import Period, parse_period

# The partial index on posting accounts (migration 0008) holds branch accounts only; a query
# by account repeats its condition word for word so that both databases may use it.
BRANCH_ACCOUNTS = "p.account LIKE 'branch:%'"

# Same key as the migration's triggers: postings share it, a period close takes it alone.
CLOSE_LOCK = locks.LEDGER_CLOSE

ENTRY_COLUMNS = (
    "id", "business_key", "kind", "event_id", "reverses", "occurred_at", "posted_at",
    "period", "posting_count", "memo",
)  # fmt: skip
POSTING_COLUMNS = ("entry_id", "line_no", "line_count", "account", "unit", "amount")


def take_posting_lock(session: Session) -> None:
    """Shared lock held while posting: a period close waits until this transaction ends."""
    if is_sqlite(session):
        _take_sqlite_write_lock(session)
        return
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:a, :b)"), _lock_params())


def take_close_lock(session: Session) -> None:
    """Exclusive lock for a close: waits for in-flight postings, blocks new ones."""
    if is_sqlite(session):
        _take_sqlite_write_lock(session)
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), _lock_params())


def _take_sqlite_write_lock(session: Session) -> None:
    # SQLite has one writer at a time; a write statement (here one that matches no row, so
    # no trigger fires) takes the database lock now, before anything is read and relied on.
    session.execute(text("DELETE FROM ledger_closed_period WHERE 0 = 1"))


def _lock_params() -> dict[str, int]:
    return {"a": CLOSE_LOCK[0], "b": CLOSE_LOCK[1]}


def closed_periods(session: Session) -> list[Period]:
    rows = session.execute(text("SELECT period FROM ledger_closed_period ORDER BY period"))
    return [parse_period(str(row[0])) for row in rows]
