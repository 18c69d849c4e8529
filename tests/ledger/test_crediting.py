"""Crediting revenue to the owning branch, HQ online, suspense and the channel overlay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounts import AccountKind
from ledger.crediting import credit_revenue, revenue_entry_key
from ledger.entries import EntryKind, JournalEntry, reversal
from ledger.errors import InvalidPolicyError
from ledger.money import Unit
from ledger.policy import SplitPolicy
from ledger.reconciliation import reconcile
from ledger.revenue import RevenueType

from .builders import PROPERTY, T0, make_event

FEE = RevenueType.PRODUCT_FEE


def split(
    branch_bps: int, *, overlay_bps: int = 10_000, revenue_type: RevenueType = FEE
) -> SplitPolicy:
    return SplitPolicy(
        policy_id="P70",
        revenue_type=revenue_type,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_to=None,
        branch_bps=branch_bps,
        hq_online_bps=10_000 - branch_bps,
        overlay_bps=overlay_bps,
    )


def legs(entry: JournalEntry) -> dict[str, int]:
    return {p.account.code: p.amount for p in entry.postings}


def test_revenue_goes_wholly_to_the_owning_branch_by_default() -> None:
    result = credit_revenue(
        event=make_event(), owner_branch_code="SH01", policy=None, acquiring_channel=None
    )
    assert legs(result.entry) == {
        "clearing:brokerage_commission": 10_000,
        "branch:SH01:revenue": -10_000,
    }
    assert result.entry.business_key == revenue_entry_key("EV-1") == "revenue:EV-1"
    assert result.entry.kind is EntryKind.CREDIT
    assert result.entry.event_id == "EV-1"
    assert result.entry.occurred_at == T0
    assert not result.to_suspense
    assert result.policy_id is None


def test_a_policy_splits_between_branch_and_hq_online() -> None:
    event = make_event(amount_fen=1_001, revenue_type=FEE)
    result = credit_revenue(
        event=event, owner_branch_code="SH01", policy=split(7_000), acquiring_channel=None
    )
    # 700.7 / 300.3 fen: the larger remainder (branch, 0.7) takes the spare fen.
    assert legs(result.entry) == {
        "clearing:product_fee": 1_001,
        "branch:SH01:revenue": -701,
        "hq:online:revenue": -300,
    }
    assert result.policy_id == "P70"


def test_an_even_split_tie_goes_to_the_branch_by_account_code() -> None:
    event = make_event(amount_fen=1, revenue_type=FEE)
    result = credit_revenue(
        event=event, owner_branch_code="Z9", policy=split(5_000), acquiring_channel=None
    )
    assert legs(result.entry) == {"clearing:product_fee": 1, "branch:Z9:revenue": -1}


def test_revenue_without_an_owner_goes_to_suspense() -> None:
    result = credit_revenue(
        event=make_event(), owner_branch_code=None, policy=None, acquiring_channel=None
    )
    assert legs(result.entry) == {
        "clearing:brokerage_commission": 10_000,
        "suspense:unowned": -10_000,
    }
    assert result.to_suspense


def test_a_refund_produces_the_mirror_postings() -> None:
    event = make_event(amount_fen=-1_001, revenue_type=FEE)
    result = credit_revenue(
        event=event, owner_branch_code="SH01", policy=split(7_000), acquiring_channel="app"
    )
    assert legs(result.entry) == {
        "clearing:product_fee": -1_001,
        "branch:SH01:revenue": 701,
        "hq:online:revenue": 300,
        "kpi:issued:product_fee": -1_001,
        "channel:app:kpi": 1_001,
    }


def test_the_channel_overlay_is_booked_in_kpi_points() -> None:
    event = make_event(amount_fen=999, revenue_type=FEE)
    result = credit_revenue(
        event=event,
        owner_branch_code="SH01",
        policy=split(7_000, overlay_bps=5_000),
        acquiring_channel="app",
    )
    kpi_legs = {p.account.code: p.amount for p in result.entry.postings if p.unit is Unit.KPI}
    assert kpi_legs == {"kpi:issued:product_fee": 500, "channel:app:kpi": -500}
    assert result.kpi_points == 500
    assert result.entry.total(Unit.CNY) == 999


def test_the_overlay_is_credited_even_when_revenue_is_in_suspense() -> None:
    result = credit_revenue(
        event=make_event(), owner_branch_code=None, policy=None, acquiring_channel="app"
    )
    assert legs(result.entry)["channel:app:kpi"] == -10_000


def test_a_zero_overlay_adds_no_kpi_legs() -> None:
    event = make_event(revenue_type=FEE)
    result = credit_revenue(
        event=event,
        owner_branch_code="B",
        policy=split(10_000, overlay_bps=0),
        acquiring_channel="app",
    )
    assert result.entry.units() == {Unit.CNY}
    assert result.kpi_points == 0


def test_a_policy_for_another_type_or_time_is_refused() -> None:
    event = make_event(revenue_type=RevenueType.OTHER)
    with pytest.raises(InvalidPolicyError):
        credit_revenue(
            event=event, owner_branch_code="B", policy=split(5_000), acquiring_channel=None
        )
    early = make_event(revenue_type=FEE, occurred_at=datetime(2025, 12, 31, tzinfo=UTC))
    with pytest.raises(InvalidPolicyError):
        credit_revenue(
            event=early, owner_branch_code="B", policy=split(5_000), acquiring_channel=None
        )


def test_reversing_a_credit_nets_every_account_to_zero() -> None:
    result = credit_revenue(
        event=make_event(revenue_type=FEE),
        owner_branch_code="B",
        policy=split(3_333),
        acquiring_channel="app",
    )
    mirror = reversal(result.entry)
    assert {code: -amount for code, amount in legs(mirror).items()} == legs(result.entry)


AMOUNT = st.integers(min_value=-(10**12), max_value=10**12).filter(bool)
OWNER = st.one_of(st.none(), st.sampled_from(["A1", "B-2", "zz_9"]))
BPS = st.integers(min_value=0, max_value=10_000)


@PROPERTY
@given(AMOUNT, OWNER, st.one_of(st.none(), BPS), st.one_of(st.none(), st.just("app")))
def test_every_fen_lands_in_branches_hq_or_suspense(
    amount: int, owner: str | None, branch_bps: int | None, channel: str | None
) -> None:
    event = make_event(amount_fen=amount, revenue_type=FEE)
    policy = None if branch_bps is None else split(branch_bps)
    result = credit_revenue(
        event=event, owner_branch_code=owner, policy=policy, acquiring_channel=channel
    )
    check = reconcile(events=[event], entries=[result.entry])
    assert check.balanced
    assert check.credited_fen == amount
    if owner is None:
        assert check.suspense_fen == amount
    kinds = {p.account.kind for p in result.entry.postings if p.unit is Unit.CNY}
    assert AccountKind.CLEARING in kinds


def test_reconciliation_reports_a_missing_credit() -> None:
    events = [make_event(event_id="a"), make_event(event_id="b", amount_fen=-300)]
    entries = [
        credit_revenue(
            event=events[0], owner_branch_code="B", policy=None, acquiring_channel=None
        ).entry
    ]
    check = reconcile(events=events, entries=entries)
    assert (check.imported_fen, check.branches_fen, check.difference_fen) == (9_700, 10_000, -300)
    assert not check.balanced


def test_the_policy_is_recorded_even_when_revenue_goes_to_suspense() -> None:
    event = make_event(revenue_type=FEE)
    result = credit_revenue(
        event=event,
        owner_branch_code=None,
        policy=split(7_000, overlay_bps=0),
        acquiring_channel="app",
    )
    assert result.policy_id == "P70"
    assert result.to_suspense
    assert result.kpi_points == 0


def test_the_memo_names_the_policy_that_split_the_revenue() -> None:
    event = make_event(revenue_type=FEE)
    under = credit_revenue(
        event=event, owner_branch_code="SH01", policy=split(7_000), acquiring_channel=None
    )
    default = credit_revenue(
        event=event, owner_branch_code="SH01", policy=None, acquiring_channel=None
    )
    assert under.entry.memo.endswith("under policy P70")
    assert "policy" not in default.entry.memo
