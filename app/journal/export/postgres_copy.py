"""The CSV export on PostgreSQL via ``COPY ... TO STDOUT``: the core's rules, in SQL.

Same columns, order, timestamps (ISO 8601 in Shanghai time with its offset), formula
escaping and quoting as ``ledger.export``; PostgreSQL ends lines with LF, turned into the
core's CRLF (no cell can hold a line break: ids are printable). About ten times faster
than formatting a million rows in Python.
"""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import text
from sqlmodel import Session

from ledger.export import csv_chunks
from ledger.periods import Period
from spreadsheet_cells import sql_escaped

_escaped = sql_escaped  # the one rule of spreadsheet_cells, in SQL


def _timestamp(expr: str) -> str:
    micro = f"mod(date_part('microseconds', {expr})::bigint, 1000000)"
    return (
        f"to_char({expr}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN {micro} <> 0 THEN '.' || to_char({expr}, 'US') ELSE '' END || "
        f"to_char({expr}, 'TZH:TZM')"
    )


_WHERE = "FROM ledger_line p WHERE p.period = %(period)s AND p.unit = 'CNY'"
_QUERY = f"""
    COPY (
        SELECT p.entry_id::text, {_escaped("p.event_id")}, {_timestamp("p.occurred_at")},
               {_timestamp("p.posted_at")}, p.period, p.account,
               CASE WHEN p.account LIKE 'branch:%%'
                    THEN {_escaped("split_part(p.account, ':', 2)")} END,
               GREATEST(p.amount, 0), GREATEST(-p.amount, 0)
        {_WHERE}
        ORDER BY p.posted_at, p.entry_id, p.account COLLATE "C"
    ) TO STDOUT WITH (FORMAT csv)
"""
_TOTALS = """
    SELECT COUNT(*), COALESCE(SUM(GREATEST(p.amount, 0)), 0),
           COALESCE(SUM(GREATEST(-p.amount, 0)), 0)
    FROM ledger_line p
    WHERE p.period = :period AND p.unit = 'CNY'
"""


def write_csv(session: Session, *, period: Period, stream: BinaryIO) -> tuple[int, int, int]:
    """Write the CSV of ``period``; returns (rows, debit fen, credit fen)."""
    session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
    stream.write(next(iter(csv_chunks([]))).encode("utf-8"))
    dbapi = session.connection().connection.driver_connection
    pending: list[bytes] = []
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(_QUERY, {"period": str(period)}) as copy:
        for data in copy:
            pending.append(bytes(data).replace(b"\n", b"\r\n"))
            if len(pending) >= 4_096:
                stream.write(b"".join(pending))
                pending.clear()
    stream.write(b"".join(pending))
    rows, debit, credit = session.execute(text(_TOTALS), {"period": str(period)}).one()
    return int(rows), int(debit), int(credit)
