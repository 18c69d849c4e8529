"""The one entry point: `solve(problem, method=...) -> Plan` (contract §5).

"optimal" picks the exact model that fits the round: min-cost flow with pricing on true
coordinates (location mode), min-cost flow on the listed pairs (pair mode, unit workloads), or
CP-SAT for a generalized assignment (pair mode with workloads > 1). The baselines are the
rule-based CRMs' ways of doing it, kept so every report can show what the optimum saves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from allocation.baselines import run_baseline
from allocation.errors import UnknownMethodError
from allocation.geo import haversine_km_np
from allocation.model import AllocationProblem, Method, PairTable, Reason, Status, reason_code
from allocation.plan import Plan, balance_penalty, lead_workloads
from allocation.solvers.cardinality import augment_to_maximum
from allocation.solvers.network import UNITS_PER_COST
from allocation.solvers.pair_flow import gap_pairs, rounding_slack, solve_pair_flow
from allocation.solvers.screen import Screened, geometry, screen
from allocation.solvers.transport import (
    GAP_TOLERANCE,
    LocationInput,
    TransportResult,
    solve_locations,
)
from allocation.value import lead_value_km

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Progress = Callable[[str], None]
METHODS: tuple[Method, ...] = ("optimal", "greedy", "round_robin", "weighted_random")
DEFAULT_TIME_LIMIT_S = 60.0


def solve(
    problem: AllocationProblem,
    *,
    method: str = "optimal",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    seed: int = 0,
    gap_tolerance: float = GAP_TOLERANCE,
    progress: Progress | None = None,
) -> Plan:
    """Allocate the round; deterministic for the same problem, method and seed.

    "optimal" reports status `optimal` once the plan is proven within `gap_tolerance`
    (relative) of the lower bound, or no improving arc is left; `feasible` if the time limit
    stopped it first (the bound and gap are still proven).
    """
    if method not in METHODS:
        raise UnknownMethodError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    started = time.monotonic()
    screened = screen(problem)
    if method == "optimal":
        options = _Options(
            time_limit_s=time_limit_s, seed=seed, gap_tolerance=gap_tolerance, progress=progress
        )
        branch, bound, status, notes, iterations, prices = _optimal(
            problem=problem, screened=screened, options=options
        )
    else:
        branch = run_baseline(problem=problem, screened=screened, method=method, seed=seed)
        bound, status, notes, iterations, prices = None, "feasible", (), 0, None
    return build_plan(
        problem=problem,
        screened=screened,
        branch=branch,
        method=method,
        status=status,
        lower_bound=bound,
        iterations=iterations,
        notes=notes,
        solve_seconds=time.monotonic() - started,
        branch_price_km=prices,
    )


# branch, bound, status, notes, iterations, branch prices (km; None: not computed)
_Outcome = tuple[IntArray, float | None, Status, tuple[str, ...], int, FloatArray | None]


@dataclass(frozen=True)
class _Options:
    time_limit_s: float
    seed: int
    gap_tolerance: float
    progress: Progress | None


def _optimal(*, problem: AllocationProblem, screened: Screened, options: _Options) -> _Outcome:
    pairs = screened.pairs
    if pairs is None:
        return _locations(problem=problem, screened=screened, options=options)
    if pairs.unit_workload:
        result = solve_pair_flow(
            pairs=pairs,
            n_leads=problem.leads.size,
            capacity=problem.branches.capacity,
            balance_weight=problem.params.balance_weight,
        )
        return result.branch, result.lower_bound, "optimal", (), 1, None
    return _generalized(
        problem=problem, screened=screened, time_limit_s=options.time_limit_s, seed=options.seed
    )


def _locations(*, problem: AllocationProblem, screened: Screened, options: _Options) -> _Outcome:
    idx = np.flatnonzero(screened.active)
    branch = np.full(problem.leads.size, -1, np.int64)
    if len(idx) == 0:  # nobody competes for any place: every price is 0
        return branch, 0.0, "optimal", (), 0, np.zeros(problem.branches.size)
    data = _location_input(problem=problem, idx=idx)
    result = solve_locations(
        data=data,
        time_limit_s=options.time_limit_s,
        gap_tolerance=options.gap_tolerance,
        progress=options.progress,
    )
    branch[idx] = result.branch
    branch, added = augment_to_maximum(problem=problem, active=screened.active, branch=branch)
    status: Status = "optimal" if result.optimal and not added else "feasible"
    notes: tuple[str, ...] = ()
    if added:
        notes = (f"{added} lead(s) placed by augmenting paths after the time limit",)
    # The plan now leaves out the fewest leads possible, so each iteration's prices bound the
    # optimum at that count (weak duality holds for any prices).
    unassigned = int(np.count_nonzero(branch[idx] < 0))
    bound = max(result.lower_bound, result.bound_with(unassigned), 0.0) / 1000.0
    if problem.value is not None:  # every plan of this count paid the reward per lead
        bound -= problem.value.reward_km * (len(idx) - unassigned)
    # The proof's prices describe this plan to within its proven gap (a round stopped by the
    # clock keeps them); augmenting after the clock moved leads the prices never saw. Under a
    # value objective they price distance - value, which routing (distance + price) does not
    # know: none are kept.
    prices = None if added or problem.value is not None else _prices_km(result)
    return branch, bound, status, notes, result.iterations, prices


def _prices_km(result: TransportResult) -> FloatArray | None:
    """The proof's branch prices in km; inf where the price reached the unassignment penalty
    (no place there can be freed at any finite cost)."""
    if result.prices is None:
        return None
    return np.where(result.prices >= result.price_cap, np.inf, result.prices / UNITS_PER_COST)


def _location_input(*, problem: AllocationProblem, idx: IntArray) -> LocationInput:
    """The flow's leads; under a value objective grouped by class, each class's arcs dearer by
    (reward - value) so that no cost is negative."""
    geo = geometry(problem, leads=idx)
    data = LocationInput(
        geo=geo,
        lat=problem.leads.lat[idx],
        lon=problem.leads.lon[idx],
        tier=problem.leads.tier[idx],
        capacity=problem.branches.capacity,
        balance_weight=problem.params.balance_weight,
    )
    value = problem.value
    if value is None:
        return data
    reward = value.reward_km
    geo = replace(
        geo,
        eligible=geo.eligible[value.class_tier],
        class_cost=(reward - value.value_km) * 1000.0,
    )
    return replace(data, geo=geo, tier=value.lead_class[idx], reward_m=reward * 1000.0)


def _generalized(
    *, problem: AllocationProblem, screened: Screened, time_limit_s: float, seed: int
) -> _Outcome:
    """Workloads > 1: CP-SAT (allocation.solvers.gap_cpsat); the balance term is not modelled."""
    from allocation.solvers.gap_cpsat import solve_gap

    assert screened.pairs is not None
    leads, rows, exact = gap_pairs(pairs=screened.pairs)
    result = solve_gap(
        n_leads=len(leads),
        capacities=problem.branches.capacity.tolist(),
        pairs=rows,
        time_limit_s=time_limit_s,
        workers=2,
        seed=seed,
    )
    branch = np.full(problem.leads.size, -1, np.int64)
    local = np.asarray(result.assignment, np.int64)
    branch[leads[local >= 0]] = local[local >= 0]
    filled = _fill_room(problem=problem, pairs=screened.pairs, branch=branch)
    assigned = int(np.count_nonzero(local >= 0))
    slack = rounding_slack(assigned=assigned, exact=exact)
    bound: float | None = max(0.0, result.bound / 1000.0 - slack)  # costs are >= 0
    notes: tuple[str, ...] = ("generalized assignment solved with CP-SAT",)
    status: Status = result.status
    if filled or (bound is not None and bound > result.objective / 1000.0 + 1e-9):
        # The bound is for the most leads CP-SAT could place; this plan differs from that one.
        bound, notes = None, (*notes, "no cost bound: the time limit ended the search early")
        status = "feasible" if status == "optimal" else status
    if problem.params.balance_weight > 0:
        notes += ("balance_weight is not applied when workloads exceed 1",)
    return branch, bound, status, notes, 1, None


def _fill_room(*, problem: AllocationProblem, pairs: PairTable, branch: IntArray) -> int:
    """Place unassigned leads on their cheapest pair with room left (if a search stopped early);
    returns how many were placed."""
    sent = branch >= 0
    room = problem.branches.capacity - np.bincount(
        branch[sent],
        weights=lead_workloads(problem=problem, branch=branch)[sent],
        minlength=problem.branches.size,
    ).astype(np.int64)
    placed = 0
    start = np.searchsorted(pairs.lead, np.arange(problem.leads.size + 1))
    for i in np.flatnonzero(~sent).tolist():
        k = np.arange(start[i], start[i + 1])
        k = k[room[pairs.branch[k]] >= pairs.workload[k]]
        if len(k):
            best = int(k[np.lexsort((pairs.branch[k], pairs.cost[k]))[0]])
            branch[i] = pairs.branch[best]
            room[pairs.branch[best]] -= pairs.workload[best]
            placed += 1
    return placed


def build_plan(
    *,
    problem: AllocationProblem,
    screened: Screened,
    branch: IntArray,
    method: Method,
    status: Status,
    lower_bound: float | None,
    iterations: int,
    notes: tuple[str, ...],
    solve_seconds: float,
    branch_price_km: FloatArray | None = None,
) -> Plan:
    """Per-lead columns and round totals from a branch-per-lead vector."""
    reason = screened.reason.copy()
    reason[screened.active & (branch < 0)] = reason_code(Reason.CAPACITY_EXHAUSTED)
    distance = lead_distances(problem=problem, branch=branch)
    cost = distance if problem.pairs is None else pair_costs(problem=problem, branch=branch)
    if problem.value is not None:
        cost = distance - lead_value_km(values=problem.value, branch=branch)
    sent = branch >= 0
    loads = np.bincount(
        branch[sent],
        weights=lead_workloads(problem=problem, branch=branch)[sent],
        minlength=problem.branches.size,
    ).astype(np.int64)
    modelled = not any(n.startswith("balance_weight is not applied") for n in notes)
    weight = problem.params.balance_weight if modelled else 0.0
    return Plan(
        method=method,
        status=status,
        branch=branch,
        reason=reason,
        distance_km=distance,
        cost=cost,
        nearest=screened.nearest,
        objective=float(cost[sent].sum()),
        balance_penalty=balance_penalty(
            load=loads, capacity=problem.branches.capacity, weight=weight
        ),
        lower_bound=lower_bound,
        solve_seconds=solve_seconds,
        iterations=iterations,
        notes=notes,
        branch_price_km=branch_price_km,
    )


def lead_distances(*, problem: AllocationProblem, branch: IntArray) -> FloatArray:
    """Haversine km from each assigned, located lead to its branch; NaN otherwise."""
    leads, branches = problem.leads, problem.branches
    out = np.full(leads.size, np.nan)
    i = np.flatnonzero((branch >= 0) & leads.located)
    out[i] = haversine_km_np(
        leads.lat[i], leads.lon[i], branches.lat[branch[i]], branches.lon[branch[i]]
    )
    return out


def pair_costs(*, problem: AllocationProblem, branch: IntArray) -> FloatArray:
    """The listed cost of each assigned lead's pair; NaN when unassigned."""
    pairs = problem.pairs
    assert pairs is not None
    out = np.full(problem.leads.size, np.nan)
    i = np.flatnonzero(branch >= 0)
    key = pairs.lead * problem.branches.size + pairs.branch
    pos = np.searchsorted(key, i * problem.branches.size + branch[i])
    out[i] = pairs.cost[np.minimum(pos, len(key) - 1)]
    return out
