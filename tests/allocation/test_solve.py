"""The optimizer against independent references, the baselines and its own rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation.errors import UnknownMethodError
from allocation.model import AllocationProblem, BranchSpec, LeadSpec, PairSpec, Reason
from allocation.solve import METHODS, solve
from allocation.validate import validate_plan
from tests.allocation.factories import branch, brute_force, dense_flow, instances, lead, problem

FAST = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _check_optimal(p: AllocationProblem, reference: tuple[int, float]) -> None:
    plan = solve(p)
    report = validate_plan(problem=p, plan=plan)
    assert report.ok, report.violations
    assigned, value = reference
    assert plan.assigned == assigned
    # The flow rounds each cost to a metre: at most 1 m per lead away from the optimum.
    assert plan.total == pytest.approx(value, rel=1e-6, abs=1e-3 * max(1, assigned))
    assert plan.lower_bound is not None
    assert plan.lower_bound <= value + 1e-6 * max(1.0, value)


@FAST
@given(instances())
def test_the_optimizer_matches_a_dense_min_cost_flow(p: AllocationProblem) -> None:
    _check_optimal(p, dense_flow(p))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(instances(max_leads=6, max_branches=3))
def test_the_optimizer_matches_brute_force_on_tiny_rounds(p: AllocationProblem) -> None:
    _check_optimal(p, brute_force(p))


@FAST
@given(instances())
def test_the_optimizer_is_never_worse_than_a_baseline(p: AllocationProblem) -> None:
    best = solve(p)
    for method in METHODS[1:]:
        other = solve(p, method=method, seed=3)
        assert validate_plan(problem=p, plan=other).ok
        assert other.assigned <= best.assigned
        if other.assigned == best.assigned:
            assert best.total <= other.total + 1e-3 * max(1, best.assigned)


def test_the_same_input_gives_the_same_plan() -> None:
    rng = np.random.default_rng(7)
    branches = [branch(f"B{j}", *rng.uniform([30, 120], [31, 121]), 40) for j in range(12)]
    leads = [lead(f"L{i}", *rng.uniform([30, 120], [31, 121])) for i in range(600)]
    p = problem(branches, leads, balance_weight=1.0)
    first, second = solve(p), solve(p)
    assert np.array_equal(first.branch, second.branch)
    assert first.objective == second.objective
    a = solve(p, method="weighted_random", seed=5)
    b = solve(p, method="weighted_random", seed=5)
    assert np.array_equal(a.branch, b.branch)


@pytest.mark.parametrize(
    ("limit", "weight", "ratio"), [(None, 0.0, 1.1), (20.0, 0.0, 0.8), (35.0, 3.0, 1.0)]
)
def test_a_larger_clustered_round_matches_a_dense_flow(
    limit: float | None, weight: float, ratio: float
) -> None:
    rng = np.random.default_rng(3)
    centres = rng.uniform([22, 105], [40, 120], size=(5, 2))
    n_leads, n_branches = 800, 25
    caps = rng.multinomial(int(ratio * n_leads), np.full(n_branches, 1 / n_branches))
    tiers = [frozenset(), frozenset({"mass"}), frozenset({"mass", "affluent"})]
    branches = [
        branch(f"B{j}", *(centres[j % 5] + rng.normal(0, 0.1, 2)), int(caps[j]), tiers=tiers[j % 3])
        for j in range(n_branches)
    ]
    points = [centres[i % 5] + rng.normal(0, 0.3, 2) for i in range(n_leads)]
    leads = [
        lead(f"L{i}", float(x[0]), float(x[1]), tier=["mass", "affluent", "hnw"][i % 7 // 3])
        for i, x in enumerate(points)
    ]
    p = problem(branches, leads, max_distance_km=limit, balance_weight=weight)
    _check_optimal(p, dense_flow(p))
    assert solve(p).status == "optimal"


def test_an_unknown_method_is_refused() -> None:
    p = problem([branch("B0", 30, 120, 1)], [lead("L0", 30, 120)])
    with pytest.raises(UnknownMethodError):
        solve(p, method="best_effort")


def _reasons(p: AllocationProblem) -> list[str]:
    plan = solve(p)
    return [plan.assignment(problem=p, index=i).reason or "" for i in range(p.leads.size)]


def test_each_rule_has_a_feasible_and_an_infeasible_case() -> None:
    near, far = (30.0, 120.0), (30.0, 121.0)  # ~96 km apart
    cases: list[tuple[list[BranchSpec], list[LeadSpec], float | None, list[str]]] = [
        # (branches, leads, max distance, expected reasons)
        (
            [branch("B0", *near, 1)],
            [lead("L0", *near), lead("L1", 30.0, 120.1)],
            None,
            ["", Reason.CAPACITY_EXHAUSTED],
        ),
        (
            [branch("B0", *near, 2, active=False), branch("B1", *far, 2)],
            [lead("L0", *near)],
            None,
            [""],
        ),
        (
            [branch("B0", *near, 2, active=False)],
            [lead("L0", *near)],
            None,
            [Reason.NO_ELIGIBLE_BRANCH],
        ),
        (
            [branch("B0", *near, 2, tiers=frozenset({"hnw"}))],
            [lead("L0", *near, tier="hnw"), lead("L1", *near, tier="mass")],
            None,
            ["", Reason.NO_ELIGIBLE_BRANCH],
        ),
        (
            [branch("B0", *far, 2)],
            [lead("L0", *near), lead("L1", *far)],
            50.0,
            [Reason.BEYOND_MAX_DISTANCE, ""],
        ),
        (
            [branch("B0", *near, 2)],
            [lead("L0", None, None), lead("L1", *near)],
            None,
            [Reason.NO_LOCATION, ""],
        ),
    ]
    for branches, leads, limit, expected in cases:
        p = problem(branches, leads, max_distance_km=limit)
        assert _reasons(p) == [str(e) for e in expected]


def test_a_lead_says_its_nearest_branch_was_full() -> None:
    p = problem(
        [branch("NEAR", 30.0, 120.0, 1), branch("FAR", 30.0, 120.3, 5)],
        [lead("L0", 30.0, 120.0), lead("L1", 30.0, 120.01)],
    )
    plan = solve(p)
    moved = plan.assignment(problem=p, index=1)
    assert moved.branch_code == "FAR"
    assert moved.nearest_branch_code == "NEAR"
    assert moved.explanation == "nearest eligible branch NEAR was full"
    assert moved.distance_km == pytest.approx(27.93, abs=0.01)


def test_balance_weight_spreads_load_and_vanishes_at_zero() -> None:
    branches = [branch("A", 30.0, 120.0, 10), branch("B", 30.0, 120.05, 10)]
    leads = [lead(f"L{i}", 30.0, 120.0 + 0.001 * i) for i in range(10)]
    plain = solve(problem(branches, leads))
    spread = solve(problem(branches, leads, balance_weight=50.0))
    assert plain.balance_penalty == 0.0
    assert np.bincount(plain.branch, minlength=2).tolist() == [10, 0]
    assert np.bincount(spread.branch, minlength=2).tolist() == [5, 5]


@FAST
@given(instances(max_leads=8, max_branches=3), st.data())
def test_pair_mode_with_unit_workloads_matches_brute_force(
    p: AllocationProblem, data: st.DataObject
) -> None:
    pairs = [
        PairSpec(
            external_id=key,
            branch_code=code,
            cost=data.draw(st.sampled_from([0.0, 1.5, 2.25, 7.0, 10.125])),
        )
        for key in p.leads.external_ids
        for code in p.branches.codes
        if data.draw(st.booleans())
    ]
    from allocation.model import build_problem
    from tests.allocation.factories import lead as make_lead

    specs_b = [
        branch(
            c,
            float(p.branches.lat[j]),
            float(p.branches.lon[j]),
            int(p.branches.capacity[j]),
            active=bool(p.branches.active[j]),
        )
        for j, c in enumerate(p.branches.codes)
    ]
    specs_l = [
        make_lead(
            k,
            None if np.isnan(p.leads.lat[i]) else float(p.leads.lat[i]),
            None if np.isnan(p.leads.lon[i]) else float(p.leads.lon[i]),
        )
        for i, k in enumerate(p.leads.external_ids)
    ]
    q = build_problem(branches=specs_b, leads=specs_l, pairs=pairs, params=p.params)
    plan = solve(q)
    assert validate_plan(problem=q, plan=plan).ok
    assigned, value = brute_force(q)
    assert plan.assigned == assigned
    assert plan.total == pytest.approx(value, abs=1e-6)


def test_a_cell_straddling_the_distance_limit_never_sends_the_far_side() -> None:
    # 60 leads in one grid cell; branch B is within 27 km of only the eastern part of it.
    branches = [branch("A", 30.0, 120.0, 5), branch("B", 30.0, 120.3, 100)]
    leads = [lead(f"L{i}", 30.0, 120.001 + 0.0008 * i) for i in range(60)]
    p = problem(branches, leads, max_distance_km=27.0)
    plan = solve(p)
    report = validate_plan(problem=p, plan=plan)
    assert report.ok, report.violations[:3]
    _check_optimal(p, dense_flow(p))
    assert plan.unassigned > 0
