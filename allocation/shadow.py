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

Leads come first in the objective (SPEC 5), so paths that gain a lead win whatever they cost.
The prediction holds for as many further units as the path has room (`holds_for`, a lower
bound: shortest-path lengths only grow as units are added); a price of 0 holds for every unit.
Only rounds whose objective is a plain min-cost flow qualify: unit workloads and
balance_weight 0 (the balance term is a function of capacity itself, so its marginal is not a
flow cycle); otherwise, or when the plan is not optimal, there are no shadow prices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import haversine_km_np
from allocation.model import AllocationProblem, Reason, reason_code
from allocation.plan import Plan

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
PAIRS_PER_CHUNK = 1_000_000  # leads x branches per pass: ~8 MB per temporary array
TIE_KM = 1e-9  # costs equal within this count as the same path when measuring its room


@dataclass(frozen=True)
class ShadowPrice:
    """One more unit of capacity at a branch: km (cost units) saved and leads gained.

    km_saved is the drop in total cost; it is negative when the unit takes in a lead that was
    left out (the lead's distance is added). holds_for: the same change for at least this many
    more units (None: for every further unit).
    """

    km_saved: float
    leads_gained: int
    holds_for: int | None


@dataclass(frozen=True)
class _Triples:
    """Eligible (lead, branch, cost) triples of one chunk."""

    lead: IntArray
    branch: IntArray
    cost: FloatArray


def shadow_prices(*, problem: AllocationProblem, plan: Plan) -> tuple[ShadowPrice, ...] | None:
    """Per branch, in branch order; None when the round is not a plain min-cost flow."""
    if not _qualifies(problem=problem, plan=plan):
        return None
    graph = _graph(problem=problem, plan=plan)
    loads = plan.loads(problem=problem)
    gain = _closure(start=graph.take, move=graph.move)
    shift = _closure(start=np.where(loads > 0, 0.0, np.inf), move=graph.move)
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
    b = problem.branches.size
    own = _own_costs(problem=problem, plan=plan)
    waiting = plan.reason == reason_code(Reason.CAPACITY_EXHAUSTED)
    move, take = np.full((b, b), np.inf), np.full(b, np.inf)
    for t in _triples(problem=problem, plan=plan):
        at, out = plan.branch[t.lead], waiting[t.lead]
        placed = (at >= 0) & (at != t.branch)
        np.minimum.at(move, (at[placed], t.branch[placed]), t.cost[placed] - own[t.lead[placed]])
        np.minimum.at(take, t.branch[out], t.cost[out])
    move_ties, take_ties = np.zeros((b, b), np.int64), np.zeros(b, np.int64)
    for t in _triples(problem=problem, plan=plan):
        at, out = plan.branch[t.lead], waiting[t.lead]
        placed = (at >= 0) & (at != t.branch)
        k, j = at[placed], t.branch[placed]
        tied = t.cost[placed] - own[t.lead[placed]] <= move[k, j] + TIE_KM
        np.add.at(move_ties, (k[tied], j[tied]), 1)
        tied_out = t.cost[out] <= take[t.branch[out]] + TIE_KM
        np.add.at(take_ties, t.branch[out][tied_out], 1)
    return _Graph(move=move, move_ties=move_ties, take=take, take_ties=take_ties)


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


def _closure(*, start: FloatArray, move: FloatArray) -> tuple[FloatArray, IntArray] | None:
    """Bellman-Ford from a virtual source: (distance, predecessor branch or -1) per branch."""
    b = len(start)
    dist = start.copy()
    pred = np.full(b, -1, np.int64)
    for _ in range(b + 1):
        via = dist[:, None] + move
        best = via.argmin(axis=0) if b else np.zeros(0, np.int64)
        cand = via[best, np.arange(b)]
        better = cand < dist - TIE_KM
        if not better.any():
            return dist, pred
        dist = np.where(better, cand, dist)
        pred = np.where(better, best, pred)
    return None


def _own_costs(*, problem: AllocationProblem, plan: Plan) -> FloatArray:
    """Each assigned lead's cost where it is (the plan's own figures); NaN when unassigned."""
    return plan.distance_km if problem.pairs is None else plan.cost


def _triples(*, problem: AllocationProblem, plan: Plan) -> Iterator[_Triples]:
    """Every eligible (lead, branch, cost) of the leads that take part, in chunks."""
    if problem.pairs is not None:
        p = problem.pairs
        yield _Triples(lead=p.lead, branch=p.branch, cost=p.cost)
        return
    leads, branches = problem.leads, problem.branches
    idx = np.flatnonzero(
        (plan.branch >= 0) | (plan.reason == reason_code(Reason.CAPACITY_EXHAUSTED))
    )
    eligible = problem.eligible_matrix()
    limit = problem.params.max_distance_km
    step = max(1, PAIRS_PER_CHUNK // max(1, branches.size))
    for lo in range(0, len(idx), step):
        i = idx[lo : lo + step]
        dist = haversine_km_np(
            leads.lat[i][:, None],
            leads.lon[i][:, None],
            branches.lat[None, :],
            branches.lon[None, :],
        )
        ok = eligible[leads.tier[i]]
        if limit is not None:
            ok &= dist <= limit
        r, c = np.nonzero(ok)
        yield _Triples(lead=i[r], branch=c.astype(np.int64), cost=dist[r, c])
