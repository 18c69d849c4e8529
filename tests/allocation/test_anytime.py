"""Issue 12 item 6: under any time limit the optimizer returns a valid plan with the most leads
assigned and an honest bound. `time_limit_s=0` stops after the first restricted flow on every
machine, so these tests cannot flip under load."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from allocation.model import AllocationProblem, PairSpec
from allocation.solve import solve
from allocation.solvers.cardinality import augment_to_maximum
from allocation.solvers.screen import screen
from allocation.validate import validate_plan
from tests.allocation.factories import branch, dense_flow, instances, lead, problem

FAST = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _assert_honest(p: AllocationProblem, *, time_limit_s: float) -> None:
    plan = solve(p, time_limit_s=time_limit_s)
    report = validate_plan(problem=p, plan=plan)
    assert report.ok, report.violations
    assert plan.assigned == dense_flow(p)[0]
    if plan.lower_bound is None:
        assert plan.gap is None
    else:
        assert 0.0 <= plan.lower_bound <= plan.total + 1e-6 * max(1.0, plan.total)
    if plan.status == "optimal":  # closed up to the flow's rounding of 1 m per lead
        assert plan.lower_bound is not None
        assert plan.total - plan.lower_bound <= 1e-3 * max(1, plan.assigned) + 1e-6 * plan.total


@FAST
@given(instances(max_leads=40, max_branches=6))
def test_a_zero_time_limit_still_assigns_the_most_leads_with_an_honest_bound(
    p: AllocationProblem,
) -> None:
    _assert_honest(p, time_limit_s=0.0)


def test_a_crowded_round_stopped_at_once_is_valid_and_maximum() -> None:
    rng = np.random.default_rng(7)
    branches = [
        branch(f"B{j}", 30 + rng.uniform(0, 1), 120 + rng.uniform(0, 1), int(rng.integers(0, 12)))
        for j in range(25)
    ]
    leads = [
        lead(
            f"L{i}",
            30 + rng.uniform(0, 1),
            120 + rng.uniform(0, 1),
            str(rng.choice(["mass", "hnw"])),
        )
        for i in range(400)
    ]
    _assert_honest(problem(branches, leads, max_distance_km=20.0), time_limit_s=0.0)


def test_a_maximal_plan_is_augmented_to_the_maximum() -> None:
    # L0 may use A or B and sits on A; L1 may use only A (B serves mass only): moving L0 to B
    # places L1, which a "some branch with room" check alone would never find.
    p = problem(
        [branch("A", 30.0, 120.0, 1), branch("B", 30.1, 120.0, 1, tiers=frozenset({"mass"}))],
        [lead("L0", 30.0, 120.0, "mass"), lead("L1", 30.0, 120.0, "hnw")],
    )
    out, added = augment_to_maximum(
        problem=p, active=screen(p).active, branch=np.array([0, -1], np.int64)
    )
    assert (out.tolist(), added) == ([1, 0], 1)


def test_pair_mode_with_workloads_under_a_tiny_limit_is_valid_with_an_honest_bound() -> None:
    rng = np.random.default_rng(3)
    branches = [branch(f"B{j}", 30.0, 120.0, int(rng.integers(2, 9))) for j in range(8)]
    leads = [lead(f"L{i}", 30.0, 120.0) for i in range(60)]
    pairs = [
        PairSpec(
            external_id=f"L{i}",
            branch_code=f"B{j}",
            cost=float(rng.integers(0, 100)),
            workload=int(rng.integers(1, 4)),
        )
        for i in range(60)
        for j in range(8)
        if rng.random() < 0.5
    ]
    p = problem(branches, leads, pairs=pairs)
    plan = solve(p, time_limit_s=0.01)
    report = validate_plan(problem=p, plan=plan)
    assert report.ok, report.violations
    assert plan.lower_bound is None or 0.0 <= plan.lower_bound <= plan.total + 1e-6
    if plan.status == "optimal":
        assert plan.gap is not None
        assert plan.gap <= 1e-5
