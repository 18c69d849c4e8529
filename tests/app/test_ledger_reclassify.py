"""Reclassifying suspense: revenue without an owner moves to the rightful branch later."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import Conflict, InvalidInput, NotFound
from app.journal import closing
from app.journal.schemas import EntryRead
from app.journal.store import stored_entry
from ledger.entries import reversal
from ledger.periods import Period
from tests.app.ledger_corrections import DECEMBER, EVENTS, NOVEMBER, reclassify, reverse_as
from tests.app.ledger_world import (
    SPLIT,
    add_policies,
    balances,
    findings,
    import_csv,
    scalar,
)


def test_a_suspense_credit_moves_to_the_branch_with_a_new_audited_entry(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    done = reclassify(ledger_engine, "C-1")
    assert (done.kind, done.business_key, done.period) == (
        "adjustment",
        "adjustment:C-1:1",
        "2026-10",
    )
    assert sorted((p.account, p.amount) for p in done.postings) == [
        ("branch:SZ-FT:revenue", -1234), ("suspense:unowned", 1234),
    ]  # fmt: skip
    after = balances(ledger_engine, "e.event_id = 'C-1'")
    assert "suspense:unowned" not in after
    assert after["branch:SZ-FT:revenue"] == -1234
    assert after["channel:app:kpi"] == -1234  # the overlay never depended on the owner
    refund = reclassify(ledger_engine, "C-3")  # a refund in suspense moves the same way
    assert sorted((p.account, p.amount) for p in refund.postings) == [
        ("branch:SZ-FT:revenue", 100), ("suspense:unowned", -100),
    ]  # fmt: skip
    audit = scalar(
        ledger_engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'ledger.reclassify'"
    )
    assert audit == 2
    # The original credits are untouched: the import batch still reconciles as imported.
    assert scalar(ledger_engine, "SELECT suspense_fen FROM revenue_batch") == 1234 + 2001 - 100
    assert findings(ledger_engine) == []


def test_reclassification_splits_by_the_policy_in_force_when_the_revenue_occurred(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    add_policies(ledger_engine, tmp_path, SPLIT)
    import_csv(ledger_engine, tmp_path, EVENTS)
    done = reclassify(ledger_engine, "C-2", "BJ-CY")
    assert sorted((p.account, p.amount) for p in done.postings) == [
        ("branch:BJ-CY:revenue", -1334), ("hq:online:revenue", -667), ("suspense:unowned", 2001),
    ]  # fmt: skip
    assert findings(ledger_engine) == []


def test_it_is_refused_unless_the_event_sits_in_suspense(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    reclassify(ledger_engine, "C-1")
    with pytest.raises(Conflict, match="already reclassified"):
        reclassify(ledger_engine, "C-1", "BJ-CY")
    with pytest.raises(Conflict, match=r"not in suspense \(credited to branch:SZ-FT:revenue\)"):
        reclassify(ledger_engine, "A-1")
    with pytest.raises(InvalidInput, match="no branch with code 'NOPE'"):
        reclassify(ledger_engine, "C-2", "NOPE")
    with pytest.raises(NotFound, match="no revenue event 'C-9'"):
        reclassify(ledger_engine, "C-9")
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'adjustment'") == 1
    assert findings(ledger_engine) == []


def test_a_reversed_reclassification_can_be_redone_to_another_branch(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    wrong = reclassify(ledger_engine, "C-1", "BJ-CY")
    reverse_as(ledger_engine, wrong.id, actor="fin1", reason="wrong branch")
    right = reclassify(ledger_engine, "C-1", "SZ-FT")
    assert right.business_key == "adjustment:C-1:2"
    after = balances(ledger_engine, "e.event_id = 'C-1'")
    assert after.get("branch:BJ-CY:revenue") is None
    assert after["branch:SZ-FT:revenue"] == -1234
    assert findings(ledger_engine) == []


def test_suspense_of_a_closed_month_is_reclassified_in_the_open_month(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    with session_scope(ledger_engine) as session:
        before = closing.close_period(session, period=Period(2026, 10), actor="fin1", now=DECEMBER)
    done = reclassify(ledger_engine, "C-1", now=DECEMBER)
    assert (done.period, done.prior_period_adjustment) == ("2026-12", True)
    with session_scope(ledger_engine) as session:
        again = closing.build_statements(session, period=Period(2026, 10))
    assert [s.sha256 for s in again] == [s.sha256 for s in before]
    assert findings(ledger_engine) == []


def test_concurrent_reclassifications_of_one_event_post_exactly_one(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    outcomes: list[str] = []
    start = threading.Barrier(3)

    def attempt(branch: str) -> None:
        start.wait()
        try:
            reclassify(ledger_engine, "C-1", branch)
            outcomes.append("posted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(b,)) for b in ("SZ-FT", "BJ-CY", "SZ-FT")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    posted = outcomes.count("posted")
    print(f"concurrent_reclassifications_posted={posted} threshold=1 (of {len(outcomes)} attempts)")
    assert sorted(outcomes) == ["posted", "refused", "refused"]
    assert "suspense:unowned" not in balances(ledger_engine, "e.event_id = 'C-1'")
    assert findings(ledger_engine) == []


def _credit_id(engine: Engine, event_id: str) -> int:
    return scalar(engine, f"SELECT id FROM ledger_entry WHERE business_key = 'revenue:{event_id}'")


def _reverse(engine: Engine, entry_id: int) -> EntryRead:
    return reverse_as(engine, entry_id, actor="fin1", reason="wrong amount")


def test_a_credit_is_not_reversed_under_its_reclassification(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    moved = reclassify(ledger_engine, "C-1")
    credit = _credit_id(ledger_engine, "C-1")
    with pytest.raises(
        Conflict, match=f"reclassified by entry {moved.id}; reverse entry {moved.id} first"
    ):
        _reverse(ledger_engine, credit)
    _reverse(ledger_engine, moved.id)  # the reclassification first, then the credit
    _reverse(ledger_engine, credit)
    assert balances(ledger_engine, "e.event_id = 'C-1' OR e.reverses LIKE '%C-1%'") == {}
    assert findings(ledger_engine) == []


def test_verify_finds_a_credit_reversed_under_its_reclassification(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    """The state the refusal prevents, written behind the service's back, is caught."""
    import_csv(ledger_engine, tmp_path, EVENTS)
    reclassify(ledger_engine, "C-1")
    credit = _credit_id(ledger_engine, "C-1")
    with session_scope(ledger_engine) as session:
        original = stored_entry.load_entry(session, entry_id=credit, lock=False)
        assert original is not None
        mirror = reversal(original.entry, memo="behind the service's back")
        stored_entry.write_entry(session, entry=mirror, period=Period(2026, 11), posted_at=NOVEMBER)
    found = findings(ledger_engine)
    assert any(f.startswith("event C-1: suspense:unowned holds") for f in found), found


def test_a_reversal_and_a_reclassification_racing_cannot_both_post(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    credit = _credit_id(ledger_engine, "C-1")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(action: str) -> None:
        start.wait()
        try:
            if action == "reverse":
                _reverse(ledger_engine, credit)
            else:
                reclassify(ledger_engine, "C-1")
            outcomes.append(action)
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(a,)) for a in ("reverse", "reclassify")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) in (["refused", "reverse"], ["reclassify", "refused"])
    assert findings(ledger_engine) == []
