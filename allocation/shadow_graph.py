"""The collapsed residual graph of the shadow prices (issue 15.3), summarised lead by lead.

Per source row (a branch, or row b for the sink: leads left out for want of room) and target
branch j: the cheapest move c_ij - c_ik of a lead of that row to j (a left-out lead's is c_ij)
and how many leads tie for it. This module holds the dense summary, which prices every lead at
every branch, and what it shares with the pruned one (`allocation.shadow_pruned`): which leads
take part, in which order and blocks, and what each costs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import haversine_matrix_km
from allocation.model import AllocationProblem, Reason, reason_code
from allocation.plan import Plan

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
PAIRS_PER_CHUNK = 1_000_000  # leads x branches per pass: ~8 MB per temporary array
THREADS = 2  # the reference machine has two cores
TIE_KM = 1e-9  # costs equal within this count as the same path when measuring its room


@dataclass(frozen=True)
class Graph:
    """The collapsed residual graph: cheapest move k -> j and cheapest take-in at j, with how
    many leads tie for each (the room of that step)."""

    move: FloatArray
    move_ties: IntArray
    take: FloatArray
    take_ties: IntArray


@dataclass(frozen=True)
class Leads:
    """The leads that take part: one of each set of identical ones (`distinct`), sorted by
    source row; `weight` is how many each stands for. The summary goes in blocks of `step`
    leads, merged in block order (`merge`): the block a lead falls in can decide which of two
    costs within TIE_KM of each other is kept, so both summaries use these very blocks."""

    idx: IntArray
    src: IntArray
    weight: IntArray
    step: int

    @property
    def blocks(self) -> int:
        return -(-len(self.idx) // self.step)


def taking_part(problem: AllocationProblem, plan: Plan) -> Leads:
    b = problem.branches.size
    waiting = plan.reason == reason_code(Reason.CAPACITY_EXHAUSTED)
    idx = np.flatnonzero((plan.branch >= 0) | waiting)
    src = np.where(plan.branch[idx] >= 0, plan.branch[idx], b)
    idx, src, weight = distinct(problem, plan, idx, src)
    order = np.argsort(src, kind="stable")
    step = max(1, PAIRS_PER_CHUNK // max(1, b))
    return Leads(idx=idx[order], src=src[order], weight=weight[order], step=step)


def distinct(
    problem: AllocationProblem, plan: Plan, idx: IntArray, src: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Leads alike in everything their row of the graph is made of (where they are now, their
    point, tier and value class, and their own cost, bit for bit) have identical rows: a
    pool's leads share points (a region's centre, a building), so each set is summarised once,
    its ties counted with its size. Listed pair costs are each lead's own: no merging there."""
    if problem.pairs is not None or not len(idx):
        return idx, src, np.ones(len(idx), np.int64)
    ld = problem.leads
    lead_class = problem.value.lead_class[idx] if problem.value is not None else 0
    keys = np.column_stack(
        np.broadcast_arrays(
            src,
            ld.lat[idx].view(np.int64),
            ld.lon[idx].view(np.int64),
            ld.tier[idx],
            lead_class,
            own_costs(problem=problem, plan=plan)[idx].view(np.int64),
        )
    )
    order = np.lexsort(keys.T[::-1])
    keys = keys[order]
    first = np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)]
    starts = np.flatnonzero(first)
    weight = np.diff(np.r_[starts, len(idx)]).astype(np.int64)
    return idx[order][starts], src[order][starts], weight


def dense_graph(problem: AllocationProblem, plan: Plan, leads: Leads) -> Graph:
    """Every lead at every branch, block by block. Blocks are summarised on THREADS threads
    (numpy releases the GIL in the heavy parts) and merged in block order, so the result does
    not depend on the scheduling."""
    b = problem.branches.size
    best = np.full((b + 1, b), np.inf)
    ties = np.zeros((b + 1, b), np.int64)
    blocks = [
        (leads.idx[lo : lo + leads.step], leads.src[lo : lo + leads.step],
         leads.weight[lo : lo + leads.step])
        for lo in range(0, len(leads.idx), leads.step)
    ]  # fmt: skip
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        summaries = pool.map(lambda block: _summarise(problem, plan, block), blocks)
        for r, low, count in summaries:
            merge(best, ties, r, low, count)
    return finished(best, ties)


def merge(best: FloatArray, ties: IntArray, r: IntArray, low: FloatArray, count: IntArray) -> None:
    """Fold one block's (cheapest, tied) per row into the running figures, in place: a cost
    lower by more than TIE_KM replaces, one within TIE_KM adds its ties."""
    lower = low < best[r] - TIE_KM
    same = ~lower & (low <= best[r] + TIE_KM)
    ties[r] = np.where(lower, count, np.where(same, ties[r] + count, ties[r]))
    best[r] = np.where(lower, low, best[r])


def finished(best: FloatArray, ties: IntArray) -> Graph:
    b = best.shape[1]
    ties[np.isinf(best)] = 0
    return Graph(move=best[:b], move_ties=ties[:b], take=best[b], take_ties=ties[b])


def _summarise(
    problem: AllocationProblem, plan: Plan, block: tuple[IntArray, IntArray, IntArray]
) -> tuple[IntArray, FloatArray, IntArray]:
    """Per source row of the block: the cheapest move to each branch and how many leads tie.

    A placed lead's move costs c_ij - c_ik (inf at its own branch and where it may not go);
    a left-out lead's row is the sink's and its cost is c_ij.
    """
    i, rows, weight = block
    b = problem.branches.size
    own = own_costs(problem=problem, plan=plan)[i]
    delta = costs(problem=problem, leads=i)
    placed = rows < b
    np.subtract(delta, own[:, None], out=delta, where=placed[:, None])
    delta[np.flatnonzero(placed), rows[placed]] = np.inf
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    low = np.minimum.reduceat(delta, starts, axis=0)
    run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(rows)]))
    tied = np.where(delta <= (low + TIE_KM)[run], weight[:, None], 0)
    count = np.add.reduceat(tied, starts, axis=0).astype(np.int64)
    return rows[starts], low, count


def costs(*, problem: AllocationProblem, leads: IntArray) -> FloatArray:
    """(leads, branches) cost matrix: km (or the listed pair cost); inf where not eligible."""
    br = problem.branches
    if problem.pairs is not None:
        p = problem.pairs
        out = np.full((len(leads), br.size), np.inf)
        lo, hi = np.searchsorted(p.lead, leads), np.searchsorted(p.lead, leads, side="right")
        n = hi - lo
        k = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
        out[np.repeat(np.arange(len(leads)), n), p.branch[k]] = p.cost[k]
        return out
    ld = problem.leads
    dist = haversine_matrix_km(ld.lat[leads], ld.lon[leads], br.lat, br.lon)
    ok = problem.eligible_matrix()[ld.tier[leads]]
    limit = problem.params.max_distance_km
    if limit is not None:
        ok &= dist <= limit
    if problem.value is not None:  # issue 15.4: the cost is distance - value
        np.subtract(dist, problem.value.value_km[problem.value.lead_class[leads]], out=dist)
    dist[~ok] = np.inf
    return dist


def own_costs(*, problem: AllocationProblem, plan: Plan) -> FloatArray:
    """Each assigned lead's cost where it is (the plan's own figures); NaN when unassigned."""
    return plan.distance_km if problem.pairs is None and problem.value is None else plan.cost
