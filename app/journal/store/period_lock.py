"""The period lock (posting and closing take turns) and what it guards: the closed months.

A posting transaction holds the lock shared and a close holds it alone, so a close never
misses an entry that is being written. Months close in order, so "closed" is "at or before
the latest closed month", and an entry dated in a closed month posts into the open one.
Everything here only executes statements in the caller's transaction; the caller commits
(``session_scope``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from app import locks
from app.db import is_sqlite
from ledger.entries import JournalEntry
from ledger.periods import Period, parse_period, posting_period

# Same key as the migration's triggers: postings share it, a period close takes it alone.
CLOSE_LOCK = locks.LEDGER_CLOSE


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
    return ClosedThrough(tuple(closed_periods(session)))


def period_for(entry: JournalEntry, *, now: datetime, closed: ClosedThrough) -> Period:
    """The posting period: the event's month, or the open month for a closed one."""
    return posting_period(occurred_at=entry.occurred_at, now=now, closed=closed)
