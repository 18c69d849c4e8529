"""Adjustments post only the difference between booked and correct crediting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.adjustments import adjustment_key, difference_entry
from ledger.crediting import credit_revenue
from ledger.entries import EntryKind, balances
from ledger.policy import SplitPolicy
from ledger.revenue import RevenueType

from .builders import PROPERTY, make_event


def test_releasing_suspense_moves_the_amount_to_the_owner() -> None:
    event = make_event(amount_fen=500)
    booked = credit_revenue(
        event=event, owner_branch_code=None, policy=None, acquiring_channel="app"
    )
    target = credit_revenue(
        event=event, owner_branch_code="SH01", policy=None, acquiring_channel="app"
    )
    adjustment = difference_entry(
        booked=booked.entry.postings,
        target=target.entry.postings,
        business_key=adjustment_key(event_id=event.event_id, revision=1),
        occurred_at=event.occurred_at,
        event_id=event.event_id,
    )
    assert adjustment is not None
    assert adjustment.kind is EntryKind.ADJUSTMENT
    assert adjustment.business_key == "adjustment:EV-1:1"
    assert {p.account.code: p.amount for p in adjustment.postings} == {
        "branch:SH01:revenue": -500,
        "suspense:unowned": 500,
    }


def test_no_adjustment_when_nothing_changes() -> None:
    entry = credit_revenue(
        event=make_event(), owner_branch_code="B", policy=None, acquiring_channel=None
    ).entry
    assert (
        difference_entry(
            booked=entry.postings,
            target=entry.postings,
            business_key="k",
            occurred_at=entry.occurred_at,
        )
        is None
    )


def test_revisions_start_at_one() -> None:
    with pytest.raises(ValueError, match="revision"):
        adjustment_key(event_id="E", revision=0)


OWNERS = st.one_of(st.none(), st.sampled_from(["A", "B"]))


@PROPERTY
@given(
    st.integers(min_value=-(10**9), max_value=10**9).filter(bool),
    OWNERS,
    OWNERS,
    st.integers(0, 10_000),
)
def test_booked_plus_adjustment_equals_the_correct_crediting(
    amount: int, first: str | None, second: str | None, branch_bps: int
) -> None:
    event = make_event(amount_fen=amount, revenue_type=RevenueType.OTHER)
    policy = SplitPolicy(
        policy_id="P",
        revenue_type=RevenueType.OTHER,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_to=None,
        branch_bps=branch_bps,
        hq_online_bps=10_000 - branch_bps,
    )
    booked = credit_revenue(
        event=event, owner_branch_code=first, policy=None, acquiring_channel=None
    ).entry
    target = credit_revenue(
        event=event, owner_branch_code=second, policy=policy, acquiring_channel=None
    ).entry
    adjustment = difference_entry(
        booked=booked.postings,
        target=target.postings,
        business_key="k",
        occurred_at=event.occurred_at,
    )
    combined = booked.postings + (adjustment.postings if adjustment else ())
    wanted = dict(balances(target.postings).items())
    assert {a: v for a, v in balances(combined).items() if v} == wanted
