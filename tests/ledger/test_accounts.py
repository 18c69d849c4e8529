"""The chart of accounts."""

from __future__ import annotations

import pytest

from ledger.accounts import (
    HQ_ONLINE_REVENUE,
    SUSPENSE_UNOWNED,
    Account,
    AccountKind,
    Side,
    branch_revenue,
    channel_kpi,
    clearing,
    kpi_issued,
    parse_account,
)
from ledger.errors import InvalidAccountError
from ledger.money import Unit
from ledger.revenue import RevenueType


def test_spec_account_codes_are_recognised_with_unit_and_normal_side() -> None:
    branch = parse_account("branch:SH-001:revenue")
    assert (branch.kind, branch.unit, branch.normal_side) == (
        AccountKind.BRANCH_REVENUE,
        Unit.CNY,
        Side.CREDIT,
    )
    assert branch.branch_code == "SH-001"
    assert HQ_ONLINE_REVENUE.normal_side is Side.CREDIT
    assert HQ_ONLINE_REVENUE.branch_code is None
    assert SUSPENSE_UNOWNED.kind is AccountKind.SUSPENSE
    funding = clearing(RevenueType.MARGIN_INTEREST)
    assert funding.code == "clearing:margin_interest"
    assert funding.normal_side is Side.DEBIT
    assert funding.unit is Unit.CNY


def test_kpi_overlay_accounts_hold_kpi_points() -> None:
    channel = channel_kpi("wechat_mini")
    assert channel.code == "channel:wechat_mini:kpi"
    assert (channel.unit, channel.normal_side) == (Unit.KPI, Side.CREDIT)
    issued = kpi_issued(RevenueType.PRODUCT_FEE)
    assert (issued.code, issued.unit, issued.normal_side) == (
        "kpi:issued:product_fee",
        Unit.KPI,
        Side.DEBIT,
    )


def test_chinese_channel_names_are_allowed() -> None:
    assert channel_kpi("微信小程序").code == "channel:微信小程序:kpi"


@pytest.mark.parametrize(
    "code",
    [
        "branch::revenue",
        "branch:SH 001:revenue",
        "branch:" + "A" * 33 + ":revenue",
        "branch:SH:001:revenue",
        "clearing:bonus",
        "hq:offline:revenue",
        "suspense:other",
        "channel:a:b:kpi",
        "kpi:issued:bonus",
        "=cmd|' /C calc'!A0",
        "",
    ],
)
def test_codes_outside_the_chart_are_refused(code: str) -> None:
    with pytest.raises(InvalidAccountError):
        parse_account(code)


def test_invalid_branch_and_channel_names_are_refused() -> None:
    with pytest.raises(InvalidAccountError):
        branch_revenue("SH:1")
    with pytest.raises(InvalidAccountError):
        channel_kpi("")


def test_accounts_compare_and_sort_by_code() -> None:
    assert Account("branch:B:revenue") == branch_revenue("B")
    assert sorted([HQ_ONLINE_REVENUE, branch_revenue("Z")])[0] == branch_revenue("Z")
    assert len({branch_revenue("B"), Account("branch:B:revenue")}) == 1
