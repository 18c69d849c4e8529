"""Reversals: the exact mirror of an entry, once, in the open month, audited."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import AppError, Conflict, NotFound
from app.journal import closing, service
from ledger.periods import Period
from tests.app.ledger_corrections import DEFAULTS, entry_id, reverse
from tests.app.ledger_world import HEADER, balances, findings, import_csv, scalar

OCTOBER = HEADER + (
    "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"
    "E2,C1,other,5,2026-10-11T10:00:00,app\n"
)
NOVEMBER = datetime(2026, 11, 20, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 2, tzinfo=UTC)


def test_a_reversal_mirrors_every_posting_and_is_audited(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    original = entry_id(ledger_engine, "revenue:E1")
    done = reverse(ledger_engine, original)
    assert (done.kind, done.reverses, done.event_id) == ("reversal", "revenue:E1", "E1")
    assert (done.period, done.prior_period_adjustment) == ("2026-10", False)
    assert "wrong customer" in done.memo
    assert balances(ledger_engine, "e.event_id = 'E1'") == {}  # every account back to zero
    assert [(p.account, p.amount) for p in done.postings] == [
        ("clearing:brokerage_commission", -10050), ("branch:SZ-FT:revenue", 10050),
        ("kpi:issued:brokerage_commission", -10050), ("channel:app:kpi", 10050),
    ]  # fmt: skip
    audit = scalar(ledger_engine, "SELECT detail FROM audit_log WHERE action = 'ledger.reverse'")
    assert f'"reversal_entry_id": {done.id}' in str(audit)
    assert findings(ledger_engine) == []


def test_reversing_an_entry_of_a_closed_month_posts_in_the_open_month(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    with session_scope(ledger_engine) as session:
        before = closing.close_period(session, period=Period(2026, 10), actor="fin1", now=DECEMBER)
    done = reverse(ledger_engine, entry_id(ledger_engine, "revenue:E1"), now=DECEMBER)
    assert (done.period, done.prior_period_adjustment) == ("2026-12", True)
    assert done.occurred_at == datetime(2026, 10, 5, 2, tzinfo=UTC)  # the original instant
    with session_scope(ledger_engine) as session:
        again = closing.build_statements(session, period=Period(2026, 10))
    assert [s.sha256 for s in again] == [s.sha256 for s in before]  # October never changes
    assert findings(ledger_engine) == []


def test_an_entry_is_reversed_at_most_once_and_a_reversal_never(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    original = entry_id(ledger_engine, "revenue:E2")
    done = reverse(ledger_engine, original)
    with pytest.raises(Conflict, match=f"already reversed by entry {done.id}"):
        reverse(ledger_engine, original)
    with pytest.raises(Conflict, match="itself a reversal"):
        reverse(ledger_engine, done.id)
    with pytest.raises(NotFound, match="no journal entry 999"):
        reverse(ledger_engine, 999)
    with pytest.raises(AppError, match="reason is required"), session_scope(ledger_engine) as s:
        service.reverse_entry(s, entry_id=original, reason="  ", actor="fin1", now=NOVEMBER,
                              settings=DEFAULTS)  # fmt: skip
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'reversal'") == 1
    assert findings(ledger_engine) == []


def test_concurrent_reversals_of_one_entry_post_exactly_one(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, OCTOBER)
    original = entry_id(ledger_engine, "revenue:E1")
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        start.wait()
        try:
            reverse(ledger_engine, original)
            outcomes.append("posted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    posted = outcomes.count("posted")
    print(f"concurrent_reversals_posted={posted} threshold=1 (of {len(outcomes)} attempts)")
    assert sorted(outcomes) == ["posted", "refused", "refused", "refused"]
    with ledger_engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM ledger_entry WHERE reverses IS NOT NULL"))
        assert count.scalar() == 1
    assert findings(ledger_engine) == []
