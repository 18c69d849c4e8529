"""The crediting rule, as a pure function.

Revenue is credited to the branch that owned the customer at ``occurred_at``: the clearing
account of the revenue type is debited and the owning branch (and, under a split policy, HQ
online) credited. Without an owner the whole amount goes to ``suspense:unowned``; it is
never dropped, and a later adjustment entry moves it out. Refunds (negative amounts) produce
the mirror postings, split by the same rule. The acquiring channel's overlay credit is booked
in KPI points against ``kpi:issued:<type>``, in the same entry but a separate unit, so the
money legs and the point legs each balance on their own. The overlay does not depend on the
owner: the channel acquired the customer either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.accounts import (
    HQ_ONLINE_REVENUE,
    SUSPENSE_UNOWNED,
    branch_revenue,
    channel_kpi,
    clearing,
    kpi_issued,
)
from ledger.entries import EntryKind, JournalEntry, Posting, credit, debit
from ledger.errors import InvalidPolicyError
from ledger.policy import SplitPolicy
from ledger.revenue import RevenueEvent
from ledger.splits import BPS_TOTAL, apply_bps, split_amount


@dataclass(frozen=True, slots=True)
class Crediting:
    """The entry for one revenue event plus what it was derived from (for audit)."""

    entry: JournalEntry
    owner_branch_code: str | None
    policy_id: str | None
    kpi_points: int

    @property
    def to_suspense(self) -> bool:
        return self.owner_branch_code is None


def revenue_entry_key(event_id: str) -> str:
    """The business key of the crediting entry of ``event_id`` (one entry per event)."""
    return f"revenue:{event_id}"


def credit_revenue(
    *,
    event: RevenueEvent,
    owner_branch_code: str | None,
    policy: SplitPolicy | None,
    acquiring_channel: str | None,
) -> Crediting:
    """Build the crediting entry of ``event``.

    ``owner_branch_code`` is the owner at ``event.occurred_at`` (``None``: no owner);
    ``policy`` is the policy in force then (``None``: 100% to the branch, one KPI point per
    fen); ``acquiring_channel`` (``None``: no overlay) is usually ``event.channel`` or else
    the lead's channel, as the service decides.
    """
    _check_policy(policy, event=event)
    money_legs = _money_postings(event, owner_branch_code=owner_branch_code, policy=policy)
    overlay_bps = policy.overlay_bps if policy is not None else BPS_TOTAL
    points = apply_bps(event.amount_fen, bps=overlay_bps) if acquiring_channel else 0
    kpi_legs: tuple[Posting, ...] = ()
    if acquiring_channel and points:
        kpi_legs = (
            debit(kpi_issued(event.revenue_type), points),
            credit(channel_kpi(acquiring_channel), points),
        )
    entry = JournalEntry(
        business_key=revenue_entry_key(event.event_id),
        kind=EntryKind.CREDIT,
        occurred_at=event.occurred_at,
        postings=money_legs + kpi_legs,
        event_id=event.event_id,
        memo=_memo(event, policy),
    )
    return Crediting(
        entry=entry,
        owner_branch_code=owner_branch_code,
        policy_id=policy.policy_id if policy is not None else None,
        kpi_points=points,
    )


def _memo(event: RevenueEvent, policy: SplitPolicy | None) -> str:
    memo = f"{event.revenue_type} of {event.external_id}"
    return memo if policy is None else f"{memo} under policy {policy.policy_id}"


def _check_policy(policy: SplitPolicy | None, *, event: RevenueEvent) -> None:
    if policy is None:
        return
    if policy.revenue_type is not event.revenue_type:
        raise InvalidPolicyError(
            f"policy {policy.policy_id!r} is for {policy.revenue_type}, "
            f"event {event.event_id!r} is {event.revenue_type}"
        )
    if not policy.in_force_at(event.occurred_at):
        raise InvalidPolicyError(
            f"policy {policy.policy_id!r} is not in force at {event.occurred_at.isoformat()}"
        )


def _money_postings(
    event: RevenueEvent, *, owner_branch_code: str | None, policy: SplitPolicy | None
) -> tuple[Posting, ...]:
    funding = debit(clearing(event.revenue_type), event.amount_fen)
    if owner_branch_code is None:
        return (funding, credit(SUSPENSE_UNOWNED, event.amount_fen))
    branch = branch_revenue(owner_branch_code)
    weights = {branch.code: BPS_TOTAL, HQ_ONLINE_REVENUE.code: 0}
    if policy is not None:
        weights = {branch.code: policy.branch_bps, HQ_ONLINE_REVENUE.code: policy.hq_online_bps}
    accounts = {branch.code: branch, HQ_ONLINE_REVENUE.code: HQ_ONLINE_REVENUE}
    parts = split_amount(event.amount_fen, weights=weights)
    shares = tuple(credit(accounts[code], part) for code, part in parts.items() if part)
    return (funding, *shares)
