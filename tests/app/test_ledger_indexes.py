"""Branch account lookups are served by the partial index on branch postings (0008)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.journal.views import _ACCOUNT_IN_PERIOD
from tests.app.test_ledger_support import HEADER, import_csv, ledger_engine

__all__ = ["ledger_engine"]

INDEX = "ix_journal_posting_branch_account"


def test_a_branch_account_in_a_period_is_read_through_the_branch_index(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, HEADER + "E1,A1,other,10,2026-10-05,app\n")
    params = {"account": "branch:SZ-FT:revenue", "period": "2026-10"}
    with ledger_engine.begin() as conn:
        if ledger_engine.dialect.name == "sqlite":
            plan = conn.execute(text("EXPLAIN QUERY PLAN " + _ACCOUNT_IN_PERIOD), params).all()
        else:
            # A handful of rows would be scanned whole; the question is whether the index
            # can serve the query at all, with its condition repeated in the query.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = conn.execute(text("EXPLAIN " + _ACCOUNT_IN_PERIOD), params).all()
    assert INDEX in " ".join(str(row) for row in plan)
