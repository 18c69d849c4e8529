"""Rounds solved with forecast arrivals (issue 16.2): the forecast takes places on the real
capacities, never appears in the customers' plan, and changes nothing when absent."""

from __future__ import annotations

import numpy as np
import pytest

from allocation.errors import InvalidValueError
from allocation.forecast import real_part
from allocation.model import AllocationParams, PairSpec, build_problem
from allocation.routing import Branches, first_with_room, preference
from allocation.solve import solve
from allocation.validate import assert_valid, validate_plan
from tests.allocation.factories import branch, lead

WEST, EAST = (22.5, 114.0), (22.5, 114.2)  # ~20.5 km apart
NEAR_WEST = (22.5, 114.01)  # customers: moving one to E costs less than moving a forecast lead


def _world(*, forecast: int, customers: int = 3, west: int = 3, east: int = 10) -> tuple:
    branches = [branch("W", *WEST, west), branch("E", *EAST, east)]
    leads = [lead(f"L{i}", *NEAR_WEST) for i in range(customers)]
    phantoms = [lead(f"F{i}", *WEST) for i in range(forecast)]
    return branches, leads, phantoms


def test_the_forecast_takes_places_that_the_customers_plan_leaves_empty() -> None:
    branches, leads, phantoms = _world(forecast=2, customers=2, west=3)
    problem = build_problem(branches=branches, leads=leads, forecast=phantoms)
    plan = solve(problem, gap_tolerance=0.0)
    assert_valid(problem=problem, plan=plan)  # the joint plan, forecast included
    reserved = real_part(problem=problem, plan=plan)
    assert reserved.plan.branch.size == 2
    assert list(reserved.problem.leads.external_ids) == ["L0", "L1"]
    assert reserved.kept.tolist() == [2, 0]  # W keeps two places; a customer goes to E
    assert reserved.total_kept == 2
    assert reserved.plan.branch.tolist() == [0, 1] or reserved.plan.branch.tolist() == [1, 0]
    # The customers' plan is a valid plan of the customers on what is left after the room kept.
    assert reserved.problem.branches.capacity.tolist() == [1, 10]
    assert_valid(problem=reserved.problem, plan=reserved.plan)
    assert reserved.plan.objective == pytest.approx(float(np.nansum(reserved.plan.distance_km)))
    assert any("2 place(s) kept" in note for note in reserved.plan.notes)


def test_capacity_counts_the_forecast_leads_too() -> None:
    branches, leads, phantoms = _world(forecast=4, customers=3, west=3, east=2)
    problem = build_problem(branches=branches, leads=leads, forecast=phantoms)
    plan = solve(problem)
    loads = plan.loads(problem=problem)
    assert (loads <= problem.branches.capacity).all()
    assert plan.assigned == 5  # 7 leads, 5 places: two left out, whichever kind
    reserved = real_part(problem=problem, plan=plan)
    assert int(reserved.plan.loads(problem=reserved.problem).sum()) + reserved.total_kept == 5
    # A plan that puts the forecast over a branch's capacity is caught by the validator.
    crowded = plan.branch.copy()
    crowded[3:] = 0
    forged = type(plan)(**{**plan.__dict__, "branch": crowded})
    assert any(v.kind == "capacity" for v in validate_plan(problem=problem, plan=forged).violations)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("balance_weight", [0.0, 2.0])
def test_without_a_forecast_the_plan_is_the_same_byte_for_byte(
    seed: int, balance_weight: float
) -> None:
    rng = np.random.default_rng(seed)
    branches = [branch(f"B{j}", 30 + rng.random(), 120 + rng.random(), int(rng.integers(1, 6)))
                for j in range(8)]  # fmt: skip
    leads = [lead(f"L{i}", 30 + rng.random(), 120 + rng.random()) for i in range(40)]
    params = AllocationParams(balance_weight=balance_weight)
    plain = solve(build_problem(branches=branches, leads=leads, params=params))
    problem = build_problem(branches=branches, leads=leads, params=params, forecast=())
    assert problem.forecast == 0
    again = solve(problem)
    reserved = real_part(problem=problem, plan=again)
    assert reserved.plan is again
    assert reserved.problem is problem
    assert reserved.total_kept == 0
    for name in ("branch", "reason", "distance_km", "cost", "nearest", "branch_price_km"):
        assert getattr(again, name).tobytes() == getattr(plain, name).tobytes(), name
    assert (again.objective, again.lower_bound) == (plain.objective, plain.lower_bound)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_random_worlds_give_valid_split_plans_with_a_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    branches = [branch(f"B{j}", 30 + rng.random(), 120 + rng.random(), int(rng.integers(2, 9)),
                       tiers=frozenset({"mass"}) if j % 3 == 0 else frozenset())
                for j in range(10)]  # fmt: skip
    tiers = ["mass", "affluent", "hnw"]
    leads = [lead(f"L{i}", 30 + rng.random(), 120 + rng.random(), tiers[i % 3])
             for i in range(45)]  # fmt: skip
    phantoms = [lead(f"F{i}", 30 + rng.random(), 120 + rng.random(), tiers[i % 3])
                for i in range(8)]  # fmt: skip
    problem = build_problem(branches=branches, leads=leads, forecast=phantoms)
    plan = solve(problem, gap_tolerance=0.0)
    assert_valid(problem=problem, plan=plan)
    reserved = real_part(problem=problem, plan=plan)
    assert not any(i.startswith("F") for i in reserved.problem.leads.external_ids)
    assert_valid(problem=reserved.problem, plan=reserved.plan)
    assert reserved.plan.lower_bound is not None
    assert reserved.plan.lower_bound <= reserved.plan.objective + 1e-6
    assert (reserved.kept + reserved.plan.loads(problem=reserved.problem)
            <= problem.branches.capacity).all()  # fmt: skip


def test_an_arrival_routed_at_the_prices_finds_the_room_kept_for_it() -> None:
    """W is the only branch near everyone: without a forecast the round fills it, and the
    arrival travels 20 km to E; with one, the round keeps W's last place and the arrival takes it
    (a customer travels instead: the round pays that km, the day saves it)."""
    branches, leads, phantoms = _world(forecast=1, customers=3, west=3)
    arrival_eligible = np.ones(2, np.bool_)
    for forecast, expected in ((), 1), (phantoms, 0):
        problem = build_problem(branches=branches, leads=leads, forecast=forecast)
        plan = solve(problem, gap_tolerance=0.0)
        reserved = real_part(problem=problem, plan=plan)
        assert reserved.plan.branch_price_km is not None
        room = problem.branches.capacity - reserved.plan.loads(problem=reserved.problem)
        prices = Branches(lat=problem.branches.lat, lon=problem.branches.lon,
                          price_km=reserved.plan.branch_price_km)  # fmt: skip
        ranked = preference(lat=WEST[0], lon=WEST[1], branches=prices,
                            eligible=arrival_eligible, max_distance_km=None)  # fmt: skip
        found = first_with_room(ranked, room)
        assert found is not None
        assert found[0] == expected


def test_a_forecast_is_for_location_mode_and_needs_its_own_ids() -> None:
    branches, leads, phantoms = _world(forecast=1)
    with pytest.raises(InvalidValueError, match="location mode"):
        build_problem(branches=branches, leads=leads, forecast=phantoms,
                      pairs=[PairSpec(external_id="L0", branch_code="W", cost=1.0)])  # fmt: skip
    with pytest.raises(Exception, match="appears twice"):
        build_problem(branches=branches, leads=leads, forecast=[lead("L0", *WEST)])
