"""Split policies: how a revenue type is shared between the owning branch and HQ online.

A policy is effective-dated on the half-open interval ``[valid_from, valid_to)`` (``valid_to``
``None`` means open-ended) and belongs to one revenue type. Shares are integer basis points
that total exactly 10,000; anything else is refused, never normalised. At any instant at most
one policy per revenue type is in force: a :class:`PolicyBook` refuses overlapping intervals,
so choosing the policy for an event is unambiguous. With no policy in force the default rule
applies: 100% to the owning branch.

``overlay_bps`` sets the channel's KPI overlay (a separate unit, not a share of the money):
points = amount in fen x overlay_bps / 10,000. The default 10,000 gives one point per fen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from coded_messages import message
from ledger.errors import InvalidPolicyError, OverlappingPoliciesError
from ledger.money import require_int
from ledger.revenue import RevenueType, require_aware, require_id
from ledger.splits import BPS_TOTAL


@dataclass(frozen=True, slots=True)
class SplitPolicy:
    """One effective-dated split rule for one revenue type."""

    policy_id: str
    revenue_type: RevenueType
    valid_from: datetime
    valid_to: datetime | None
    branch_bps: int
    hq_online_bps: int
    overlay_bps: int = BPS_TOTAL

    def __post_init__(self) -> None:
        try:
            require_id(self.policy_id, what="policy_id")
        except ValueError as exc:
            raise InvalidPolicyError(str(exc)) from None
        if not isinstance(self.revenue_type, RevenueType):
            raise InvalidPolicyError("revenue_type must be a RevenueType")
        require_aware(self.valid_from, what="valid_from")
        if self.valid_to is not None and require_aware(self.valid_to, what="valid_to") <= (
            self.valid_from
        ):
            raise InvalidPolicyError(f"policy {self.policy_id!r}: valid_to <= valid_from")
        shares = (self.branch_bps, self.hq_online_bps, self.overlay_bps)
        if any(require_int(bps, what="bps") < 0 for bps in shares):
            raise InvalidPolicyError(f"policy {self.policy_id!r}: negative basis points")
        if self.branch_bps + self.hq_online_bps != BPS_TOTAL:
            total = self.branch_bps + self.hq_online_bps
            raise InvalidPolicyError(
                message("ledger.policy_shares", policy=self.policy_id, total=total,
                        expected=BPS_TOTAL)
            )  # fmt: skip

    @property
    def is_default_rule(self) -> bool:
        """Whether this policy credits exactly as having no policy: all to the branch, one
        KPI point per fen (finance may store it to end an earlier split)."""
        return self.branch_bps == BPS_TOTAL and self.overlay_bps == BPS_TOTAL

    def in_force_at(self, instant: datetime) -> bool:
        require_aware(instant, what="instant")
        return self.valid_from <= instant and (self.valid_to is None or instant < self.valid_to)


def _overlap(first: SplitPolicy, second: SplitPolicy) -> bool:
    """Whether two half-open intervals share an instant (touching ends do not)."""
    first_before = first.valid_to is not None and first.valid_to <= second.valid_from
    second_before = second.valid_to is not None and second.valid_to <= first.valid_from
    return not (first_before or second_before)


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """A consistent set of policies: unique ids, no two in force together per revenue type."""

    policies: tuple[SplitPolicy, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", tuple(self.policies))
        ids = [p.policy_id for p in self.policies]
        if len(set(ids)) != len(ids):
            raise InvalidPolicyError("policy ids must be unique")
        for index, first in enumerate(self.policies):
            for second in self.policies[index + 1 :]:
                if first.revenue_type is second.revenue_type and _overlap(first, second):
                    raise OverlappingPoliciesError(
                        message("ledger.policies_overlap", first=first.policy_id,
                                second=second.policy_id, revenue_type=first.revenue_type.value)
                    )  # fmt: skip

    def with_policy(self, policy: SplitPolicy) -> PolicyBook:
        """A new book with ``policy`` added, refusing it if it overlaps an existing one."""
        return PolicyBook((*self.policies, policy))

    def in_force(self, *, revenue_type: RevenueType, at: datetime) -> SplitPolicy | None:
        """The policy for ``revenue_type`` in force at ``at``, or ``None`` (default rule)."""
        return select_policy(self.policies, revenue_type=revenue_type, at=at)


def select_policy(
    policies: Iterable[SplitPolicy], *, revenue_type: RevenueType, at: datetime
) -> SplitPolicy | None:
    """The single policy in force, or ``None``; overlapping candidates are an error."""
    matches = [p for p in policies if p.revenue_type is revenue_type and p.in_force_at(at)]
    if len(matches) > 1:
        names = ", ".join(sorted(p.policy_id for p in matches))
        raise OverlappingPoliciesError(f"several policies in force for {revenue_type}: {names}")
    return matches[0] if matches else None
