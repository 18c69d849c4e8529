"""An event credited by the default rule is its own journal entry (migration 0031).

On PostgreSQL the import stores each such event with its credit (owner, overlay channel,
posting period) and writes no header or posting; the views present it exactly as the stored
entry it replaces. The database guards the new rows as it guards stored entries.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.app.ledger_corrections import entry_id, reverse
from tests.app.ledger_world import HEADER, NOW, balances, findings, import_csv, scalar
from tests.app.test_ledger_invariants import ENTRY, refused

FILE = HEADER + "E1,A1,other,10,2026-10-05,app\nE2,C1,product_fee,2.50,2026-10-06,app\n"
POSTED_AT = NOW


def _postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite credits every event through the core (stored entries)")


def test_a_credited_event_row_is_its_entry_with_the_cores_legs(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    _postgres(ledger_engine)
    import_csv(ledger_engine, tmp_path, FILE)
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM journal_entry") == 0
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM journal_posting") == 0
    with ledger_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.event_id, e.id = l.id, e.period, e.owner_code, e.kpi_channel, "
                "l.posting_count, l.posted_at FROM revenue_event e "
                "JOIN ledger_entry l ON l.event_id = e.event_id ORDER BY e.event_id"
            )
        ).all()
    assert [tuple(r)[:6] for r in rows] == [
        ("E1", True, "2026-10", "SZ-FT", "app", 4),
        ("E2", True, "2026-10", None, "app", 4),
    ]
    assert {r[6] for r in rows} == {POSTED_AT}
    assert balances(ledger_engine) == {
        "clearing:other": 1000, "branch:SZ-FT:revenue": -1000,
        "clearing:product_fee": 250, "suspense:unowned": -250,
        "kpi:issued:other": 1000, "channel:app:kpi": -1250, "kpi:issued:product_fee": 250,
    }  # fmt: skip
    assert findings(ledger_engine) == []


def test_the_joined_view_holds_every_posting_with_its_header(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, FILE)
    joined = """SELECT p.entry_id, p.line_no, p.line_count, p.account, p.unit, p.amount,
                       e.kind, e.event_id, e.occurred_at, e.posted_at, e.period
                FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry_id"""
    with ledger_engine.connect() as conn:
        expected = sorted(tuple(r) for r in conn.execute(text(joined)))
        line = sorted(tuple(r) for r in conn.execute(text("SELECT * FROM ledger_line")))
    assert len(expected) == 8
    assert line == expected


def test_a_credit_row_in_a_closed_period_is_refused(ledger_engine: Engine, tmp_path: Path) -> None:
    import_csv(ledger_engine, tmp_path, FILE)
    copy = (
        "INSERT INTO revenue_event (event_id, batch_id, line, external_id, lead_id, "
        "revenue_type, amount_fen, occurred_at, channel, period, owner_code) "
        "SELECT 'E9', batch_id, line, external_id, lead_id, revenue_type, amount_fen, "
        "occurred_at, channel, '2026-10', 'SZ-FT' "
        "FROM revenue_event WHERE event_id = 'E1'"
    )
    close = "INSERT INTO ledger_closed_period (period, closed_at, closed_by) VALUES "
    said = refused(ledger_engine, close + "('2026-10', '2026-11-02 00:00:00+00', 't')", copy)
    assert "closed" in said
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_event WHERE event_id = 'E9'") == 0


def test_credit_columns_without_a_period_are_refused(ledger_engine: Engine, tmp_path: Path) -> None:
    import_csv(ledger_engine, tmp_path, FILE)
    copy = (
        "INSERT INTO revenue_event (event_id, batch_id, line, external_id, lead_id, "
        "revenue_type, amount_fen, occurred_at, channel, owner_code) "
        "SELECT 'E9', batch_id, line, external_id, lead_id, revenue_type, amount_fen, "
        "occurred_at, channel, 'SZ-FT' FROM revenue_event WHERE event_id = 'E1'"
    )
    refused(ledger_engine, copy)


def test_a_credit_row_cannot_be_credited_again_by_a_stored_entry(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    _postgres(ledger_engine)
    import_csv(ledger_engine, tmp_path, FILE)
    header = ENTRY.format(id=990, key="revenue:E1", kind="credit", event="'E1'",
                          reverses="NULL", ts="2026-10-05 02:00:00+00", period="2026-10",
                          count=2)  # fmt: skip
    legs = [
        "INSERT INTO journal_posting (entry_id, line_no, line_count, account, unit, amount) "
        f"VALUES (990, {n}, 2, '{account}', 'CNY', {amount})"
        for n, account, amount in ((1, "clearing:other", 1000), (2, "suspense:unowned", -1000))
    ]
    assert "credited already" in refused(ledger_engine, *legs, header)


def test_a_credit_row_is_reversed_once_by_its_business_key(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, FILE)
    credit = entry_id(ledger_engine, "revenue:E1")
    done = reverse(ledger_engine, credit)
    with ledger_engine.connect() as conn:
        reverses = conn.execute(
            text("SELECT reverses FROM ledger_entry WHERE id = :id"), {"id": done.id}
        ).scalar()
    assert reverses == "revenue:E1"
    assert balances(ledger_engine, "e.event_id = 'E1'") == {}
    assert findings(ledger_engine) == []
