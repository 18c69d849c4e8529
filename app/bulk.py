"""Bulk row writes on the session's own connection and transaction.

PostgreSQL gets COPY (several times faster than multi-row INSERT); SQLite gets the driver's
executemany. Datetimes are written as UTC text on SQLite, in the format SQLAlchemy reads back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app.db import is_sqlite


def copy_rows(
    session: Session, *, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append rows (values in `columns` order) to `table` inside the current transaction."""
    dbapi: Any = session.connection().connection.driver_connection
    if is_sqlite(session):
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        dbapi.executemany(sql, (tuple(_sqlite_value(v) for v in row) for row in rows))
        return
    with (
        dbapi.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk write on PostgreSQL, give the planner fresh row counts before the next query
    (autovacuum may be minutes behind, and a stale plan turns a join into a nested loop)."""
    if not is_sqlite(session):
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))


def sqlite_timestamp(value: datetime) -> str:
    """The text SQLAlchemy's DateTime uses on SQLite, in UTC."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_value(value: Any) -> Any:
    return sqlite_timestamp(value) if isinstance(value, datetime) else value
