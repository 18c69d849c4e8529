"""The partial indexes of the ledger (migrations 0008, 0009) serve the queries meant for them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from app.journal.corrections import _EVENT_ENTRIES, _REVERSED_BY
from app.journal.views import _ACCOUNT_IN_PERIOD
from tests.app.ledger_world import HEADER, import_csv

INDEX = "ix_journal_posting_branch_account"


def test_a_branch_account_in_a_period_is_read_through_the_branch_index(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, HEADER + "E1,A1,other,10,2026-10-05,app\n")
    params = {"account": "branch:SZ-FT:revenue", "period": "2026-10"}
    with ledger_engine.begin() as conn:
        plan = _plan(conn, _ACCOUNT_IN_PERIOD, params)
    assert INDEX in plan


def test_an_events_entries_are_found_through_indexes(ledger_engine: Engine, tmp_path: Path) -> None:
    """Credits by business key, reversals and adjustments by the partial event_id index."""
    import_csv(ledger_engine, tmp_path, HEADER + "E1,A1,other,10,2026-10-05,app\n")
    with ledger_engine.begin() as conn:
        plan = _plan(conn, _EVENT_ENTRIES, {"event": "E1"})
    assert "ix_journal_entry_event_id" in plan
    # and the credit by its business key, not by reading the table
    assert "Seq Scan" not in plan
    assert "SCAN journal_entry" not in plan


def test_an_entrys_reversal_is_found_through_the_reverses_index(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    """Unique over non-NULL values only on PostgreSQL (migration 0023), still used by the
    lookup that keeps an entry from being reversed twice."""
    import_csv(ledger_engine, tmp_path, HEADER + "E1,A1,other,10,2026-10-05,app\n")
    with ledger_engine.begin() as conn:
        plan = _plan(conn, _REVERSED_BY, {"key": "revenue:E1"})
    if ledger_engine.dialect.name == "postgresql":
        assert "uq_journal_entry_reverses" in plan
    assert "Seq Scan" not in plan
    assert "SCAN journal_entry" not in plan


def _plan(conn: Connection, sql: str, params: dict[str, str]) -> str:
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("EXPLAIN QUERY PLAN " + sql), params).all()
    else:
        # A handful of rows would be scanned whole; the question is whether the indexes
        # can serve the query at all, with their conditions repeated in the query.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        rows = conn.execute(text("EXPLAIN " + sql), params).all()
    return " ".join(str(row) for row in rows)
