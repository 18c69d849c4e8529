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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.model import AllocationProblem
from allocation.plan import Plan
from allocation.shadow_graph import Graph, dense_graph, taking_part
from allocation.shadow_pruned import pruned_graph

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
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


def _graph(*, problem: AllocationProblem, plan: Plan) -> Graph:
    """Listed pair costs are summarised densely; distances by the pruned pass, which finds
    the very same figures pricing a few leads per pair of branches (allocation.shadow_pruned)."""
    leads = taking_part(problem, plan)
    if problem.pairs is not None:
        return dense_graph(problem, plan, leads)
    return pruned_graph(problem, plan, leads)


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
    graph: Graph,
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


def _path_room(*, j: int, pred: IntArray, graph: Graph) -> tuple[int, int]:
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
