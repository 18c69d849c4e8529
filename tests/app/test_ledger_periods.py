"""Closing months, prior-period adjustments, statements and `verify`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import Conflict, InvalidInput
from app.journal import closing, service
from app.journal.store import period_lock
from ledger.errors import PeriodClosedError
from ledger.periods import Period
from tests.app.ledger_world import HEADER, import_csv, scalar

OCTOBER = HEADER + (
    "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"
    "E2,B1,product_fee,20.01,2026-10-10T10:00:00,app\n"
    "E3,C1,other,5,2026-10-11T10:00:00,app\n"
)
LATE = HEADER + "L1,A1,advisory_fee,-1.25,2026-10-31T23:59:59,app\n"
DECEMBER = datetime(2026, 12, 2, tzinfo=UTC)


def close(engine: Engine, period: str, *, now: datetime) -> list[closing.BuiltStatement]:
    with session_scope(engine) as session:
        return closing.close_period(session, period=Period(*map(int, period.split("-"))),
                                    actor="test", now=now)  # fmt: skip


def findings(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return service.verify_ledger(session)


def test_closing_stores_a_statement_per_branch_with_its_hash(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    built = close(ledger_engine, "2026-10", now=DECEMBER)
    assert {s.branch_code: s.closing_fen for s in built} == {"SZ-FT": 10050, "BJ-CY": 2001}
    with session_scope(ledger_engine) as session:
        again = closing.build_statements(session, period=Period(2026, 10))
        stored = service.list_statements(session, period="2026-10")
        body, sha = service.statement_text(session, period="2026-10", branch_code="SZ-FT")
    assert [s.body for s in again] == [s.body for s in built]  # byte for byte
    assert {s.sha256 for s in stored.items} == {s.sha256 for s in built}
    assert body.startswith("format,o2o-ledger-statement/1\naccount,branch:SZ-FT:revenue\n")
    assert sha in {s.sha256 for s in built}
    assert findings(ledger_engine) == []


def test_the_current_month_and_a_closed_month_cannot_be_closed(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    with pytest.raises(InvalidInput, match="cannot be closed"):
        close(ledger_engine, "2026-11", now=datetime(2026, 11, 25, tzinfo=UTC))
    close(ledger_engine, "2026-10", now=DECEMBER)
    with pytest.raises(Conflict, match="already closed"):
        close(ledger_engine, "2026-10", now=DECEMBER)
    with pytest.raises(Conflict, match="before the closed period"):
        close(ledger_engine, "2026-09", now=DECEMBER)


def test_months_close_in_order(ledger_engine: Engine, tmp_path: Path) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    with pytest.raises(Conflict, match="close 2026-10 before 2026-11"):
        close(ledger_engine, "2026-11", now=DECEMBER)


def test_a_late_event_for_a_closed_month_is_posted_in_the_open_month(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    before = close(ledger_engine, "2026-10", now=DECEMBER)
    import_csv(ledger_engine, tmp_path, LATE, name="late.csv", now=DECEMBER)
    with ledger_engine.connect() as conn:
        period, occurred = conn.execute(
            text("SELECT period, occurred_at FROM ledger_entry WHERE event_id = 'L1'")
        ).one()
    assert period == "2026-12"
    assert str(occurred).startswith("2026-10-31 15:59:59")
    with session_scope(ledger_engine) as session:
        again = closing.build_statements(session, period=Period(2026, 10))
    assert [s.sha256 for s in again] == [s.sha256 for s in before]  # October never changes
    built = close(ledger_engine, "2026-11", now=DECEMBER)
    assert {s.branch_code: s.closing_fen for s in built} == {"SZ-FT": 10050, "BJ-CY": 2001}
    assert findings(ledger_engine) == []


def test_verify_finds_a_tampered_statement_hash(ledger_engine: Engine, tmp_path: Path) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    close(ledger_engine, "2026-10", now=DECEMBER)
    _drop_append_only(ledger_engine, "ledger_statement")
    with ledger_engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_statement SET sha256 = 'f00d' WHERE branch_code = 'SZ-FT'")
        )
    found = findings(ledger_engine)
    assert any("statement SZ-FT 2026-10: stored text does not match its hash" in f for f in found)
    assert any("postings now give hash" in f for f in found)


def test_verify_finds_a_tampered_posting(ledger_engine: Engine, tmp_path: Path) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    if ledger_engine.dialect.name == "postgresql":
        # The credits are their events' rows (migration 0031): legs derived from one amount
        # cannot be unbalanced, but a credit moved to another account no longer reconciles.
        _drop_append_only(ledger_engine, "revenue_event")
        with ledger_engine.begin() as conn:
            conn.execute(
                text("UPDATE revenue_event SET owner_code = NULL WHERE owner_code IS NOT NULL")
            )
        found = findings(ledger_engine)
        assert any("stored totals" in f for f in found)
        assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry") == 3
        return
    _drop_append_only(ledger_engine, "journal_posting")
    with ledger_engine.begin() as conn:
        conn.execute(
            text("UPDATE journal_posting SET amount = amount - 1 WHERE account LIKE 'branch:%'")
        )
    found = findings(ledger_engine)
    assert any("CNY postings sum to -1" in f for f in found)
    assert any("stored totals" in f for f in found)
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry") == 3


def _drop_append_only(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
        else:
            conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))


def test_a_close_waits_for_postings_in_flight(ledger_engine: Engine, tmp_path: Path) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    done: list[int] = []
    with session_scope(ledger_engine) as posting:
        period_lock.take_posting_lock(posting)  # a posting transaction that has not committed
        closer = threading.Thread(
            target=lambda: done.append(len(close(ledger_engine, "2026-10", now=DECEMBER)))
        )
        closer.start()
        closer.join(timeout=1.0)
        assert closer.is_alive()  # still waiting for the posting transaction
    closer.join(timeout=20)
    assert done == [2]


def test_a_late_event_is_refused_while_the_current_month_is_closed_too(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    """Both crediting paths (core on SQLite, SQL on PostgreSQL) raise the core's error."""
    import_csv(ledger_engine, tmp_path, OCTOBER)
    close(ledger_engine, "2026-10", now=DECEMBER)
    late = HEADER + "L2,A1,other,1,2026-10-20T10:00:00,app\n"
    october_31 = datetime(2026, 10, 31, 12, tzinfo=UTC)  # a clock still in closed October
    with pytest.raises(PeriodClosedError):
        import_csv(ledger_engine, tmp_path, late, name="late.csv", now=october_31)
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_event WHERE event_id = 'L2'") == 0
