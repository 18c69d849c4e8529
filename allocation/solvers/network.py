"""The transport network shared by the location and pair flow solvers.

Nodes: supply nodes 0..G-1 (a group of leads, or one lead), branches G..G+B-1, the sink G+B.
Arcs: supply -> branch (capacity = supply, integer unit cost), supply -> sink at big M (the lead
stays unassigned, so maximising the number assigned comes first), and branch -> sink segments
whose costs rise with the load (the convex balance term; one free segment when its weight is 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.plan import balance_slopes
from allocation.solvers.flow import FlowNetwork, solve_flow
from allocation.solvers.prices import SolvedTransport

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
UNITS_PER_COST = 1000  # flow costs are integers: metres for km, 1/1000 of a pair cost


@dataclass(frozen=True)
class Segments:
    """Branch -> sink pieces: capacity, integer cost for the flow, exact slope for bounds."""

    branch: IntArray
    cap: IntArray
    cost: IntArray
    slope: FloatArray


def balance_segments(*, capacity: IntArray, weight: float) -> Segments:
    """Pieces of every branch's capacity with the balance slopes in flow units."""
    parts = [balance_slopes(int(c), weight) for c in capacity.tolist()]
    sizes = [p[0] for p in parts]
    branch = np.repeat(np.arange(len(parts), dtype=np.int64), [len(s) for s in sizes])
    cap = np.concatenate(sizes) if parts else np.zeros(0, np.int64)
    slope = np.concatenate([p[1] for p in parts]) * UNITS_PER_COST if parts else np.zeros(0)
    keep = cap > 0
    return Segments(
        branch=branch[keep],
        cap=cap[keep].astype(np.int64),
        cost=np.round(slope[keep]).astype(np.int64),
        slope=slope[keep],
    )


def big_m(*, n_branches: int, max_arc_cost: int, segments: Segments) -> int:
    """Unassignment penalty above any augmenting path's cost (at most every branch once)."""
    top = int(segments.cost.max(initial=0))
    return (n_branches + 1) * (max_arc_cost + top + 1) + 1


def solve_transport(
    *,
    supply: IntArray,
    arc_g: IntArray,
    arc_j: IntArray,
    arc_cost: IntArray,
    n_branches: int,
    segments: Segments,
    big_m_cost: int,
) -> SolvedTransport:
    """Build the network, solve it, and name the flows."""
    g_count = len(supply)
    sink = g_count + n_branches
    nodes = np.arange(g_count, dtype=np.int64)
    network = FlowNetwork(
        tails=np.concatenate([arc_g, nodes, segments.branch + g_count]),
        heads=np.concatenate(
            [arc_j + g_count, np.full(g_count, sink), np.full(len(segments.branch), sink)]
        ),
        capacities=np.concatenate([supply[arc_g], supply, segments.cap]),
        costs=np.concatenate([arc_cost, np.full(g_count, big_m_cost), segments.cost]),
        supplies=np.concatenate([supply, np.zeros(n_branches, np.int64), [-int(supply.sum())]]),
    )
    flow = solve_flow(network)
    a = len(arc_g)
    return SolvedTransport(
        n_branches=n_branches,
        arc_g=arc_g,
        arc_j=arc_j,
        arc_cost=arc_cost,
        arc_flow=flow[:a],
        unassigned_flow=flow[a : a + g_count],
        seg_branch=segments.branch,
        seg_cap=segments.cap,
        seg_cost=segments.cost,
        seg_flow=flow[a + g_count :],
        big_m=big_m_cost,
    )
