"""The independent verifier finds what the database should have refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from ledger.crediting import credit_revenue
from ledger.money import Unit
from ledger.periods import Period
from ledger.records import PostingRecord, posting_records
from ledger.verification import account_balances, find_discrepancies, unit_totals

from .builders import make_event

MAR = Period(2026, 3)
AT = datetime(2026, 3, 12, tzinfo=UTC)


def records() -> list[PostingRecord]:
    result: list[PostingRecord] = []
    for entry_id, owner in (("1", "A"), ("2", None)):
        event = make_event(event_id=f"E{entry_id}", amount_fen=1_000)
        entry = credit_revenue(
            event=event, owner_branch_code=owner, policy=None, acquiring_channel="app"
        ).entry
        result.extend(posting_records(entry_id=entry_id, entry=entry, posted_at=AT, period=MAR))
    return result


def test_a_sound_ledger_has_no_discrepancies_and_zero_unit_totals() -> None:
    rows = records()
    assert find_discrepancies(rows) == []
    balances = account_balances(rows)
    assert unit_totals(balances) == {Unit.CNY: 0, Unit.KPI: 0}
    assert balances[next(r.account for r in rows if r.account.code == "suspense:unowned")] == -1_000


def test_a_tampered_amount_is_reported() -> None:
    rows = records()
    rows[1] = replace(rows[1], amount=rows[1].amount + 1)
    found = find_discrepancies(rows)
    assert [(d.entry_id, d.reason) for d in found] == [("1", "CNY postings sum to +1")]


def test_a_lost_posting_and_a_moved_period_are_reported() -> None:
    rows = records()
    entry_two = [r for r in rows if r.entry_id == "2"]
    first_leg = next(r for r in rows if r.entry_id == "1")
    moved = replace(entry_two[0], period=Period(2026, 4))
    damaged = [first_leg, moved, *entry_two[1:]]
    reasons = {(d.entry_id, d.reason) for d in find_discrepancies(damaged)}
    assert ("1", "fewer than two postings") in reasons
    assert ("2", "postings disagree on period, kind, event or timestamps") in reasons
