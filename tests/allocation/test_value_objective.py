"""Value-aware objectives (issue 15.4): tier priority and expected value, same flow, honest gap."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.graph.python import min_cost_flow

from allocation.errors import InvalidProblemError
from allocation.model import AllocationParams, AllocationProblem, LeadSpec, PairSpec, build_problem
from allocation.report import round_report
from allocation.shadow import shadow_prices
from allocation.solve import solve
from allocation.validate import validate_plan
from allocation.value import ObjectiveSpec, RateSpec
from tests.allocation.factories import VALUE_RATES, branch, lead, options

FAST = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
CHANNELS = ("douyin", "wechat", "web")
RATES = (
    *VALUE_RATES,
    RateSpec(
        tier="affluent",
        conversion_rate=0.5,
        mean_revenue_fen=900_000,
        branch_code="B1",
        channel="web",
    ),
)
MODES = (
    ObjectiveSpec(),
    ObjectiveSpec(mode="tier_priority"),
    ObjectiveSpec(mode="tier_priority", tier_weights_km={"hnw": 7.0, "affluent": 3.0}),
    ObjectiveSpec(mode="expected_value", price_per_km_fen=2000, rates=RATES),
)


def _issue_round(objective: ObjectiveSpec) -> AllocationProblem:
    """One branch with room for two; two hnw leads ~3 km away, two mass leads ~1 km away."""
    return build_problem(
        branches=[branch("B0", 31.0, 121.0, 2)],
        leads=[
            lead("H1", 31.027, 121.0, "hnw"),
            lead("H2", 30.973, 121.0, "hnw"),
            lead("M1", 31.009, 121.0, "mass"),
            lead("M2", 30.991, 121.0, "mass"),
        ],
        objective=objective,
    )


def test_distance_alone_drops_the_hnw_leads_tier_priority_keeps_them() -> None:
    kept = {}
    for mode in ("distance", "tier_priority"):
        p = _issue_round(ObjectiveSpec(mode=mode))
        plan = solve(p)
        assert validate_plan(problem=p, plan=plan).ok
        assert plan.status == "optimal"
        kept[mode] = {p.leads.external_ids[i] for i in np.flatnonzero(plan.branch >= 0)}
    assert kept == {"distance": {"M1", "M2"}, "tier_priority": {"H1", "H2"}}


def test_expected_value_prefers_the_branch_and_channel_that_convert() -> None:
    """Two branches 10 km apart; the wechat mass lead converts far better at B1."""
    rates = (
        RateSpec(tier="mass", conversion_rate=0.01, mean_revenue_fen=100_000),
        RateSpec(tier="mass", conversion_rate=0.5, mean_revenue_fen=100_000, branch_code="B1"),
    )
    leads = [LeadSpec(external_id="L", lat=31.0, lon=121.0, channel="wechat")]
    branches = [branch("B0", 31.0, 121.01, 5), branch("B1", 31.09, 121.0, 5)]
    near = solve(build_problem(branches=branches, leads=leads))
    p = build_problem(
        branches=branches,
        leads=leads,
        objective=ObjectiveSpec(mode="expected_value", price_per_km_fen=1000, rates=rates),
    )
    plan = solve(p)
    assert int(near.branch[0]) == 0
    assert int(plan.branch[0]) == 1
    said = plan.assignment(problem=p, index=0).explanation
    assert said == "nearest eligible branch B0 had room (lead value)"
    report = round_report(problem=p, plan=plan)
    assert report["objective_mode"] == "expected_value"
    assert report["value"]["expected_conversions"] == pytest.approx(0.5)
    assert report["value"]["expected_revenue_fen"] == 50_000
    # cost = km - value: 10 km of travel against 50,000 fen / 1,000 fen per km = 50 km
    assert plan.objective == pytest.approx(float(plan.distance_km[0]) - 50.0)


def test_rates_fall_back_from_the_most_specific_row_to_the_tier_row() -> None:
    p = build_problem(
        branches=[branch("B0", 31.0, 121.0, 9), branch("B1", 31.1, 121.0, 9)],
        leads=[
            LeadSpec(external_id=f"L{k}", lat=31.0, lon=121.0, tier=t, channel=c)
            for k, (t, c) in enumerate(
                [("mass", "web"), ("mass", "wechat"), ("affluent", "web"), ("hnw", "douyin")]
            )
        ],
        objective=ObjectiveSpec(mode="expected_value", rates=RATES),
    )
    v = p.value
    assert v is not None
    rate = {
        (p.leads.external_ids[i], p.branches.codes[j]): float(v.conversion[v.lead_class[i], j])
        for i in range(4)
        for j in range(2)
    }
    assert rate == {
        ("L0", "B0"): 0.02,  # (*, mass, *)
        ("L0", "B1"): 0.02,
        ("L1", "B0"): 0.2,  # (*, mass, wechat)
        ("L1", "B1"): 0.2,
        ("L2", "B0"): 0.05,  # (*, affluent, *)
        ("L2", "B1"): 0.5,  # (B1, affluent, web)
        ("L3", "B0"): 0.3,  # (B0, hnw, *)
        ("L3", "B1"): 0.1,
    }


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (ObjectiveSpec(mode="revenue"), "objective"),
        (ObjectiveSpec(mode="tier_priority", tier_weights_km={"vip": 5.0}), "tier_weights"),
        (ObjectiveSpec(mode="tier_priority", tier_weights_km={"hnw": -1.0}), "tier_weights"),
        (ObjectiveSpec(mode="expected_value", price_per_km_fen=0), "price_per_km"),
        (
            ObjectiveSpec(mode="expected_value", rates=(RateSpec("hnw", 1.5, 10),)),
            "conversion_rate",
        ),
        (
            ObjectiveSpec(mode="expected_value", rates=(RateSpec("hnw", 0.5, -1),)),
            "mean_revenue_fen",
        ),
        (
            ObjectiveSpec(mode="expected_value", rates=(RateSpec("hnw", 0.5, 1, branch_code="X"),)),
            "branch_code",
        ),
        (
            ObjectiveSpec(mode="expected_value", rates=(RateSpec("hnw", 0.5, 1),) * 2),
            "tier",
        ),
        (
            ObjectiveSpec(
                mode="expected_value", price_per_km_fen=1, rates=(RateSpec("mass", 1.0, 10**9),)
            ),
            "price_per_km",
        ),
    ],
)
def test_bad_objectives_are_refused_naming_the_field(spec: ObjectiveSpec, field: str) -> None:
    with pytest.raises(InvalidProblemError) as caught:
        build_problem(
            branches=[branch("B0", 31.0, 121.0, 1)], leads=[lead("L", 31.0, 121.0)], objective=spec
        )
    assert caught.value.field == field


def test_value_objectives_are_refused_in_pair_mode() -> None:
    with pytest.raises(InvalidProblemError):
        build_problem(
            branches=[branch("B0", 31.0, 121.0, 1)],
            leads=[lead("L", 31.0, 121.0)],
            pairs=[PairSpec(external_id="L", branch_code="B0", cost=1.0)],
            objective=ObjectiveSpec(mode="tier_priority"),
        )


def test_the_distance_objective_is_the_old_problem() -> None:
    leads = [lead(f"L{i}", 31.0 + i / 100, 121.0, "hnw" if i % 3 else "mass") for i in range(9)]
    branches = [branch("B0", 31.0, 121.0, 3), branch("B1", 31.05, 121.02, 3)]
    old = solve(build_problem(branches=branches, leads=leads))
    p = build_problem(branches=branches, leads=leads, objective=ObjectiveSpec(mode="distance"))
    new = solve(p)
    assert p.value is None
    assert np.array_equal(old.branch, new.branch)
    assert (old.objective, old.lower_bound) == (new.objective, new.lower_bound)
    assert round_report(problem=p, plan=new)["value"] is None


def test_the_validator_recomputes_the_value_a_plan_claims() -> None:
    p = _issue_round(ObjectiveSpec(mode="tier_priority"))
    plan = solve(p)
    assert validate_plan(problem=p, plan=plan).ok
    # A plan claiming plain distances as its costs (no value) is refused lead by lead...
    as_distance = dataclasses.replace(
        plan, cost=plan.distance_km, objective=float(np.nansum(plan.distance_km))
    )
    kinds = {v.kind for v in validate_plan(problem=p, plan=as_distance).violations}
    assert kinds == {"cost", "objective"}
    # ...and a total off by one km is refused on its own.
    off = dataclasses.replace(plan, objective=plan.objective + 1.0)
    assert {v.kind for v in validate_plan(problem=p, plan=off).violations} == {"objective"}
    # A bound above the plan's own (negative) value is refused too.
    high = dataclasses.replace(plan, lower_bound=plan.objective + 1.0)
    assert {v.kind for v in validate_plan(problem=p, plan=high).violations} == {"lower_bound"}


@st.composite
def valued_specs(draw: st.DrawFn, *, max_leads: int, max_branches: int) -> tuple:
    coord = st.tuples(st.floats(30.0, 30.6), st.floats(120.0, 120.6))
    n_b = draw(st.integers(1, max_branches))
    branches = []
    for j in range(n_b):
        lat, lon = draw(coord)
        served = draw(st.sampled_from([frozenset(), frozenset({"mass", "affluent"})]))
        branches.append(branch(f"B{j}", lat, lon, draw(st.integers(0, 4)), tiers=served))
    leads = []
    for i in range(draw(st.integers(0, max_leads))):
        lat, lon = draw(coord)
        tier = draw(st.sampled_from(["mass", "affluent", "hnw"]))
        channel = draw(st.sampled_from(CHANNELS))
        leads.append(LeadSpec(external_id=f"L{i}", lat=lat, lon=lon, tier=tier, channel=channel))
    limit = draw(st.sampled_from([None, 30.0]))
    return branches, leads, AllocationParams(max_distance_km=limit)


def _valued(specs: tuple, objective: ObjectiveSpec) -> AllocationProblem:
    branches, leads, params = specs
    codes = {"*", *(b.code for b in branches)}
    rates = tuple(r for r in objective.rates if r.branch_code in codes)
    objective = dataclasses.replace(objective, rates=rates)
    return build_problem(branches=branches, leads=leads, params=params, objective=objective)


def _option_costs(p: AllocationProblem) -> list[list[tuple[int, float]]]:
    """Every eligible (branch, distance - value) per lead, from the data and the value table."""
    v = p.value
    out = []
    for i, row in enumerate(options(p)):
        out.append(
            [
                (j, d - (0.0 if v is None else float(v.value_km[v.lead_class[i], j])))
                for j, d, _w in row
            ]
        )
    return out


def _brute_force(p: AllocationProblem) -> tuple[int, float]:
    """(max assigned, min total cost among plans assigning that many), by enumeration."""
    best = (-1, math.inf)
    for plan in itertools.product(*[[(-1, 0.0), *row] for row in _option_costs(p)]):
        load = np.bincount([j for j, _c in plan if j >= 0], minlength=p.branches.size)
        if np.any(load > p.branches.capacity):
            continue
        n = sum(1 for j, _c in plan if j >= 0)
        value = sum(c for j, c in plan if j >= 0)
        if n > best[0] or (n == best[0] and value < best[1] - 1e-12):
            best = (n, value)
    return best


def _dense_flow(p: AllocationProblem) -> tuple[int, float]:
    """One node per lead, every eligible arc at micro-km (shifted to be >= 0), big-M out."""
    scale = 1_000_000
    rows = _option_costs(p)
    shift = -min([c for row in rows for _j, c in row], default=0.0)
    n, m = p.leads.size, p.branches.size
    big = (m + 1) * (int(max([c + shift for r in rows for _j, c in r], default=0) * scale) + 1) + 1
    f = min_cost_flow.SimpleMinCostFlow()
    for i, row in enumerate(rows):
        for j, c in row:
            f.add_arc_with_capacity_and_unit_cost(i, n + j, 1, round((c + shift) * scale))
        f.add_arc_with_capacity_and_unit_cost(i, n + m, 1, big)
        f.set_node_supply(i, 1)
    for j, cap in enumerate(p.branches.capacity.tolist()):
        f.add_arc_with_capacity_and_unit_cost(n + j, n + m, cap, 0)
    f.set_node_supply(n + m, -n)
    assert f.solve() == f.OPTIMAL
    out = sum(f.flow(a) for a in range(f.num_arcs()) if f.tail(a) < n and f.head(a) == n + m)
    return n - out, (f.optimal_cost() - big * out) / scale - shift * (n - out)


def _check(p: AllocationProblem, reference: tuple[int, float]) -> None:
    plan = solve(p)
    assert validate_plan(problem=p, plan=plan).ok
    assigned, value = reference
    assert plan.assigned == assigned
    assert plan.status == "optimal"
    # Flow costs are whole metres: at most 1 m per lead from the optimum.
    assert plan.total == pytest.approx(value, abs=1e-3 * max(1, assigned) + 1e-6)
    assert plan.lower_bound is not None
    assert plan.lower_bound <= value + 1e-6 * max(1.0, abs(value))
    assert plan.gap is not None
    assert plan.gap <= 1e-6 + 1e-3 * max(1, assigned) / max(1.0, abs(value))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(valued_specs(max_leads=6, max_branches=3), st.sampled_from(MODES))
def test_each_objective_matches_brute_force_on_tiny_rounds(
    specs: tuple, mode: ObjectiveSpec
) -> None:
    p = _valued(specs, mode)
    _check(p, _brute_force(p))


@FAST
@given(valued_specs(max_leads=40, max_branches=6), st.sampled_from(MODES))
def test_each_objective_matches_a_dense_flow_and_bounds_honestly(
    specs: tuple, mode: ObjectiveSpec
) -> None:
    p = _valued(specs, mode)
    _check(p, _dense_flow(p))
    for method in ("greedy", "round_robin"):
        other = solve(p, method=method)
        assert validate_plan(problem=p, plan=other).ok
        best = solve(p)
        if other.assigned == best.assigned:
            assert best.lower_bound is not None
            assert best.lower_bound <= other.total + 1e-6


def _short_round(seed: int, objective: ObjectiveSpec) -> AllocationProblem:
    """24 leads of mixed tiers and channels, 6 branches, a few places short."""
    rng = np.random.default_rng(seed)
    caps = rng.integers(0, 5, 6)
    caps[0] += max(0, 21 - int(caps.sum()))
    branches = [
        branch(f"B{j}", 30 + rng.random() * 0.5, 120 + rng.random() * 0.5, int(caps[j]))
        for j in range(6)
    ]
    leads = [
        LeadSpec(
            external_id=f"L{i}",
            lat=30 + rng.random() * 0.5,
            lon=120 + rng.random() * 0.5,
            tier=str(rng.choice(["mass", "affluent", "hnw"])),
            channel=str(rng.choice(CHANNELS)),
        )
        for i in range(24)
    ]
    return _valued((branches, leads, AllocationParams()), objective)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", MODES[1:], ids=["tier", "tier_weights", "expected_value"])
def test_shadow_prices_predict_one_more_unit_under_a_value_objective(
    seed: int, mode: ObjectiveSpec
) -> None:
    p = _short_round(seed, mode)
    prices = shadow_prices(problem=p, plan=solve(p, gap_tolerance=0.0))
    assert prices is not None
    base_n, base_cost = _dense_flow(p)
    for j in range(p.branches.size):
        capacity = p.branches.capacity.copy()
        capacity[j] += 1
        wider = dataclasses.replace(p, branches=dataclasses.replace(p.branches, capacity=capacity))
        n, cost = _dense_flow(wider)
        assert prices[j].leads_gained == n - base_n, (seed, j)
        assert prices[j].km_saved == pytest.approx(base_cost - cost, abs=1e-3), (seed, j)
