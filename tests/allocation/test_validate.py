"""The validator catches every kind of broken plan (each test breaks one thing)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from allocation.errors import PlanInvalidError
from allocation.model import PairSpec, Reason, reason_code
from allocation.plan import Plan
from allocation.solve import solve
from allocation.validate import assert_valid, validate_plan
from tests.allocation.factories import branch, lead, problem

P = problem(
    [
        branch("A", 30.0, 120.0, 2),
        branch("B", 30.0, 120.2, 2),
        branch("OFF", 30.0, 120.01, 5, active=False),
        branch("HNW", 30.0, 120.02, 5, tiers=frozenset({"hnw"})),
    ],
    [
        lead("L0", 30.0, 120.0),
        lead("L1", 30.0, 120.01),
        lead("L2", 30.0, 120.19),
        lead("L3", None, None),
    ],
    max_distance_km=30.0,
)
GOOD = solve(P)


def _kinds(plan: Plan) -> set[str]:
    return {v.kind for v in validate_plan(problem=P, plan=plan).violations}


def _moved(index: int, to: int) -> Plan:
    branch_ = GOOD.branch.copy()
    branch_[index] = to
    return dataclasses.replace(GOOD, branch=branch_)


def test_the_solver_plan_is_valid() -> None:
    assert validate_plan(problem=P, plan=GOOD).ok
    assert_valid(problem=P, plan=GOOD)


def test_it_catches_an_overfull_branch() -> None:
    branch_ = np.array([0, 0, 0, -1])
    plan = dataclasses.replace(GOOD, branch=branch_)
    assert "capacity" in _kinds(plan)
    with pytest.raises(PlanInvalidError):
        assert_valid(problem=P, plan=plan)


def test_it_catches_an_inactive_branch() -> None:
    assert "inactive_branch" in _kinds(_moved(1, 2))


def test_it_catches_a_tier_the_branch_does_not_serve() -> None:
    assert "tier_not_served" in _kinds(_moved(1, 3))


def test_it_catches_a_branch_index_out_of_range() -> None:
    assert "branch_index" in _kinds(_moved(1, 9))


def test_it_catches_a_lead_beyond_the_maximum_distance() -> None:
    far = problem(
        [branch("A", 30.0, 120.0, 5), branch("B", 30.0, 121.0, 5)],
        [lead("L0", 30.0, 120.0)],
        max_distance_km=30.0,
    )
    plan = solve(far)
    bad = dataclasses.replace(plan, branch=np.array([1]))
    kinds = {v.kind for v in validate_plan(problem=far, plan=bad).violations}
    assert "beyond_max_distance" in kinds


def test_it_catches_an_assigned_lead_without_location() -> None:
    plan = dataclasses.replace(
        GOOD, branch=np.r_[GOOD.branch[:3], 1], reason=np.r_[GOOD.reason[:3], 0].astype(np.int8)
    )
    assert "no_location" in _kinds(plan)


def test_it_catches_a_wrong_distance_and_a_wrong_objective() -> None:
    distance = GOOD.distance_km.copy()
    distance[0] += 1.0
    assert "distance" in _kinds(dataclasses.replace(GOOD, distance_km=distance))
    assert "objective" in _kinds(dataclasses.replace(GOOD, objective=GOOD.objective + 1.0))


def test_it_catches_a_bound_above_the_plans_value() -> None:
    assert "lower_bound" in _kinds(dataclasses.replace(GOOD, lower_bound=GOOD.total + 1.0))


def test_it_catches_missing_and_spurious_reasons() -> None:
    reason = GOOD.reason.copy()
    reason[0] = reason_code(Reason.NO_LOCATION)
    assert "reason" in _kinds(dataclasses.replace(GOOD, reason=reason))
    silent = GOOD.reason.copy()
    silent[3] = 0
    assert "reason" in _kinds(dataclasses.replace(GOOD, reason=silent))


def test_it_catches_a_false_reason() -> None:
    plan = _moved(2, -1)  # branch B has room, yet the lead is left out
    reason = plan.reason.copy()
    reason[2] = reason_code(Reason.CAPACITY_EXHAUSTED)
    assert "reason_claim" in _kinds(dataclasses.replace(plan, reason=reason))
    lost = GOOD.reason.copy()
    lost[3] = reason_code(Reason.NO_ELIGIBLE_BRANCH)  # the lead really has no location
    assert validate_plan(problem=P, plan=dataclasses.replace(GOOD, reason=lost)).ok is False


def test_it_catches_a_pair_that_is_not_listed() -> None:
    q = problem(
        [branch("A", 30.0, 120.0, 2), branch("B", 30.0, 120.2, 2)],
        [lead("L0", 30.0, 120.0)],
        pairs=[PairSpec(external_id="L0", branch_code="A", cost=1.0)],
    )
    plan = solve(q)
    assert validate_plan(problem=q, plan=plan).ok
    bad = dataclasses.replace(plan, branch=np.array([1]))
    assert "not_a_pair" in {v.kind for v in validate_plan(problem=q, plan=bad).violations}


def test_it_counts_capacity_by_workload() -> None:
    q = problem(
        [branch("A", 30.0, 120.0, 3)],
        [lead("L0", 30.0, 120.0), lead("L1", 30.0, 120.0)],
        pairs=[
            PairSpec(external_id="L0", branch_code="A", cost=1.0, workload=2),
            PairSpec(external_id="L1", branch_code="A", cost=1.0, workload=2),
        ],
    )
    plan = solve(q, time_limit_s=5)
    assert plan.assigned == 1
    assert validate_plan(problem=q, plan=plan).ok
    both = dataclasses.replace(
        plan,
        branch=np.array([0, 0]),
        reason=np.zeros(2, np.int8),
        cost=np.array([1.0, 1.0]),
        objective=2.0,
    )
    assert "capacity" in {v.kind for v in validate_plan(problem=q, plan=both).violations}
