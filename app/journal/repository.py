"""Low-level ledger storage: id reservation, bulk writes, locks and dialect details.

Bulk paths write with COPY on PostgreSQL and ``executemany`` on SQLite, bypassing the ORM:
the revenue import must reach tens of thousands of events per second. Everything here only
executes statements in the caller's transaction; the caller commits (``session_scope``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

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
_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite (UTC here)

ENTRY_COLUMNS = (
    "id", "business_key", "kind", "event_id", "reverses", "occurred_at", "posted_at",
    "period", "posting_count", "memo",
)  # fmt: skip
POSTING_COLUMNS = ("entry_id", "line_no", "line_count", "account", "unit", "amount")


def db_timestamp(session: Session, value: datetime) -> Any:
    """A bind value for a raw SQL timestamp: UTC text on SQLite, the aware instant elsewhere."""
    if is_sqlite(session):
        return value.astimezone(UTC).strftime(_SQLITE_TS)
    return value


def parse_db_timestamp(value: Any) -> datetime:
    """Read back what :func:`db_timestamp` wrote (raw text on SQLite)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def reserve_ids(session: Session, *, table: str, count: int) -> list[int]:
    """``count`` fresh primary keys of ``table``, reserved before the rows are written.

    Headers are written after their postings, so entry ids must be known first. PostgreSQL
    draws them from the table's sequence; on SQLite the writer holds the database lock
    (callers write before they reserve), so max(id) + 1 ... cannot be taken twice.
    """
    if count <= 0:
        return []
    if is_sqlite(session):
        top = session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()
        return list(range(int(top) + 1, int(top) + 1 + count))
    # An uncorrelated scalar subquery (an InitPlan) looks the sequence up once, not once per id.
    sql = """
        SELECT nextval((SELECT CAST(pg_get_serial_sequence(:table, 'id') AS regclass)))
        FROM generate_series(1, :n)
    """
    return [int(row[0]) for row in session.execute(text(sql), {"table": table, "n": count})]


def bulk_insert(
    session: Session, *, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append rows (values in ``columns`` order; timestamps as aware datetimes)."""
    dbapi = session.connection().connection.driver_connection
    if is_sqlite(session):
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        dbapi.executemany(sql, (_sqlite_row(row) for row in rows))  # type: ignore[union-attr]
        return
    copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    # COPY sends as the buffer fills, so the server ingests rows while ``rows`` (often a
    # generator doing real work) is still being consumed.
    with cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def copy_text(
    session: Session, *, table: str, columns: Sequence[str], blocks: Iterable[bytes]
) -> None:
    """Append rows already in COPY text format, UTF-8 encoded (PostgreSQL only)."""
    dbapi = session.connection().connection.driver_connection
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    # The blocks are UTF-8 whatever the connection's client_encoding says.
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (ENCODING 'UTF8')"
    try:
        with cursor, cursor.copy(sql) as copy:
            for block in blocks:
                copy.write(block)
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()  # a generator's clean-up runs now, not when the traceback is freed


def _sqlite_row(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(
        value.astimezone(UTC).strftime(_SQLITE_TS) if isinstance(value, datetime) else value
        for value in row
    )


def refresh_statistics(session: Session, *, table: str, rows: int) -> None:
    """ANALYZE after a bulk insert, so the following queries of the same transaction are not
    planned as if the table were still small (autovacuum only sees committed work)."""
    if rows >= 10_000 and not is_sqlite(session):
        session.execute(text(f"ANALYZE {table}"))


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
