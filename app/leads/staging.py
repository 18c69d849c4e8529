"""A staging table for bulk lead imports, emptied at each commit.

Rows are validated in Python and streamed into a temporary table (COPY on PostgreSQL,
executemany on SQLite); set-based SQL then finds duplicates and inserts what is new. Memory
stays bounded however big the file, and the whole import is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app.bulk import copy_rows, copy_text, sqlite_timestamp
from app.db import is_sqlite

STAGE = "lead_import_stage"
STAGE_COLUMNS = (
    "line",
    "channel",
    "external_id",
    "customer_key",
    "name",
    "mobile",
    "tier",
    "lat",
    "lon",
    "region_code",
    "location_source",
    "acquired_at",
)

_DDL = """
CREATE TEMPORARY TABLE {name} (
    line BIGINT NOT NULL, channel VARCHAR(64) NOT NULL, external_id VARCHAR(128) NOT NULL,
    customer_key VARCHAR(64) NOT NULL, name VARCHAR(200), mobile VARCHAR(80),
    tier VARCHAR(32) NOT NULL, lat FLOAT, lon FLOAT, region_code VARCHAR(6),
    location_source VARCHAR(16), acquired_at {ts}
){suffix}
"""


def create_stage(session: Session) -> None:
    """An empty stage. On PostgreSQL the connection keeps its table, emptied at each commit:
    creating and dropping it cost 2 ms of catalog writes per intake request."""
    if is_sqlite(session):
        session.execute(text(f"DROP TABLE IF EXISTS temp.{STAGE}"))
        session.execute(text(_DDL.format(name=STAGE, ts="VARCHAR(32)", suffix="")))
        return
    session.execute(text(_PG_STAGE))


# One round trip: create it if this connection has none, empty it if an earlier import in
# this transaction filled it.
_PG_STAGE = (
    "DO $$ BEGIN "
    + _DDL.format(name=STAGE, ts="TIMESTAMPTZ", suffix=" ON COMMIT DELETE ROWS").replace(
        "CREATE TEMPORARY TABLE", "CREATE TEMPORARY TABLE IF NOT EXISTS"
    )
    + f"; DELETE FROM {STAGE}; END $$"
)


def drop_stage(session: Session) -> None:
    if is_sqlite(session):
        session.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))


def write_stage(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append validated rows (in STAGE_COLUMNS order) to the stage."""
    table = f"temp.{STAGE}" if is_sqlite(session) else STAGE
    copy_rows(session, table=table, columns=STAGE_COLUMNS, rows=rows)


def write_copy_text(session: Session, blocks: Iterable[bytes]) -> None:
    """Append rows already in COPY text format (PostgreSQL: `app.leads.parallel_stage`)."""
    copy_text(session, table=STAGE, columns=STAGE_COLUMNS, blocks=blocks)


def duplicate_keys(session: Session, *, limit: int) -> list[tuple[str, str, int, int]]:
    """(channel, external_id, first line, a later line) for keys that occur twice in the file."""
    sql = f"""
        SELECT channel, external_id, MIN(line), MAX(line) FROM {STAGE}
        GROUP BY channel, external_id HAVING COUNT(*) > 1 ORDER BY MIN(line) LIMIT :limit
    """
    rows = session.execute(text(sql), {"limit": limit})
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


def insert_new_customers(session: Session, *, now: datetime) -> int:
    # Only for rows that become new leads: re-importing the row of an erased lead must not
    # bring its keyed hash (the link to the number) back. In key order: each key then goes
    # at the right end of the unique index instead of a random page of it (1.3M keys:
    # 5.1-6.0 s against 10.4-11.5 s in hash order, bench/RESULTS.md). Sorted byte by byte
    # on PostgreSQL: the keys are ASCII, which a C.UTF-8 database's index orders the same
    # way, and the sort compares abbreviated keys instead of calling strcoll (~1 s of 1.3M).
    key = "s.customer_key" if is_sqlite(session) else 's.customer_key COLLATE "C"'
    sql = f"""
        INSERT INTO customer (customer_key, created_at)
        SELECT DISTINCT {key}, :now FROM {STAGE} s
        WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.customer_key = s.customer_key)
          AND NOT EXISTS (
              SELECT 1 FROM lead l WHERE l.channel = s.channel AND l.external_id = s.external_id)
        ORDER BY 1
    """
    return _rowcount(session.execute(text(sql), {"now": _ts(session, now)}))


_INSERT_NEW_LEADS = f"""
    INSERT INTO lead (channel, external_id, customer_id, name, mobile, tier, lat, lon,
                      region_code, location_source, status, acquired_at, created_at, updated_at)
    SELECT s.channel, s.external_id, c.id, s.name, s.mobile, s.tier, s.lat, s.lon,
           s.region_code, s.location_source, 'new', s.acquired_at, :now, :now
    FROM {STAGE} s JOIN customer c ON c.customer_key = s.customer_key
    WHERE NOT EXISTS (
        SELECT 1 FROM lead l WHERE l.channel = s.channel AND l.external_id = s.external_id)
    ORDER BY s.line
"""


def insert_new_leads(session: Session, *, now: datetime) -> int:
    return _rowcount(session.execute(text(_INSERT_NEW_LEADS), {"now": _ts(session, now)}))


def insert_new_leads_returning_ids(session: Session, *, now: datetime) -> list[int]:
    """The same, returning the new leads' ids: for a channel's batch of a few rows, which then
    needs no query of its own to tell new leads from re-sent ones."""
    result = session.execute(text(_INSERT_NEW_LEADS + "RETURNING id"), {"now": _ts(session, now)})
    return [int(row[0]) for row in result]


# The leads this import staged, found through the (channel, external_id) unique index: the
# linking below touches only them, never a scan of every lead (an intake of one lead at 1.3M
# leads spent 94 ms scanning for `new` ones).
_STAGED_LEADS = f"""
    SELECT l.id FROM {STAGE} s JOIN lead l
        ON l.channel = s.channel AND l.external_id = s.external_id
"""


def link_owned_customers(session: Session, *, now: datetime) -> int:
    """New leads of a customer who already has an owner join that owner instead of the pool."""
    sql = f"""
        UPDATE lead SET
            branch_id = (SELECT o.branch_id FROM ownership o
                         WHERE o.customer_id = lead.customer_id AND o.valid_to IS NULL),
            status = 'assigned', assigned_at = :now, updated_at = :now
        WHERE id IN ({_STAGED_LEADS})
          AND status = 'new'
          AND EXISTS (SELECT 1 FROM ownership o
                      WHERE o.customer_id = lead.customer_id AND o.valid_to IS NULL)
    """
    return _rowcount(session.execute(text(sql), {"now": _ts(session, now)}))


def linked_leads(session: Session, *, now: datetime) -> list[tuple[int, str, int]]:
    """(lead id, tier, branch id) of the leads that joined an owner in this import."""
    sql = f"""
        SELECT id, tier, branch_id FROM lead
        WHERE id IN ({_STAGED_LEADS})
          AND branch_id IS NOT NULL AND status = 'assigned' AND assigned_at = :now
    """
    rows = session.execute(text(sql), {"now": _ts(session, now)})
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def _ts(session: Session, value: datetime) -> Any:
    return sqlite_timestamp(value) if is_sqlite(session) else value


def _rowcount(result: Any) -> int:
    return int(result.rowcount)
