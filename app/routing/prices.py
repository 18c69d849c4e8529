"""The branch prices of a round: stored when it is solved, read back for routing.

The exact solver proves a plan optimal with one price per branch (`Plan.branch_price_km`);
storing them (a row per branch) lets routing read the last committed round's prices in
O(branches). A round without exact prices stores none, and routing after it prices every
branch 0: the nearest eligible branch with room.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from allocation.plan import Plan
from app.bulk import plain_rows
from app.tables import AllocationRound, RoundBranchPrice


@dataclass(frozen=True)
class RoundPrices:
    """What routing needs from the last committed round (a branch not listed costs 0)."""

    round_id: int
    max_distance_km: float | None
    exact: bool  # False: the round stored no prices, every branch is priced 0
    price_km: dict[int, float] = field(default_factory=dict)  # inf: no place can be freed

    def of(self, branch_id: int) -> float:
        return self.price_km.get(branch_id, 0.0)


def store_prices(session: Session, *, round_id: int, plan: Plan, branch_ids: list[int]) -> None:
    prices = plan.branch_price_km
    if prices is None:
        return
    session.add_all(
        RoundBranchPrice(
            round_id=round_id,
            branch_id=branch_id,
            price_km=float(price) if math.isfinite(price) else None,
        )
        for branch_id, price in zip(branch_ids, prices.tolist(), strict=True)
    )
    session.flush()


_LAST_COMMITTED = (
    select(AllocationRound.id, AllocationRound.max_distance_km)
    .where(AllocationRound.status == "committed")
    .order_by(col(AllocationRound.committed_at).desc(), col(AllocationRound.id).desc())
    .limit(1)
    .subquery()
)
# Built once (a routed intake runs it): the round and its price rows, none for a round
# without exact prices.
_LAST_PRICES = (
    sa_select(_LAST_COMMITTED.c.id, _LAST_COMMITTED.c.max_distance_km,
              col(RoundBranchPrice.branch_id), col(RoundBranchPrice.price_km))
    .select_from(_LAST_COMMITTED)
    .outerjoin(RoundBranchPrice, col(RoundBranchPrice.round_id) == _LAST_COMMITTED.c.id)
)  # fmt: skip


def last_committed_prices(session: Session) -> RoundPrices | None:
    """The prices of the round committed last; None before any round was committed."""
    rows = plain_rows(session, _LAST_PRICES)  # driver tuples: no ORM object per branch
    if not rows:
        return None
    round_id, max_distance_km = rows[0][0], rows[0][1]
    prices = {
        branch_id: math.inf if km is None else km
        for _, _, branch_id, km in rows
        if branch_id is not None
    }
    return RoundPrices(
        round_id=round_id, max_distance_km=max_distance_km, exact=bool(prices), price_km=prices
    )
