"""Effective-dated split policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.errors import InvalidPolicyError, InvalidTimestampError, OverlappingPoliciesError
from ledger.policy import PolicyBook, SplitPolicy, select_policy
from ledger.revenue import RevenueType

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
FEE = RevenueType.PRODUCT_FEE


def policy(
    policy_id: str = "P1",
    *,
    valid_from: datetime = JAN,
    valid_to: datetime | None = FEB,
    branch_bps: int = 7_000,
    hq_online_bps: int = 3_000,
    revenue_type: RevenueType = FEE,
) -> SplitPolicy:
    return SplitPolicy(
        policy_id=policy_id,
        revenue_type=revenue_type,
        valid_from=valid_from,
        valid_to=valid_to,
        branch_bps=branch_bps,
        hq_online_bps=hq_online_bps,
    )


@pytest.mark.parametrize(("branch", "hq"), [(7_000, 2_999), (7_000, 3_001), (10_001, -1), (0, 0)])
def test_shares_must_total_exactly_10000_basis_points(branch: int, hq: int) -> None:
    with pytest.raises(InvalidPolicyError):
        policy(branch_bps=branch, hq_online_bps=hq)


def test_all_to_hq_or_all_to_branch_is_allowed() -> None:
    assert policy(branch_bps=0, hq_online_bps=10_000).hq_online_bps == 10_000
    assert policy(branch_bps=10_000, hq_online_bps=0).branch_bps == 10_000


def test_an_empty_or_inverted_interval_is_refused() -> None:
    with pytest.raises(InvalidPolicyError):
        policy(valid_from=FEB, valid_to=FEB)
    with pytest.raises(InvalidPolicyError):
        policy(valid_from=FEB, valid_to=JAN)


def test_naive_validity_bounds_are_refused() -> None:
    with pytest.raises(InvalidTimestampError):
        policy(valid_from=datetime(2026, 1, 1))  # deliberately naive


def test_the_interval_is_half_open() -> None:
    rule = policy()
    assert rule.in_force_at(JAN)
    assert rule.in_force_at(FEB - timedelta(microseconds=1))
    assert not rule.in_force_at(FEB)
    assert not rule.in_force_at(JAN - timedelta(microseconds=1))


def test_the_policy_in_force_is_chosen_by_type_and_instant() -> None:
    book = PolicyBook(
        (
            policy("jan"),
            policy("feb", valid_from=FEB, valid_to=None, branch_bps=10_000, hq_online_bps=0),
            policy("other-type", revenue_type=RevenueType.ADVISORY_FEE),
        )
    )
    assert book.in_force(revenue_type=FEE, at=JAN + timedelta(days=3)).policy_id == "jan"  # type: ignore[union-attr]
    assert book.in_force(revenue_type=FEE, at=FEB).policy_id == "feb"  # type: ignore[union-attr]
    assert book.in_force(revenue_type=FEE, at=JAN - timedelta(days=1)) is None
    assert book.in_force(revenue_type=RevenueType.MARGIN_INTEREST, at=JAN) is None


def test_touching_policies_do_not_overlap() -> None:
    book = PolicyBook((policy("a"), policy("b", valid_from=FEB, valid_to=MAR)))
    assert len(book.policies) == 2


@pytest.mark.parametrize(
    ("valid_from", "valid_to"),
    [
        (JAN, FEB),
        (JAN - timedelta(days=1), JAN + timedelta(days=1)),
        (FEB - timedelta(seconds=1), None),
    ],
)
def test_overlapping_policies_for_one_type_are_refused(
    valid_from: datetime, valid_to: datetime | None
) -> None:
    book = PolicyBook((policy("a"),))
    with pytest.raises(OverlappingPoliciesError):
        book.with_policy(policy("b", valid_from=valid_from, valid_to=valid_to))


def test_open_ended_policies_overlap_anything_later() -> None:
    with pytest.raises(OverlappingPoliciesError):
        PolicyBook((policy("a", valid_to=None), policy("b", valid_from=MAR, valid_to=None)))


def test_overlap_across_types_is_fine_and_ids_are_unique() -> None:
    PolicyBook((policy("a"), policy("b", revenue_type=RevenueType.OTHER)))
    with pytest.raises(InvalidPolicyError):
        PolicyBook((policy("a"), policy("a", revenue_type=RevenueType.OTHER)))


def test_select_policy_refuses_ambiguity_in_unchecked_lists() -> None:
    with pytest.raises(OverlappingPoliciesError):
        select_policy([policy("a"), policy("b")], revenue_type=FEE, at=JAN)


def test_only_all_to_the_branch_with_one_point_per_fen_is_the_default_rule() -> None:
    assert policy(branch_bps=10_000, hq_online_bps=0).is_default_rule
    assert not policy(branch_bps=9_999, hq_online_bps=1).is_default_rule
    overlay_halved = SplitPolicy(
        policy_id="P2", revenue_type=FEE, valid_from=JAN, valid_to=None, branch_bps=10_000,
        hq_online_bps=0, overlay_bps=5_000,
    )  # fmt: skip
    assert not overlay_halved.is_default_rule
