"""Staging a clean revenue file on PostgreSQL without parsing it in Python.

Validating a row in Python costs 6-8 us; for a million-row file that was 16-33 s of a
45-100 s import on the 2-core machine, against 0.7 s for PostgreSQL to COPY the same file
as CSV (bench/ledger_results.md, sixth pass). So the file is first sent as it is
(``COPY ... (FORMAT csv)`` into text columns), and one INSERT ... SELECT converts the rows
into the stage the Python parser would have written.

Only cells of a strict canonical shape are converted here, each to exactly the value the
core's parser gives (``tests/app/test_revenue_sql_staging.py`` holds the two to the same
stage rows): printable ASCII ids without blanks, a known type, an amount of digits with at
most two decimals, a channel of ASCII word characters, and an instant written
``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS`` (Shanghai wall time) from 1992 on (no daylight
saving time in Shanghai since) and not in the future. A row with any other cell, a blank
line, a quoted line break, a column the importer does not know, or a cell the server refuses
makes the conversion fail as a whole; the savepoint is rolled back and the file is staged by
the Python parser instead, which reports every error with its line as before. So a file is
accepted, refused and staged exactly as before; only clean files are faster.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.errors import FileRejected
from app.imports.csvfile import check_header
from app.journal.revenue_import import staging_table
from app.journal.revenue_import.row_parser import FUTURE_TOLERANCE, REQUIRED
from app.limits import import_row_limit
from ledger.revenue import MAX_ID_LENGTH, RevenueType

RAW = "revenue_import_raw"
_KNOWN = frozenset((*REQUIRED, "channel"))
_TYPES = ", ".join(f"'{t.value}'" for t in RevenueType)
_ID = "({c} ~ '^[!-~]+$' AND length({c}) <= {n})"
_AMOUNT = "(amount ~ '^[+-]?[0-9]+([.][0-9][0-9]?)?$' AND length(amount) <= 19)"
_D4 = "[0-9][0-9][0-9][0-9]"
_D2 = "[0-9][0-9]"
# Hours past 23 and seconds past 59 are refused by the core and rolled over by PostgreSQL;
# an impossible day or month makes the server's cast fail (and the Python parser report it).
_INSTANT = f"""(
    (occurred_at ~ '^{_D4}-{_D2}-{_D2}T{_D2}:{_D2}:{_D2}$'
     AND substr(occurred_at, 12, 2) <= '23' AND substr(occurred_at, 18, 2) <= '59'
     OR occurred_at ~ '^{_D4}-{_D2}-{_D2}$')
    AND left(occurred_at, 4) >= '1992')"""
_CHANNEL = "(channel ~ '^[A-Za-z0-9_.-]+$' AND length(channel) <= 64)"
# A row that is not clean gets a NULL in a NOT NULL column of the stage, so the statement
# fails; the conversions only run on well-shaped cells. OFFSET 0 keeps each level from being
# folded into the next (folded, every use of "shaped" re-evaluated the regular expressions).
_CONVERT = f"""
    INSERT INTO {staging_table.ROWS} (line, event_id, external_id, channel, revenue_type,
                                      amount_fen, occurred_at)
    SELECT line, CASE WHEN amount_fen <> 0 AND abs(amount_fen) <= :max_amount
                       AND occurred_at <= :latest THEN event_id END,
           external_id, channel, type, amount_fen, occurred_at
    FROM (
        SELECT line, event_id, external_id, type, channel,
               CASE WHEN shaped THEN round(amount::numeric * 100)::bigint END AS amount_fen,
               CASE WHEN shaped THEN CAST(occurred_at AS timestamp) AT TIME ZONE 'UTC'
                                     - interval '8 hours' END AS occurred_at
        FROM (
            SELECT line, event_id, external_id, type, amount, occurred_at, channel,
                   {_ID.format(c="event_id", n=MAX_ID_LENGTH)}
                   AND {_ID.format(c="external_id", n=MAX_ID_LENGTH)}
                   AND type IN ({_TYPES}) AND {_AMOUNT} AND {_INSTANT}
                   AND (channel IS NULL OR {_CHANNEL}) AS shaped
            FROM (SELECT line, event_id, external_id, type, amount, occurred_at,
                         NULLIF(<channel>, '') AS channel FROM {RAW}) n
            OFFSET 0
        ) r
        OFFSET 0
    ) c
"""


def stage(session: Session, *, path: Path, now: datetime, max_amount_fen: int) -> int | None:
    """Stage ``path`` into ``staging_table.ROWS`` if it is clean; returns its data rows, or
    None (nothing staged) when the Python parser must stage it."""
    header = _header(path)
    if header is None:
        return None
    savepoint = session.begin_nested()
    try:
        rows = _copy_and_convert(
            session, path=path, header=header, now=now, max_amount_fen=max_amount_fen
        )
    except (DBAPIError, psycopg.Error):
        savepoint.rollback()
        return None
    limit = import_row_limit.get()
    if rows == 0 or (limit is not None and rows > limit):
        savepoint.rollback()
        return None
    savepoint.commit()
    return rows


def _header(path: Path) -> list[str] | None:
    """The lower-cased column names if the first line qualifies for this path, else None."""
    with path.open("rb") as stream:
        first = stream.readline(64 * 1024)
    if not first.endswith(b"\n") or b'"' in first:
        return None
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    names = [name.strip().lower() for name in next(csv.reader([line]))]
    if not set(names) <= _KNOWN:
        return None
    try:
        return check_header(names, file=path.name, required=REQUIRED)
    except FileRejected:
        return None  # the Python parser reports it


def _copy_and_convert(
    session: Session, *, path: Path, header: list[str], now: datetime, max_amount_fen: int
) -> int:
    columns = ", ".join(f"{name} text" for name in header)
    session.execute(
        text(f"""CREATE TEMPORARY TABLE {RAW} (line bigint GENERATED ALWAYS AS IDENTITY
                 (START WITH 2), {columns})""")
    )
    dbapi: Any = session.connection().connection.driver_connection
    copy_sql = (
        f"COPY {RAW} ({', '.join(header)}) FROM STDIN (FORMAT csv, HEADER true, ENCODING 'UTF8')"
    )
    with dbapi.cursor() as cursor, cursor.copy(copy_sql) as copy, path.open("rb") as stream:
        while block := stream.read(1 << 20):
            copy.write(block)
    channel = "channel" if "channel" in header else "CAST(NULL AS text)"
    params = {"max_amount": max_amount_fen, "latest": now + FUTURE_TOLERANCE}
    result = session.execute(text(_CONVERT.replace("<channel>", channel)), params)
    session.execute(text(f"DROP TABLE {RAW}"))
    return int(result.rowcount)  # type: ignore[attr-defined]
