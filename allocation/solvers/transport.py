"""Exact min-cost flow for unit-workload rounds on true coordinates (contract §5, issue 3).

Leads are grouped by tier and grid cell; a group's arc to a branch costs the MEAN true distance
of its members, which is exact whenever the whole group goes to that branch. Each iteration:
solve the sparse group network, recover branch prices, price every lead against every branch
(bounded pass), then split each group by the branch its members prefer under those prices and
give it an arc there. When no group splits and no arc is missing, every lead sits on a
min-reduced-cost arc, the flow's value equals the weak-duality bound, and the plan is optimal.
Groups only split, so the loop ends; the time limit stops it early with the bound reached.

Under a value-aware objective `tier` is the lead's class (tier, or tier and channel) and every
arc also costs the class's `geo.class_cost` at that branch: reward_m - value (m), never
negative. Every plan of the maximum count pays reward_m per lead, so it ranks plans exactly as
distance - value does, and the gap is measured on that (`reward_m` taken off again).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import EARTH_RADIUS_M, paired_metres
from allocation.plan import balance_penalty
from allocation.solvers.flow import FlowNetwork, solve_flow
from allocation.solvers.groups import Groups, cell_groups, split_groups, with_tiers
from allocation.solvers.network import (
    UNITS_PER_COST,
    Segments,
    balance_segments,
    big_m,
    solve_transport,
)
from allocation.solvers.prices import (
    SolvedTransport,
    branch_prices,
    capacity_term,
    lower_bound,
)
from allocation.solvers.pricing import Best, Geometry, arc_means, best_branch, nearest_arcs

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
CELL_DEGREES = 0.05  # initial grid: ~5 km cells; boundary cells get split by the pricing
INITIAL_ARCS = 2  # nearest branches per group before pricing adds the ones it needs
WARM_SLACK_M = 2_000.0  # warm-start arcs: branches within 2 km of a group's best reduced cost
GAP_TOLERANCE = 1e-6  # stop when proven within 0.0001% (metre rounding alone is ~1e-7)
COARSE_DEGREES = 0.25  # warm start: a solve on ~25 km cells gives near-right prices
COARSE_ARCS = 40  # nearest branches per coarse cell


@dataclass(frozen=True)
class LocationInput:
    """Leads (all located and eligible somewhere) and branches of a unit-workload round."""

    geo: Geometry
    lat: FloatArray
    lon: FloatArray
    tier: IntArray
    capacity: IntArray
    balance_weight: float
    reward_m: float = 0.0  # per assigned lead, included in every cost (value objectives)


@dataclass(frozen=True)
class Dual:
    """One iteration's Lagrangian bound as a function of the unassigned count u:
    small + big_m * (capped - u), valid for every plan leaving u leads out (any prices)."""

    small: float  # sum of the uncapped min reduced costs minus the capacity term (m)
    capped: int  # leads whose min reduced cost reached big_m
    big_m: float

    def at(self, unassigned: int) -> float:
        return self.small + self.big_m * (self.capped - unassigned)


@dataclass(frozen=True)
class TransportResult:
    branch: IntArray  # per lead of the input, -1 = unassigned
    lower_bound: float  # on cost + balance, in metres
    optimal: bool
    iterations: int
    groups: int
    arcs: int
    duals: tuple[Dual, ...] = ()
    # Branch prices (m) of the iteration that proved the bound, capped at `price_cap`: a lead's
    # best branch is argmin(distance + price) among those it may go to (what routing uses).
    prices: FloatArray | None = None
    price_cap: float = math.inf

    def bound_with(self, unassigned: int) -> float:
        """Best bound (m, >= 0) on plans leaving `unassigned` leads out: with the maximum
        count, a bound on the optimum whatever plan the clock stopped at."""
        return max([0.0, *(d.at(unassigned) for d in self.duals)])


@dataclass(frozen=True)
class _State:
    groups: Groups
    arc_g: IntArray
    arc_j: IntArray
    arc_mean: FloatArray  # mean member distance (m); NaN until computed


def solve_locations(
    *,
    data: LocationInput,
    time_limit_s: float,
    gap_tolerance: float = GAP_TOLERANCE,
    progress: Callable[[str], None] | None = None,
) -> TransportResult:
    """Price-and-refine until proven optimal (gap <= gap_tolerance) or out of time."""
    deadline = time.monotonic() + time_limit_s
    model = _model(data=data)
    state = _initial_state(data=data, segs=model.segs, penalty=model.penalty)
    iteration = 0
    best_plan: _Step | None = None
    duals: list[Dual] = []
    best_bound = 0.0  # costs are >= 0; every iteration's bound is valid, keep the largest
    prices: FloatArray | None = None
    while True:
        iteration += 1
        started = time.monotonic()
        step = _iterate(data=data, model=model, state=state)
        if prices is None or step.bound >= best_bound:
            prices = step.prices
        best_bound = max(best_bound, step.bound)
        duals.append(step.dual)
        if best_plan is None or _better(step, best_plan):
            best_plan = step
        if progress is not None:
            progress(
                f"flow iteration {iteration}: {state.groups.size} groups, "
                f"{len(state.arc_g)} arcs, cost {step.value / 1000:.1f}, "
                f"bound {step.bound / 1000:.1f}, {time.monotonic() - started:.1f} s"
            )
        scale = abs(
            best_plan.value - data.reward_m * (len(best_plan.branch) - best_plan.unassigned)
        )
        proven = best_plan.value - best_bound <= gap_tolerance * max(scale, 1.0)
        optimal = step.refined is None or proven
        if optimal or step.refined is None or 2 * time.monotonic() - started > deadline:
            break
        state = step.refined
    if step.refined is None:
        best_plan, best_bound = step, max(best_bound, min(step.bound, step.value))
    return TransportResult(
        branch=best_plan.branch,
        lower_bound=min(best_bound, best_plan.value),
        optimal=optimal,
        iterations=iteration,
        groups=state.groups.size,
        arcs=len(state.arc_g),
        duals=tuple(duals),
        prices=prices,
        price_cap=float(model.penalty),
    )


@dataclass(frozen=True)
class _Model:
    segs: Segments  # branch -> sink pieces (capacity, balance slopes)
    penalty: int  # cost of leaving a lead unassigned, above any augmenting path


@dataclass(frozen=True)
class _Step:
    branch: IntArray  # lead-level plan of this iteration's flow
    value: float  # its true cost + balance (m)
    bound: float  # proven lower bound from this iteration's prices (m)
    refined: _State | None  # the next restricted problem; None when nothing is left to add
    dual: Dual
    prices: FloatArray  # branch prices of this iteration's flow (m, capped at the penalty)

    @property
    def unassigned(self) -> int:
        return int(np.count_nonzero(self.branch < 0))


def _better(step: _Step, than: _Step) -> bool:
    """More leads assigned first (contract §5 objective (1)), then the lower cost + balance."""
    return (step.unassigned, step.value) < (than.unassigned, than.value)


def _model(*, data: LocationInput) -> _Model:
    segs = balance_segments(capacity=data.capacity, weight=data.balance_weight)
    reach = min(math.pi * EARTH_RADIUS_M, data.geo.limit_m)
    if data.geo.class_cost is not None:
        reach += float(data.geo.class_cost.max(initial=0.0))
    penalty = big_m(n_branches=len(data.capacity), max_arc_cost=math.ceil(reach), segments=segs)
    return _Model(segs=segs, penalty=penalty)


def _iterate(*, data: LocationInput, model: _Model, state: _State) -> _Step:
    """Solve the restricted flow, price every lead, bound, and refine."""
    segs, cap = model.segs, float(model.penalty)
    solved = _solve_state(data=data, state=state, segs=segs, penalty=model.penalty)
    prices = np.minimum(branch_prices(solved), cap)
    best = best_branch(geo=data.geo, groups=state.groups, offset=prices, cap=cap)
    bound = lower_bound(
        best=best.value,
        big_m=cap,
        unassigned=int(solved.unassigned_flow.sum()),
        prices=prices,
        seg_branch=segs.branch,
        seg_cap=segs.cap,
        seg_slope=segs.slope,
    )
    branch = _disaggregate(geo=data.geo, groups=state.groups, solved=solved)
    capped = best.value >= cap
    small = float(best.value[~capped].sum()) - capacity_term(
        prices=np.minimum(prices, cap),
        seg_branch=segs.branch,
        seg_cap=segs.cap,
        seg_slope=segs.slope,
    )
    return _Step(
        branch=branch,
        value=_plan_value(data=data, branch=branch),
        bound=bound,
        refined=_refine(data=data, state=state, best=best),
        dual=Dual(small=small, capped=int(capped.sum()), big_m=cap),
        prices=prices,
    )


def _plan_value(*, data: LocationInput, branch: IntArray) -> float:
    """True cost + balance of a lead-level plan, in metres."""
    sent = np.flatnonzero(branch >= 0)
    metres = paired_metres(data.geo.leads[sent], data.geo.branches[branch[sent]])
    cost = float((metres + data.geo.extra(data.tier[sent], branch[sent])).sum())
    load = np.bincount(branch[sent], minlength=len(data.capacity))
    balance = balance_penalty(load=load, capacity=data.capacity, weight=data.balance_weight)
    return cost + balance * UNITS_PER_COST


def _initial_state(*, data: LocationInput, segs: Segments, penalty: int) -> _State:
    """Fine cells with their nearest arcs, refined once by the prices of a coarse solve."""
    groups = _cells(data=data, cell_deg=CELL_DEGREES)
    arc_g, arc_j = nearest_arcs(geo=data.geo, groups=groups, k=INITIAL_ARCS)
    state = _State(groups=groups, arc_g=arc_g, arc_j=arc_j, arc_mean=np.full(len(arc_g), np.nan))
    prices = _coarse_prices(data=data, segs=segs, penalty=penalty)
    best = best_branch(
        geo=data.geo, groups=groups, offset=prices, cap=float(penalty), slack=WARM_SLACK_M
    )
    return _refine(data=data, state=state, best=best) or state


def _cells(*, data: LocationInput, cell_deg: float) -> Groups:
    groups = cell_groups(
        units=data.geo.leads, lat=data.lat, lon=data.lon, tier=data.tier, cell_deg=cell_deg
    )
    return with_tiers(groups=groups, lead_tier=data.tier)


def _coarse_prices(*, data: LocationInput, segs: Segments, penalty: int) -> FloatArray:
    """Branch prices of a dense solve on coarse cells priced at their centres (a warm start)."""
    groups = _cells(data=data, cell_deg=COARSE_DEGREES)
    arc_g, arc_j = nearest_arcs(geo=data.geo, groups=groups, k=COARSE_ARCS)
    dist = paired_metres(groups.centre[arc_g], data.geo.branches[arc_j])
    dist = dist + data.geo.extra(groups.tier[arc_g], arc_j)
    solved = solve_transport(
        supply=groups.counts,
        arc_g=arc_g,
        arc_j=arc_j,
        arc_cost=np.round(dist).astype(np.int64),
        n_branches=len(data.capacity),
        segments=segs,
        big_m_cost=penalty,
    )
    return np.minimum(branch_prices(solved), float(penalty))


def _solve_state(
    *, data: LocationInput, state: _State, segs: Segments, penalty: int
) -> SolvedTransport:
    means = state.arc_mean
    todo = np.flatnonzero(np.isnan(means))
    means[todo] = arc_means(
        geo=data.geo, groups=state.groups, arc_g=state.arc_g[todo], arc_j=state.arc_j[todo]
    )
    return solve_transport(
        supply=state.groups.counts,
        arc_g=state.arc_g,
        arc_j=state.arc_j,
        arc_cost=np.round(means).astype(np.int64),
        n_branches=len(data.capacity),
        segments=segs,
        big_m_cost=penalty,
    )


def _refine(*, data: LocationInput, state: _State, best: Best) -> _State | None:
    """Split groups by preferred branch and add the arcs they prefer; None if nothing changes.

    A split group inherits its parent's arcs and pricing candidates, so boundary groups can
    trade leads between every branch that might serve them in the next solve.
    """
    n_branches = len(data.capacity)
    pref = best.branch[state.groups.members]
    label = np.where(pref >= 0, pref, n_branches)
    groups, parent, head = split_groups(groups=state.groups, units=data.geo.leads, label=label)
    groups = with_tiers(groups=groups, lead_tier=data.tier)
    old_g = np.r_[state.arc_g, best.cand_g]
    old_j = np.r_[state.arc_j, best.cand_j]
    # A group that did not split keeps its computed arc costs (same members).
    whole = np.bincount(parent, minlength=state.groups.size) == 1
    old_mean = np.r_[
        np.where(whole[state.arc_g], state.arc_mean, np.nan), np.full(len(best.cand_g), np.nan)
    ]
    order = np.argsort(old_g, kind="stable")
    start = np.searchsorted(old_g[order], np.arange(state.groups.size + 1))
    lens = start[parent + 1] - start[parent]
    inherited = order[np.repeat(start[parent], lens) + _within(lens)]
    wants = np.flatnonzero(head < n_branches)
    arc_g = np.r_[np.repeat(np.arange(groups.size), lens), wants]
    arc_j = np.r_[old_j[inherited], head[wants]]
    arc_mean = np.r_[old_mean[inherited], np.full(len(wants), np.nan)]
    key = arc_g * n_branches + arc_j
    order = np.lexsort((np.isnan(arc_mean), key))  # per key, a known cost first
    key, arc_mean = key[order], arc_mean[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    if groups.size == state.groups.size and len(first) == len(state.arc_g):
        return None
    key = key[first]
    return _State(
        groups=groups, arc_g=key // n_branches, arc_j=key % n_branches, arc_mean=arc_mean[first]
    )


def _within(lens: IntArray) -> IntArray:
    total = int(lens.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)


def _disaggregate(*, geo: Geometry, groups: Groups, solved: SolvedTransport) -> IntArray:
    """Lead-level plan: whole groups follow their flow; split groups by a small exact flow."""
    used = solved.arc_flow > 0
    dests = np.bincount(solved.arc_g[used], minlength=groups.size)
    dests += solved.unassigned_flow > 0
    target = np.full(groups.size, -1, np.int64)
    target[solved.arc_g[used]] = solved.arc_j[used]
    branch = np.full(len(geo.leads), -1, np.int64)
    branch[groups.members] = np.repeat(target, groups.counts)
    split = np.flatnonzero(dests > 1)
    if len(split):
        _split_members(geo=geo, groups=groups, solved=solved, split=split, out=branch)
    return branch


def _split_members(
    *, geo: Geometry, groups: Groups, solved: SolvedTransport, split: IntArray, out: IntArray
) -> None:
    """Members of groups sent to several places: a transportation problem on their slots."""
    is_split = np.zeros(groups.size, np.bool_)
    is_split[split] = True
    used = (solved.arc_flow > 0) & is_split[solved.arc_g]
    slot_g = np.r_[solved.arc_g[used], split]
    slot_j = np.r_[solved.arc_j[used], np.full(len(split), -1)]
    slot_n = np.r_[solved.arc_flow[used], solved.unassigned_flow[split]]
    keep = slot_n > 0
    slot_g, slot_j, slot_n = slot_g[keep], slot_j[keep], slot_n[keep]
    lens = groups.counts[split]
    members = groups.members[np.repeat(groups.start[split], lens) + _within(lens)]
    member_g = np.repeat(split, lens)
    order = np.argsort(slot_g, kind="stable")
    s_start = np.searchsorted(slot_g[order], member_g)
    s_len = np.searchsorted(slot_g[order], member_g, side="right") - s_start
    tail = np.repeat(np.arange(len(members)), s_len)
    slot = order[np.repeat(s_start, s_len) + _within(s_len)]
    lead = members[tail]
    far = slot_j[slot] < 0
    dist = paired_metres(geo.leads[lead], geo.branches[np.maximum(slot_j[slot], 0)])
    flows = solve_flow(
        FlowNetwork(
            tails=tail,
            heads=slot + len(members),
            capacities=np.ones(len(tail), np.int64),
            costs=np.where(far, 0, np.round(dist)).astype(np.int64),
            supplies=np.r_[np.ones(len(members), np.int64), -slot_n],
        )
    )
    chosen = flows > 0
    out[lead[chosen]] = slot_j[slot[chosen]]
