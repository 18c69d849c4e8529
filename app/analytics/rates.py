"""Conversion rates for the expected-value objective (issue 15.4), learned from the funnel.

Per (branch, tier, channel) cell of history: leads assigned, leads converted, revenue (fen).
Small cells are noisy, so each rate is shrunk toward its tier's mean (empirical Bayes,
beta-binomial): with the tier's pooled rate p_t as a Beta(k p_t, k (1 - p_t)) prior,

    p = (converted + k p_t) / (assigned + k)             k = prior_leads (default 20)

a cell with no history gets p_t, one with thousands of leads keeps its own rate. The mean
revenue of a conversion is shrunk the same way toward the tier's r_t, counted in conversions:

    r = (revenue + m r_t) / (converted + m)              m = prior_conversions (default 5)

Trials are assigned leads (a branch that never calls its leads should look worse). The result
also carries one (*, tier, *) row per tier, the rate of a branch or channel with no history.
Deterministic: rows sorted, revenue rounded half up to whole fen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import func, select
from sqlmodel import Session, col

from allocation.value import ANY, RateSpec
from app.analytics.funnel import count_of, revenue_by_lead, was_assigned, was_converted
from app.tables import Branch, Lead

PRIOR_LEADS = 20
PRIOR_CONVERSIONS = 5


@dataclass(frozen=True, slots=True)
class HistoryCell:
    branch_code: str
    tier: str
    channel: str
    assigned: int
    converted: int
    revenue_fen: int


@dataclass(frozen=True, slots=True)
class _Pooled:
    assigned: int = 0
    converted: int = 0
    revenue_fen: int = 0

    def plus(self, cell: HistoryCell) -> _Pooled:
        return _Pooled(
            self.assigned + cell.assigned,
            self.converted + cell.converted,
            self.revenue_fen + cell.revenue_fen,
        )

    @property
    def rate(self) -> Fraction:
        return Fraction(self.converted, self.assigned) if self.assigned else Fraction(0)

    @property
    def revenue(self) -> Fraction:
        return Fraction(self.revenue_fen, self.converted) if self.converted else Fraction(0)


def learned_rates(
    cells: Iterable[HistoryCell],
    *,
    prior_leads: int = PRIOR_LEADS,
    prior_conversions: int = PRIOR_CONVERSIONS,
) -> tuple[RateSpec, ...]:
    """Shrunk rates per history cell, and each tier's pooled row (exact arithmetic)."""
    cells = sorted(cells, key=lambda c: (c.tier, c.branch_code, c.channel))
    tiers: dict[str, _Pooled] = {}
    for cell in cells:
        if not 0 <= cell.converted <= cell.assigned:
            raise ValueError(f"{cell}: converted must be within 0..assigned")
        tiers[cell.tier] = tiers.get(cell.tier, _Pooled()).plus(cell)
    rows = [_row(ANY, tier, ANY, pooled.rate, pooled.revenue) for tier, pooled in tiers.items()]
    for cell in cells:
        prior = tiers[cell.tier]
        rate = (cell.converted + prior_leads * prior.rate) / (cell.assigned + prior_leads)
        revenue = _shrunk_revenue(cell, prior=prior, strength=prior_conversions)
        rows.append(_row(cell.branch_code, cell.tier, cell.channel, rate, revenue))
    return tuple(rows)


def _shrunk_revenue(cell: HistoryCell, *, prior: _Pooled, strength: int) -> Fraction:
    weight = cell.converted + strength
    if weight == 0:
        return prior.revenue
    return (cell.revenue_fen + strength * prior.revenue) / weight


def _row(branch: str, tier: str, channel: str, rate: Fraction, revenue: Fraction) -> RateSpec:
    return RateSpec(
        tier=tier,
        conversion_rate=float(rate),
        mean_revenue_fen=int(revenue + Fraction(1, 2)),  # half up, whole fen
        branch_code=branch,
        channel=channel,
    )


def history_cells(session: Session) -> list[HistoryCell]:
    """Every lead that reached a branch, counted per (its branch now, tier, channel), as the
    funnel counts them (app.analytics.funnel): assigned, converted, revenue imported (fen)."""
    revenue = revenue_by_lead()
    statement = (
        select(
            col(Branch.code),
            col(Lead.tier),
            col(Lead.channel),
            func.count(),
            count_of(was_converted()),
            func.coalesce(func.sum(revenue.c.fen), 0),
        )
        .select_from(Lead)
        .join(Branch, col(Branch.id) == col(Lead.branch_id))
        .outerjoin(revenue, revenue.c.lead_id == col(Lead.id))
        .where(was_assigned())
        .group_by(col(Branch.code), col(Lead.tier), col(Lead.channel))
        .order_by(col(Branch.code), col(Lead.tier), col(Lead.channel))
    )
    return [
        HistoryCell(str(code), str(tier), str(channel), int(a), int(c), int(fen))
        for code, tier, channel, a, c, fen in session.execute(statement)
    ]
