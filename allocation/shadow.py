"""Shadow prices of branch capacity: what one more unit at a branch is worth (issue 15.3).

An optimal plan is an optimal min-cost flow; one more unit of capacity at branch j adds one arc
j -> sink, and the new optimum is the old one plus the cheapest cycle through that arc in the
residual network (two optimal flows differ by cycles; every other cycle costs >= 0). That cycle
is the shortest residual path sink -> j. Like `allocation.solvers.prices.branch_prices` (which
walks the same collapsed graph the other way, j -> sink, to prove the bound), the lead nodes
collapse into a branch-to-branch graph, here at lead level with true costs so that the
prediction is exact for the plan that was reported:

    k -> j   a lead at k moves to j:            min over leads at k of c_ij - c_ik
    sink -> k   k gives up a unit it uses:      0 (k has load)
    sink -> j   an unassigned lead is taken in: c_ij, and one lead gained

Leads come first in the objective (contract §5), so paths that gain a lead win whatever they cost.
The prediction holds for as many further units as the path has room (`holds_for`, a lower
bound: shortest-path lengths only grow as units are added); a price of 0 holds for every unit.
Only rounds whose objective is a plain min-cost flow qualify: unit workloads and
balance_weight 0 (the balance term is a function of capacity itself, so its marginal is not a
flow cycle); otherwise, or when the plan is not optimal, there are no shadow prices.
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
# The solver stops within a proven gap (and rounds flow costs to whole metres), so a large
# plan may leave improving cycles; none is worth more than the gap (cancelling it would beat
# the bound). Steps improving by less than max(IMPROVE_KM, gap) are ignored: the prices are
# exact to within that tolerance, which the report states.
IMPROVE_KM = 1e-3


@dataclass(frozen=True)
class ShadowPrice:
    """One more unit of capacity at a branch: km (cost units) saved and leads gained.

    km_saved is the drop in total cost (km, or km - value under a value objective, issue 15.4);
    it is negative when the unit takes in a lead that was left out (the lead's cost is added).
    holds_for: the same change for at least this many more units (None: for every further unit).
    """

    km_saved: float
    leads_gained: int
    holds_for: int | None


def shadow_prices(*, problem: AllocationProblem, plan: Plan) -> tuple[ShadowPrice, ...] | None:
    """Per branch, in branch order; None when the round is not a plain min-cost flow."""
    if not _qualifies(problem=problem, plan=plan):
        return None
    graph = _graph(problem=problem, plan=plan)
    loads = plan.loads(problem=problem)
    tol = tolerance_km(plan)
    gain = _closure(start=graph.take, move=graph.move, tol=tol)
    shift = _closure(start=np.where(loads > 0, 0.0, np.inf), move=graph.move, tol=tol)
    if gain is None or shift is None:
        return None  # a negative cycle: the plan is not optimal, so no exact prices
    room = loads < problem.branches.capacity
    return tuple(
        _price(j=j, gain=gain, shift=shift, room=bool(room[j]), graph=graph, loads=loads)
        for j in range(problem.branches.size)
    )


@dataclass(frozen=True)
class _Graph:
    """The collapsed residual graph: cheapest move k -> j and cheapest take-in at j, with how
    many leads tie for each (the room of that step)."""

    move: FloatArray
    move_ties: IntArray
    take: FloatArray
    take_ties: IntArray


def _graph(*, problem: AllocationProblem, plan: Plan) -> _Graph:
    """One pass over the leads that take part, in blocks sorted by where each lead is now
    (row b stands for the sink: leads left out for want of room). Blocks are summarised on
    THREADS threads (numpy releases the GIL in the heavy parts) and merged in block order, so
    the result does not depend on the scheduling."""
    b = problem.branches.size
    best = np.full((b + 1, b), np.inf)
    ties = np.zeros((b + 1, b), np.int64)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        blocks = _slices(problem, plan)
        summaries = pool.map(lambda block: _summarise(problem, plan, block), blocks)
        for r, low, count in summaries:
            lower = low < best[r] - TIE_KM
            same = ~lower & (low <= best[r] + TIE_KM)
            ties[r] = np.where(lower, count, np.where(same, ties[r] + count, ties[r]))
            best[r] = np.where(lower, low, best[r])
    ties[np.isinf(best)] = 0
    return _Graph(move=best[:b], move_ties=ties[:b], take=best[b], take_ties=ties[b])


def _slices(problem: AllocationProblem, plan: Plan) -> list[tuple[IntArray, IntArray, IntArray]]:
    """(lead indices, source rows, weights) in blocks, sorted by source row: one lead of each
    set of identical ones (`_distinct`), weighted by how many it stands for."""
    b = problem.branches.size
    waiting = plan.reason == reason_code(Reason.CAPACITY_EXHAUSTED)
    idx = np.flatnonzero((plan.branch >= 0) | waiting)
    src = np.where(plan.branch[idx] >= 0, plan.branch[idx], b)
    idx, src, weight = _distinct(problem, plan, idx, src)
    order = np.argsort(src, kind="stable")
    idx, src, weight = idx[order], src[order], weight[order]
    step = max(1, PAIRS_PER_CHUNK // max(1, b))
    return [
        (idx[lo : lo + step], src[lo : lo + step], weight[lo : lo + step])
        for lo in range(0, len(idx), step)
    ]


def _distinct(
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
            _own_costs(problem=problem, plan=plan)[idx].view(np.int64),
        )
    )
    order = np.lexsort(keys.T[::-1])
    keys = keys[order]
    first = np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)]
    starts = np.flatnonzero(first)
    weight = np.diff(np.r_[starts, len(idx)]).astype(np.int64)
    return idx[order][starts], src[order][starts], weight


def _summarise(
    problem: AllocationProblem, plan: Plan, block: tuple[IntArray, IntArray, IntArray]
) -> tuple[IntArray, FloatArray, IntArray]:
    """Per source row of the block: the cheapest move to each branch and how many leads tie.

    A placed lead's move costs c_ij - c_ik (inf at its own branch and where it may not go);
    a left-out lead's row is the sink's and its cost is c_ij.
    """
    i, rows, weight = block
    b = problem.branches.size
    own = _own_costs(problem=problem, plan=plan)[i]
    delta = _costs(problem=problem, leads=i)
    placed = rows < b
    np.subtract(delta, own[:, None], out=delta, where=placed[:, None])
    delta[np.flatnonzero(placed), rows[placed]] = np.inf
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    low = np.minimum.reduceat(delta, starts, axis=0)
    run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(rows)]))
    tied = np.where(delta <= (low + TIE_KM)[run], weight[:, None], 0)
    count = np.add.reduceat(tied, starts, axis=0).astype(np.int64)
    return rows[starts], low, count


def _costs(*, problem: AllocationProblem, leads: IntArray) -> FloatArray:
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


def _qualifies(*, problem: AllocationProblem, plan: Plan) -> bool:
    pairs = problem.pairs
    unit = pairs is None or pairs.unit_workload
    return (
        plan.method == "optimal"
        and plan.status == "optimal"
        and unit
        and problem.params.balance_weight == 0
    )


def _price(
    *,
    j: int,
    gain: tuple[FloatArray, IntArray],
    shift: tuple[FloatArray, IntArray],
    room: bool,
    graph: _Graph,
    loads: IntArray,
) -> ShadowPrice:
    if not room and np.isfinite(gain[0][j]):
        first, units = _path_room(j=j, pred=gain[1], graph=graph)
        units = min(units, int(graph.take_ties[first]))
        return ShadowPrice(km_saved=-float(gain[0][j]), leads_gained=1, holds_for=max(1, units))
    saved = 0.0 if room else max(0.0, -float(shift[0][j]))
    if saved <= 0:
        return ShadowPrice(km_saved=0.0, leads_gained=0, holds_for=None)
    first, units = _path_room(j=j, pred=shift[1], graph=graph)
    units = min(units, int(loads[first]))
    return ShadowPrice(km_saved=saved, leads_gained=0, holds_for=max(1, units))


def _path_room(*, j: int, pred: IntArray, graph: _Graph) -> tuple[int, int]:
    """(first branch of the shortest path to j, fewest tied leads on any of its moves)."""
    units = np.iinfo(np.int64).max
    k = j
    for _ in range(len(pred)):  # a shortest-path tree has no cycle; the bound is a safeguard
        if pred[k] < 0:
            break
        units = min(units, int(graph.move_ties[pred[k], k]))
        k = int(pred[k])
    return k, int(units)


def tolerance_km(plan: Plan) -> float:
    """How far the prices may be off: the plan's proven gap, at least IMPROVE_KM."""
    slack = 0.0 if plan.lower_bound is None else max(0.0, plan.total - plan.lower_bound)
    return max(IMPROVE_KM, slack)


def _closure(
    *, start: FloatArray, move: FloatArray, tol: float
) -> tuple[FloatArray, IntArray] | None:
    """Bellman-Ford from a virtual source: (distance, predecessor branch or -1) per branch."""
    b = len(start)
    dist = start.copy()
    pred = np.full(b, -1, np.int64)
    for _ in range(b + 1):
        via = dist[:, None] + move
        best = via.argmin(axis=0) if b else np.zeros(0, np.int64)
        cand = via[best, np.arange(b)]
        better = cand < dist - tol
        if not better.any():
            return dist, pred
        dist = np.where(better, cand, dist)
        pred = np.where(better, best, pred)
    return None


def _own_costs(*, problem: AllocationProblem, plan: Plan) -> FloatArray:
    """Each assigned lead's cost where it is (the plan's own figures); NaN when unassigned."""
    return plan.distance_km if problem.pairs is None and problem.value is None else plan.cost
