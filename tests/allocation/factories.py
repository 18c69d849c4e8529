"""Small problem builders shared by the allocation tests."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st
from ortools.graph.python import min_cost_flow

from allocation.geo import haversine_km
from allocation.model import (
    AllocationParams,
    AllocationProblem,
    BranchSpec,
    LeadSpec,
    PairSpec,
    build_problem,
)
from allocation.plan import balance_breakpoints
from allocation.value import RateSpec

# Conversion rates of the value objective's tests: by tier, then overrides by branch and channel.
VALUE_RATES = (
    RateSpec(tier="mass", conversion_rate=0.02, mean_revenue_fen=200_000),
    RateSpec(tier="affluent", conversion_rate=0.05, mean_revenue_fen=1_000_000),
    RateSpec(tier="hnw", conversion_rate=0.1, mean_revenue_fen=5_000_000),
    RateSpec(tier="hnw", conversion_rate=0.3, mean_revenue_fen=5_000_000, branch_code="B0"),
    RateSpec(tier="mass", conversion_rate=0.2, mean_revenue_fen=300_000, channel="wechat"),
)


def branch(
    code: str,
    *point_capacity: float,
    tiers: frozenset[str] = frozenset(),
    active: bool = True,
) -> BranchSpec:
    lat, lon, capacity = point_capacity
    return BranchSpec(
        code=code,
        name=f"Branch {code}",
        lat=lat,
        lon=lon,
        capacity=int(capacity),
        tiers=tiers,
        active=active,
    )


def lead(key: str, lat: float | None, lon: float | None, tier: str = "mass") -> LeadSpec:
    return LeadSpec(external_id=key, lat=lat, lon=lon, tier=tier)


def problem(
    branches: list[BranchSpec],
    leads: list[LeadSpec],
    *,
    pairs: list[PairSpec] | None = None,
    balance_weight: float = 0.0,
    max_distance_km: float | None = None,
) -> AllocationProblem:
    return build_problem(
        branches=branches,
        leads=leads,
        pairs=pairs,
        params=AllocationParams(balance_weight=balance_weight, max_distance_km=max_distance_km),
    )


def options(p: AllocationProblem) -> list[list[tuple[int, float, int]]]:
    """Every eligible (branch, cost, workload) per lead, from the data alone."""
    out: list[list[tuple[int, float, int]]] = []
    b, leads, limit = p.branches, p.leads, p.params.max_distance_km
    listed: dict[tuple[int, int], tuple[float, int]] = {}
    if p.pairs is not None:
        for i, j, c, w in zip(
            p.pairs.lead, p.pairs.branch, p.pairs.cost, p.pairs.workload, strict=True
        ):
            listed[(int(i), int(j))] = (float(c), int(w))
    for i in range(leads.size):
        row = []
        located = not math.isnan(leads.lat[i])
        for j in range(b.size):
            if not (b.active[j] and b.serves[j, leads.tier[i]]):
                continue
            d = haversine_km(leads.lat[i], leads.lon[i], b.lat[j], b.lon[j]) if located else None
            if (p.pairs is None or limit is not None) and d is None:
                continue
            if limit is not None and d is not None and d > limit:
                continue
            if p.pairs is None:
                assert d is not None
                row.append((j, d, 1))
            elif (i, j) in listed:
                row.append((j, *listed[(i, j)]))
        out.append(row)
    return out


def balance(p: AllocationProblem, load: list[int]) -> float:
    w = p.params.balance_weight
    total = 0.0
    for used, cap in zip(load, p.branches.capacity.tolist(), strict=True):
        if cap and w:
            bp = balance_breakpoints(cap).astype(float)
            total += w * float(np.interp(used, bp, bp * bp / cap))
    return total


def brute_force(p: AllocationProblem) -> tuple[int, float]:
    """(max assigned, min cost + balance among plans assigning that many)."""
    opts = [[(-1, 0.0, 0), *row] for row in options(p)]
    best = (-1, math.inf)
    for plan in itertools.product(*opts):
        load = [0] * p.branches.size
        for j, _c, w in plan:
            if j >= 0:
                load[j] += w
        if any(u > c for u, c in zip(load, p.branches.capacity.tolist(), strict=True)):
            continue
        n = sum(1 for j, _c, _w in plan if j >= 0)
        value = sum(c for j, c, _w in plan if j >= 0) + balance(p, load)
        if n > best[0] or (n == best[0] and value < best[1] - 1e-12):
            best = (n, value)
    return best


def dense_flow(p: AllocationProblem) -> tuple[int, float]:
    """Reference: one node per lead, an arc to every eligible branch (unit workloads), costs in
    micro-units, unassignment at a huge penalty, balance as rising branch->sink arcs."""
    scale = 1_000_000
    opts = options(p)
    n, m = p.leads.size, p.branches.size
    sink = n + m
    big = (m + 1) * (
        int(max([c for row in opts for _j, c, _w in row], default=0) * scale)
        + int(2 * p.params.balance_weight * scale)
        + 1
    ) + 1
    f = min_cost_flow.SimpleMinCostFlow()
    for i, row in enumerate(opts):
        for j, c, _w in row:
            f.add_arc_with_capacity_and_unit_cost(i, n + j, 1, round(c * scale))
        f.add_arc_with_capacity_and_unit_cost(i, sink, 1, big)
        f.set_node_supply(i, 1)
    for j, cap in enumerate(p.branches.capacity.tolist()):
        bp = balance_breakpoints(cap).tolist()
        for a, b in itertools.pairwise(bp):
            slope = p.params.balance_weight * (a + b) / cap if cap else 0.0
            f.add_arc_with_capacity_and_unit_cost(n + j, sink, b - a, round(slope * scale))
    f.set_node_supply(sink, -n)
    assert f.solve() == f.OPTIMAL
    unassigned = sum(f.flow(a) for a in range(f.num_arcs()) if f.tail(a) < n and f.head(a) == sink)
    return n - unassigned, (f.optimal_cost() - big * unassigned) / scale


@st.composite
def instances(draw: st.DrawFn, *, max_leads: int = 25, max_branches: int = 6) -> AllocationProblem:
    n_b = draw(st.integers(1, max_branches))
    n_l = draw(st.integers(0, max_leads))
    coord = st.tuples(st.floats(30.0, 30.6), st.floats(120.0, 120.6))
    tiers = st.sampled_from(["mass", "affluent", "hnw"])
    branches = []
    for j in range(n_b):
        lat, lon = draw(coord)
        served = draw(
            st.sampled_from([frozenset(), frozenset({"mass"}), frozenset({"mass", "affluent"})])
        )
        branches.append(
            branch(
                f"B{j}",
                lat,
                lon,
                draw(st.integers(0, 6)),
                tiers=served,
                active=draw(st.booleans()) or j == 0,
            )
        )
    leads = []
    for i in range(n_l):
        point: tuple[float | None, float | None] = (
            draw(coord) if draw(st.integers(0, 9)) else (None, None)
        )
        leads.append(lead(f"L{i}", point[0], point[1], draw(tiers)))
    return problem(
        branches,
        leads,
        balance_weight=draw(st.sampled_from([0.0, 0.0, 0.7, 5.0])),
        max_distance_km=draw(st.sampled_from([None, None, 25.0, 45.0])),
    )
