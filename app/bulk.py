"""Rows written and read with raw SQL, below the ORM, in the session's own transaction.

The bulk paths (lead and revenue imports, round commits, ledger postings) must reach tens of
thousands of rows per second, so they bypass the ORM: PostgreSQL gets COPY (several times
faster than multi-row INSERT), SQLite the driver's executemany. Datetimes are written as UTC
text on SQLite, in the format SQLAlchemy reads back. Everything here only executes
statements in the caller's transaction; the caller commits (``session_scope``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session

from app.config import get_settings
from app.db import is_sqlite

_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite (UTC here)


def copy_rows(
    session: Session, *, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Append rows (values in `columns` order; timestamps as aware datetimes)."""
    dbapi: Any = session.connection().connection.driver_connection
    if is_sqlite(session):
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        dbapi.executemany(sql, (tuple(_sqlite_value(v) for v in row) for row in rows))
        return
    # COPY sends as the buffer fills, so the server ingests rows while ``rows`` (often a
    # generator doing real work) is still being consumed.
    with (
        dbapi.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def copy_text(
    session: Session, *, table: str, columns: Sequence[str], blocks: Iterable[bytes]
) -> None:
    """Append rows already in COPY text format, UTF-8 encoded (PostgreSQL only)."""
    dbapi: Any = session.connection().connection.driver_connection
    cursor = dbapi.cursor()
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


def reserve_ids(session: Session, *, table: str, count: int) -> list[int]:
    """``count`` fresh primary keys of ``table``, reserved before the rows are written.

    Journal headers are written after their postings, so entry ids must be known first.
    PostgreSQL draws them from the table's sequence; on SQLite the writer holds the database
    lock (callers write before they reserve), so max(id) + 1 ... cannot be taken twice.
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


def plain_rows(
    session: Session, query: Executable, params: dict[str, Any] | None = None
) -> Sequence[tuple[Any, ...]]:
    """A select's rows as the driver returns them: plain tuples, without SQLAlchemy's row
    objects, which cost ~4 us a row (a round's pool of 1.3M leads: ~5 s). Only for columns the
    driver already returns as Python values (integers, floats, text): no result processing
    (dates on SQLite, enums, JSON) is applied. A query built once at import, with bind
    parameters in `params`, also saves building and keying it per call (a routed intake's
    statements cost more to build than to run)."""
    session.flush()  # what an ORM execute would do first: the pool sees this session's changes
    result = session.connection().execute(query, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def settle_in_for_bulk(session: Session) -> None:
    """For the rest of this transaction, on PostgreSQL: sorts and hashes of up to
    `O2O_BULK_WORK_MEM_MB` stay in memory, and no statement is JIT-compiled. For a revenue
    import, whose sorts and hashes span the whole file (bench/ledger_results.md)."""
    if not is_sqlite(session):
        _set_work_mem(session, f"{get_settings().bulk_work_mem_mb}MB")
        no_jit(session)


def no_jit(session: Session) -> None:
    """No JIT compilation for the rest of this transaction (PostgreSQL). A bulk statement is
    costed far above the JIT thresholds, and compiling it takes up to a second that one pass
    over the rows never wins back."""
    if not is_sqlite(session):
        session.execute(text("SET LOCAL jit = off"))


@contextmanager
def room_to_join(session: Session) -> Iterator[None]:
    """`O2O_BULK_WORK_MEM_MB` of `work_mem` for the statements inside, then the setting as it
    was (PostgreSQL). For a statement that joins a whole pool to its rows and writes them:
    at the default 4 MB, a round commit's update of 1.3M leads joined them to their
    assignments in batches that came back to every lead page, and the backend wrote 990k
    buffers itself, 1.5 GB of temporary files and 2.8 GB of WAL; at 256 MB, 240k, 0.5 GB and
    1.6 GB, and the update took 6-7 s less (bench/RESULTS.md). Not for a whole transaction:
    the commit's other joins ran 1-2 s slower with it."""
    if is_sqlite(session):
        yield
        return
    before = str(session.execute(text("SELECT current_setting('work_mem')")).scalar_one())
    _set_work_mem(session, f"{get_settings().bulk_work_mem_mb}MB")
    yield
    _set_work_mem(session, before)  # after a failure the transaction rolls back instead


def _set_work_mem(session: Session, value: str) -> None:
    session.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": value})


def refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk write on PostgreSQL, give the planner fresh row counts before the next query
    (autovacuum may be minutes behind and only sees committed work, and a stale plan turns a
    join into a nested loop)."""
    if not is_sqlite(session):
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))


def sqlite_timestamp(value: datetime) -> str:
    """The text SQLAlchemy's DateTime uses on SQLite, in UTC."""
    return value.astimezone(UTC).strftime(_SQLITE_TS)


def db_timestamp(session: Session, value: datetime) -> Any:
    """A bind value for a raw SQL timestamp: UTC text on SQLite, the aware instant elsewhere."""
    return sqlite_timestamp(value) if is_sqlite(session) else value


def parse_db_timestamp(value: Any) -> datetime:
    """Read back what :func:`db_timestamp` wrote (raw text on SQLite)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _sqlite_value(value: Any) -> Any:
    return sqlite_timestamp(value) if isinstance(value, datetime) else value
