"""Pair mode with unit workloads: exact min-cost flow on the listed pairs (every arc present).

Pair costs are decimals >= 0; the flow needs integers, so they are scaled by UNITS_PER_COST
(x1000) and rounded. The bound is recomputed from the flow's branch prices with the UNROUNDED
costs, so it is valid for the true objective whatever the rounding did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.model import PairTable
from allocation.solvers.network import (
    UNITS_PER_COST,
    balance_segments,
    big_m,
    solve_transport,
)
from allocation.solvers.prices import branch_prices, lower_bound

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PairFlowResult:
    branch: IntArray  # per lead (all leads of the problem), -1 = unassigned
    lower_bound: float  # on cost + balance, in cost units


def solve_pair_flow(
    *, pairs: PairTable, n_leads: int, capacity: IntArray, balance_weight: float
) -> PairFlowResult:
    """Leads with at least one pair are supply nodes; pairs are their arcs."""
    leads, node_of_pair = np.unique(pairs.lead, return_inverse=True)
    segs = balance_segments(capacity=capacity, weight=balance_weight)
    scaled = pairs.cost * UNITS_PER_COST
    arc_cost = np.round(scaled).astype(np.int64)
    penalty = big_m(
        n_branches=len(capacity), max_arc_cost=int(arc_cost.max(initial=0)), segments=segs
    )
    solved = solve_transport(
        supply=np.ones(len(leads), np.int64),
        arc_g=node_of_pair,
        arc_j=pairs.branch,
        arc_cost=arc_cost,
        n_branches=len(capacity),
        segments=segs,
        big_m_cost=penalty,
    )
    branch = np.full(n_leads, -1, np.int64)
    sent = solved.arc_flow > 0
    branch[leads[node_of_pair[sent]]] = pairs.branch[sent]
    prices = np.minimum(branch_prices(solved), float(penalty))
    best = np.full(len(leads), float(penalty))
    np.minimum.at(best, node_of_pair, scaled + prices[pairs.branch])
    bound = lower_bound(
        best=best,
        big_m=float(penalty),
        unassigned=int(solved.unassigned_flow.sum()),
        prices=prices,
        seg_branch=segs.branch,
        seg_cap=segs.cap,
        seg_slope=segs.slope,
    )
    return PairFlowResult(branch=branch, lower_bound=bound / UNITS_PER_COST)


def gap_pairs(*, pairs: PairTable) -> tuple[IntArray, list[tuple[int, int, int, int]], bool]:
    """Local lead numbering and (lead, branch, cost x1000, workload) tuples for CP-SAT.

    The flag says whether every cost was an exact multiple of 1/1000 (no rounding).
    """
    leads, local = np.unique(pairs.lead, return_inverse=True)
    scaled = pairs.cost * UNITS_PER_COST
    cost = np.round(scaled).astype(np.int64)
    exact = bool(np.all(np.abs(scaled - cost) <= 1e-6 * np.maximum(1.0, scaled)))
    rows = list(
        zip(
            local.tolist(),
            pairs.branch.tolist(),
            cost.tolist(),
            pairs.workload.tolist(),
            strict=True,
        )
    )
    return leads, rows, exact


def rounding_slack(*, assigned: int, exact: bool) -> float:
    """Worst-case cost lost to rounding each of `assigned` costs to 1/1000."""
    return 0.0 if exact else assigned * 0.5 / UNITS_PER_COST + math.ulp(1.0)
