"""Branch prices from an optimal flow, and the lower bound they prove.

`SimpleMinCostFlow` returns flows only. An optimal flow has no negative cycle in its residual
network, so the shortest-path cost from each node to the sink is a valid node potential. Every
lead/group node hangs between branches, so the residual network collapses to a dense
(branches + sink) graph: j -> k through any group that sends flow to j and has an arc to k.
Bellman-Ford on that graph gives each branch's price pi_j (metres to reach the sink from j).

Weak duality then bounds the true problem for ANY prices: sum over leads of
min(M, min_j (c_ij + pi_j)) - sum over branch segments of cap_s * max(0, pi_j - slope_s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SolvedTransport:
    """The optimal flow of a transport network, in the terms of its nodes.

    Supply nodes send along arcs (arc_g -> arc_j, integer unit cost) or to the sink at `big_m`
    (unassigned); branch j empties into the sink through segments (seg_branch, cap, cost).
    """

    n_branches: int
    arc_g: IntArray
    arc_j: IntArray
    arc_cost: IntArray
    arc_flow: IntArray
    unassigned_flow: IntArray  # per supply node
    seg_branch: IntArray
    seg_cap: IntArray
    seg_cost: IntArray
    seg_flow: IntArray
    big_m: int


def branch_prices(solved: SolvedTransport) -> FloatArray:
    """Shortest residual-path cost (metres or scaled cost units) from each branch to the sink."""
    b = solved.n_branches
    weight = np.full((b + 1, b + 1), np.inf)
    _segment_edges(solved=solved, weight=weight)
    _group_edges(solved=solved, weight=weight)
    np.fill_diagonal(weight, np.inf)
    dist = np.full(b + 1, np.inf)
    dist[b] = 0.0
    for _ in range(b + 2):
        new = np.minimum(dist, (weight + dist[None, :]).min(axis=1))
        if np.array_equal(new, dist):
            break
        dist = new
    return dist[:b]


def _segment_edges(*, solved: SolvedTransport, weight: FloatArray) -> None:
    """j -> sink at the cheapest non-full segment; sink -> j back along the dearest used one."""
    s = solved
    sink = s.n_branches
    room = s.seg_flow < s.seg_cap
    np.minimum.at(weight[:, sink], s.seg_branch[room], s.seg_cost[room].astype(np.float64))
    used = s.seg_flow > 0
    np.minimum.at(weight[sink, :], s.seg_branch[used], -s.seg_cost[used].astype(np.float64))


def _group_edges(*, solved: SolvedTransport, weight: FloatArray) -> None:
    """Through a supply node: from a branch it sends to (or the sink) to any branch it reaches."""
    s = solved
    sink = s.n_branches
    order = np.argsort(s.arc_g, kind="stable")
    g_sorted = s.arc_g[order]
    n_nodes = len(s.unassigned_flow)
    start = np.searchsorted(g_sorted, np.arange(n_nodes + 1))
    sending = np.flatnonzero(s.arc_flow > 0)
    src = np.r_[s.arc_j[sending], np.full(int(np.count_nonzero(s.unassigned_flow)), sink)]
    src_cost = np.r_[s.arc_cost[sending], np.full(len(src) - len(sending), s.big_m)]
    src_g = np.r_[s.arc_g[sending], np.flatnonzero(s.unassigned_flow > 0)]
    lens = start[src_g + 1] - start[src_g]
    idx = order[np.repeat(start[src_g], lens) + _within(lens)]
    tail = np.repeat(src, lens)
    cost = (s.arc_cost[idx] - np.repeat(src_cost, lens)).astype(np.float64)
    np.minimum.at(weight, (tail, s.arc_j[idx]), cost)
    # Every supply node can also leave its flow unassigned: from branch j to the sink.
    np.minimum.at(weight[:, sink], src, (s.big_m - src_cost).astype(np.float64))


def _within(lens: IntArray) -> IntArray:
    total = int(lens.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)


def capacity_term(
    *, prices: FloatArray, seg_branch: IntArray, seg_cap: IntArray, seg_slope: FloatArray
) -> float:
    """sum_s cap_s * max(0, pi_j(s) - slope_s): the dual cost of branch capacity."""
    excess = np.maximum(0.0, prices[seg_branch] - seg_slope)
    return float(seg_cap @ excess)


def lower_bound(
    *,
    best: FloatArray,
    big_m: float,
    unassigned: int,
    prices: FloatArray,
    seg_branch: IntArray,
    seg_cap: IntArray,
    seg_slope: FloatArray,
) -> float:
    """Bound on (cost + balance) of any plan that leaves `unassigned` leads out.

    `best` holds min(M, min_j c_ij + pi_j) per lead. The penalty M per unassigned lead is taken
    out again by counting, so no huge number is added to the sum of small ones.
    """
    capped = best >= big_m
    head = float(best[~capped].sum()) + big_m * (int(capped.sum()) - unassigned)
    finite = np.minimum(prices, big_m)
    return head - capacity_term(
        prices=finite, seg_branch=seg_branch, seg_cap=seg_cap, seg_slope=seg_slope
    )
