"""The chart of accounts.

Account codes are stable strings that finance builds reports on (contract §7), so they are parsed
and validated rather than concatenated ad hoc. Each account holds exactly one unit and has a
normal side, the side its balance grows on:

=========================  ====  ======  ================================================
code                       unit  normal  meaning
=========================  ====  ======  ================================================
``branch:<CODE>:revenue``  CNY   credit  revenue credited to a branch
``hq:online:revenue``      CNY   credit  the HQ online department's share
``suspense:unowned``       CNY   credit  revenue whose customer had no owner
``clearing:<type>``        CNY   debit   funding side of each revenue type
``channel:<NAME>:kpi``     KPI   credit  overlay points of an acquiring channel
``kpi:issued:<type>``      KPI   debit   funding side of the overlay points
=========================  ====  ======  ================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.errors import InvalidAccountError
from ledger.money import Unit
from ledger.revenue import CHANNEL_NAME, RevenueType

BRANCH_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_REVENUE_TYPES = frozenset(t.value for t in RevenueType)


class AccountKind(StrEnum):
    BRANCH_REVENUE = "branch_revenue"
    HQ_REVENUE = "hq_revenue"
    SUSPENSE = "suspense"
    CLEARING = "clearing"
    CHANNEL_KPI = "channel_kpi"
    KPI_ISSUED = "kpi_issued"


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


_KIND_UNIT_SIDE: dict[AccountKind, tuple[Unit, Side]] = {
    AccountKind.BRANCH_REVENUE: (Unit.CNY, Side.CREDIT),
    AccountKind.HQ_REVENUE: (Unit.CNY, Side.CREDIT),
    AccountKind.SUSPENSE: (Unit.CNY, Side.CREDIT),
    AccountKind.CLEARING: (Unit.CNY, Side.DEBIT),
    AccountKind.CHANNEL_KPI: (Unit.KPI, Side.CREDIT),
    AccountKind.KPI_ISSUED: (Unit.KPI, Side.DEBIT),
}

# Kinds that receive a share of revenue: what reconciliation adds up against imports.
REVENUE_KINDS = frozenset(
    {AccountKind.BRANCH_REVENUE, AccountKind.HQ_REVENUE, AccountKind.SUSPENSE}
)


@dataclass(frozen=True, slots=True, order=True)
class Account:
    """A validated account. Equality and ordering are by ``code`` only."""

    code: str
    kind: AccountKind = field(init=False, compare=False)
    unit: Unit = field(init=False, compare=False)
    normal_side: Side = field(init=False, compare=False)
    branch_code: str | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        kind, branch_code = _classify(self.code)
        unit, side = _KIND_UNIT_SIDE[kind]
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "normal_side", side)
        object.__setattr__(self, "branch_code", branch_code)

    def __str__(self) -> str:
        return self.code


def _classify(code: object) -> tuple[AccountKind, str | None]:
    """Return the kind of ``code`` and its branch code, or raise InvalidAccountError."""
    if not isinstance(code, str):
        raise InvalidAccountError("account code must be a string")
    parts = code.split(":")
    match parts:
        case ["branch", branch, "revenue"] if BRANCH_CODE.fullmatch(branch):
            return AccountKind.BRANCH_REVENUE, branch
        case ["hq", "online", "revenue"]:
            return AccountKind.HQ_REVENUE, None
        case ["suspense", "unowned"]:
            return AccountKind.SUSPENSE, None
        case ["clearing", kind] if kind in _REVENUE_TYPES:
            return AccountKind.CLEARING, None
        case ["channel", name, "kpi"] if CHANNEL_NAME.fullmatch(name):
            return AccountKind.CHANNEL_KPI, None
        case ["kpi", "issued", kind] if kind in _REVENUE_TYPES:
            return AccountKind.KPI_ISSUED, None
    raise InvalidAccountError(f"{code!r} is not an account of the chart of accounts")


def parse_account(code: str) -> Account:
    """The account with this code, or :class:`InvalidAccountError`."""
    return Account(code)


def branch_revenue(branch_code: str) -> Account:
    if not isinstance(branch_code, str) or not BRANCH_CODE.fullmatch(branch_code):
        raise InvalidAccountError(f"invalid branch code {branch_code!r}")
    return Account(f"branch:{branch_code}:revenue")


def clearing(revenue_type: RevenueType) -> Account:
    return Account(f"clearing:{RevenueType(revenue_type).value}")


def channel_kpi(channel: str) -> Account:
    if not isinstance(channel, str) or not CHANNEL_NAME.fullmatch(channel):
        raise InvalidAccountError(f"invalid channel name {channel!r}")
    return Account(f"channel:{channel}:kpi")


def kpi_issued(revenue_type: RevenueType) -> Account:
    return Account(f"kpi:issued:{RevenueType(revenue_type).value}")


HQ_ONLINE_REVENUE = Account("hq:online:revenue")
SUSPENSE_UNOWNED = Account("suspense:unowned")
