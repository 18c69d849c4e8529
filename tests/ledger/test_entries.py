"""Journal entries cannot be built unbalanced; reversal negates."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounts import (
    HQ_ONLINE_REVENUE,
    SUSPENSE_UNOWNED,
    branch_revenue,
    channel_kpi,
    clearing,
    kpi_issued,
)
from ledger.entries import (
    EntryKind,
    JournalEntry,
    Posting,
    balances,
    credit,
    debit,
    reversal,
    reversal_key,
)
from ledger.errors import (
    InvalidEntryError,
    InvalidTimestampError,
    ReversalError,
    UnbalancedEntryError,
)
from ledger.money import Unit
from ledger.revenue import RevenueType

from .builders import PROPERTY, T0

FUNDING = clearing(RevenueType.PRODUCT_FEE)


def entry(*postings: Posting, key: str = "k1", kind: EntryKind = EntryKind.CREDIT) -> JournalEntry:
    return JournalEntry(business_key=key, kind=kind, occurred_at=T0, postings=postings)


def test_a_balanced_entry_is_built() -> None:
    built = entry(debit(FUNDING, 100), credit(branch_revenue("B1"), 100))
    assert built.total(Unit.CNY) == 100
    assert built.postings[1].credit == 100
    assert built.postings[1].debit == 0
    assert built.units() == {Unit.CNY}


def test_an_unbalanced_entry_cannot_be_built() -> None:
    with pytest.raises(UnbalancedEntryError):
        entry(debit(FUNDING, 100), credit(branch_revenue("B1"), 99))


def test_an_entry_needs_two_postings() -> None:
    with pytest.raises(InvalidEntryError):
        entry(debit(FUNDING, 0 + 1))


def test_zero_postings_are_refused() -> None:
    with pytest.raises(InvalidEntryError):
        debit(FUNDING, 0)


def test_float_amounts_are_refused() -> None:
    with pytest.raises(TypeError):
        Posting(FUNDING, 1.0)  # type: ignore[arg-type]


def test_the_same_account_twice_is_refused() -> None:
    with pytest.raises(InvalidEntryError):
        entry(debit(FUNDING, 100), credit(FUNDING, 50), credit(SUSPENSE_UNOWNED, 50))


def test_kpi_points_cannot_balance_money() -> None:
    with pytest.raises(UnbalancedEntryError):
        entry(debit(FUNDING, 100), credit(channel_kpi("app"), 100))


def test_money_and_kpi_legs_balance_separately_in_one_entry() -> None:
    built = entry(
        debit(FUNDING, 100),
        credit(HQ_ONLINE_REVENUE, 100),
        debit(kpi_issued(RevenueType.PRODUCT_FEE), 7),
        credit(channel_kpi("app"), 7),
    )
    assert built.total(Unit.CNY) == 100
    assert built.total(Unit.KPI) == 7


def test_naive_occurred_at_is_refused() -> None:
    with pytest.raises(InvalidTimestampError):
        JournalEntry(
            business_key="k",
            kind=EntryKind.CREDIT,
            occurred_at=datetime(2026, 1, 1),  # deliberately naive
            postings=(debit(FUNDING, 1), credit(SUSPENSE_UNOWNED, 1)),
        )


def test_only_reversals_name_a_reversed_entry() -> None:
    legs = (debit(FUNDING, 1), credit(SUSPENSE_UNOWNED, 1))
    with pytest.raises(InvalidEntryError):
        JournalEntry(
            business_key="k", kind=EntryKind.CREDIT, occurred_at=T0, postings=legs, reverses="x"
        )
    with pytest.raises(InvalidEntryError):
        JournalEntry(business_key="k", kind=EntryKind.REVERSAL, occurred_at=T0, postings=legs)


def test_reversal_negates_every_posting_and_keeps_occurred_at() -> None:
    original = entry(
        debit(FUNDING, 100),
        credit(branch_revenue("B1"), 70),
        credit(HQ_ONLINE_REVENUE, 30),
        key="revenue:EV-1",
    )
    mirror = reversal(original)
    assert mirror.kind is EntryKind.REVERSAL
    assert mirror.business_key == reversal_key("revenue:EV-1") == "reversal:revenue:EV-1"
    assert mirror.reverses == "revenue:EV-1"
    assert mirror.occurred_at == original.occurred_at
    combined = balances(original.postings + mirror.postings)
    assert all(amount == 0 for amount in combined.values())


def test_a_reversal_cannot_be_reversed() -> None:
    original = entry(debit(FUNDING, 5), credit(SUSPENSE_UNOWNED, 5))
    with pytest.raises(ReversalError):
        reversal(reversal(original))


@PROPERTY
@given(
    st.lists(
        st.integers(min_value=-(10**12), max_value=10**12).filter(bool), min_size=1, max_size=6
    )
)
def test_entries_balance_exactly_when_their_postings_sum_to_zero(amounts: list[int]) -> None:
    legs = [debit(branch_revenue(f"B{i}"), amount) for i, amount in enumerate(amounts)]
    residual = -sum(amounts)
    if residual:
        legs.append(debit(SUSPENSE_UNOWNED, residual))
    if len(legs) < 2:
        return
    built = entry(*legs)
    assert sum(p.amount for p in built.postings) == 0
    assert sum(p.debit for p in built.postings) == sum(p.credit for p in built.postings)
    with pytest.raises(UnbalancedEntryError):
        entry(*legs[:-1], Posting(legs[-1].account, legs[-1].amount + 1 or 2))
