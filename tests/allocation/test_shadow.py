"""Shadow prices against re-solves with one more unit of capacity (issue 15.3)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from allocation import shadow_graph
from allocation.model import AllocationProblem, BranchTable, PairSpec
from allocation.shadow import ShadowPrice, shadow_prices
from allocation.solve import solve
from tests.allocation.factories import branch, dense_flow, lead, problem

KM = 1e-6  # the reference flow rounds each arc to a micro-km


def _random_problem(seed: int, *, leads: int, branches: int, spare: int) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    caps = rng.integers(0, 6, branches)
    caps[0] += max(0, leads - spare - int(caps.sum()))
    specs = [
        branch(f"B{j}", 30 + rng.random() * 0.5, 120 + rng.random() * 0.5, int(caps[j]))
        for j in range(branches)
    ]
    points = [(30 + rng.random() * 0.5, 120 + rng.random() * 0.5) for _ in range(leads)]
    return problem(specs, [lead(f"L{i}", lat, lon) for i, (lat, lon) in enumerate(points)])


def _with_capacity(p: AllocationProblem, j: int, extra: int) -> AllocationProblem:
    capacity = p.branches.capacity.copy()
    capacity[j] += extra
    table: BranchTable = dataclasses.replace(p.branches, capacity=capacity)
    return dataclasses.replace(p, branches=table)


def _prices(p: AllocationProblem) -> tuple[ShadowPrice, ...]:
    prices = shadow_prices(problem=p, plan=solve(p, gap_tolerance=0.0))
    assert prices is not None
    return prices


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("spare", [-6, 0, 8])
def test_one_more_unit_changes_the_optimum_exactly_as_predicted(seed: int, spare: int) -> None:
    p = _random_problem(seed, leads=24, branches=6, spare=spare)
    prices = _prices(p)
    base_n, base_cost = dense_flow(p)
    for j in range(p.branches.size):
        n, cost = dense_flow(_with_capacity(p, j, 1))
        assert prices[j].leads_gained == n - base_n, (seed, j)
        assert prices[j].km_saved == pytest.approx(base_cost - cost, abs=30 * KM), (seed, j)


def test_the_product_re_solve_agrees_with_the_prediction() -> None:
    p = _random_problem(3, leads=40, branches=8, spare=-5)
    base = solve(p, gap_tolerance=0.0)
    prices = _prices(p)
    for j in (0, 3, 5, 7):
        again = solve(_with_capacity(p, j, 1), gap_tolerance=0.0)
        assert again.assigned - base.assigned == prices[j].leads_gained
        assert base.objective - again.objective == pytest.approx(prices[j].km_saved, abs=1e-9)


def test_the_predicted_change_holds_for_as_many_units_as_it_claims() -> None:
    for seed in range(6):
        p = _random_problem(seed, leads=24, branches=6, spare=-3)
        prices = _prices(p)
        base_n, base_cost = dense_flow(p)
        for j, price in enumerate(prices):
            units = min(price.holds_for or 3, 3)
            n, cost = dense_flow(_with_capacity(p, j, units))
            assert n - base_n == units * price.leads_gained
            assert base_cost - cost == pytest.approx(units * price.km_saved, abs=60 * KM)


def test_a_branch_with_room_or_nothing_to_gain_is_worth_zero() -> None:
    # A has room; B is full but its one lead sits at B itself and no one else wants B.
    p = problem(
        [branch("A", 30.0, 120.0, 5), branch("B", 31.0, 121.0, 1)],
        [lead("L1", 30.0, 120.01), lead("L2", 31.0, 121.01)],
    )
    prices = _prices(p)
    assert prices == (
        ShadowPrice(km_saved=0.0, leads_gained=0, holds_for=None),
        ShadowPrice(km_saved=0.0, leads_gained=0, holds_for=None),
    )


def test_a_full_branch_next_to_a_waiting_lead_gains_that_lead() -> None:
    p = problem(
        [branch("A", 30.0, 120.0, 1), branch("B", 35.0, 125.0, 0)],
        [lead("L1", 30.0, 120.01), lead("L2", 30.0, 120.02)],
    )
    a, b = _prices(p)
    assert a.leads_gained == 1
    assert a.km_saved < 0  # the second lead's distance is added
    assert b.leads_gained == 1  # B has no capacity at all: one unit takes the waiting lead
    assert a.holds_for == 1


def test_no_prices_with_a_balance_term_or_a_heuristic_plan() -> None:
    p = problem([branch("A", 30.0, 120.0, 1)], [lead("L1", 30.0, 120.01)], balance_weight=1.0)
    assert shadow_prices(problem=p, plan=solve(p)) is None
    q = problem([branch("A", 30.0, 120.0, 1)], [lead("L1", 30.0, 120.01)])
    assert shadow_prices(problem=q, plan=solve(q, method="greedy")) is None


@pytest.mark.parametrize("seed", range(5))
def test_pair_mode_prices_match_the_reference_flow(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    room = 4 + 2 * seed  # from short of capacity to plenty
    branches = [branch(f"B{j}", 30.0, 120.0 + j, int(rng.integers(0, room))) for j in range(5)]
    leads = [lead(f"L{i}", None, None) for i in range(14)]
    pairs = [
        PairSpec(external_id=f"L{i}", branch_code=f"B{j}", cost=float(rng.integers(0, 50)) / 4)
        for i in range(14)
        for j in range(5)
        if rng.random() < 0.6
    ]
    p = problem(branches, leads, pairs=pairs)
    prices = _prices(p)
    base_n, base_cost = dense_flow(p)
    for j in range(p.branches.size):
        n, cost = dense_flow(_with_capacity(p, j, 1))
        assert prices[j].leads_gained == n - base_n, (seed, j)
        assert prices[j].km_saved == pytest.approx(base_cost - cost, abs=30 * KM), (seed, j)
        units = min(prices[j].holds_for or 3, 3)  # ties make longer ranges here
        n, cost = dense_flow(_with_capacity(p, j, units))
        assert n - base_n == units * prices[j].leads_gained, (seed, j, units)
        assert base_cost - cost == pytest.approx(units * prices[j].km_saved, abs=60 * KM)


def _shared_points_problem(seed: int, *, spare: int) -> AllocationProblem:
    """Leads drawn from a few points, as a pool's leads share a region's centre."""
    rng = np.random.default_rng(seed)
    caps = rng.integers(0, 6, 6)
    caps[0] += max(0, 30 - spare - int(caps.sum()))
    specs = [
        branch(f"B{j}", 30 + rng.random() * 0.5, 120 + rng.random() * 0.5, int(caps[j]))
        for j in range(6)
    ]
    points = [(30 + rng.random() * 0.5, 120 + rng.random() * 0.5) for _ in range(5)]
    picks = rng.integers(0, len(points), 30)
    return problem(specs, [lead(f"L{i}", *points[k]) for i, k in enumerate(picks)])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("spare", [-6, 0, 8])
def test_leads_at_shared_points_are_priced_as_one_by_one(
    seed: int, spare: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alike leads are summarised once with their count: the same prices (and the same room,
    which counts tied leads) as summarising each lead on its own, and as the re-solves."""
    p = _shared_points_problem(seed, spare=spare)
    plan = solve(p, gap_tolerance=0.0)
    merged = shadow_prices(problem=p, plan=plan)
    monkeypatch.setattr(shadow_graph, "distinct", _each_on_its_own)
    assert shadow_prices(problem=p, plan=plan) == merged
    assert merged is not None
    base_n, base_cost = dense_flow(p)
    for j, price in enumerate(merged):
        units = min(price.holds_for or 3, 3)
        n, cost = dense_flow(_with_capacity(p, j, units))
        assert n - base_n == units * price.leads_gained, (seed, j, units)
        assert base_cost - cost == pytest.approx(units * price.km_saved, abs=60 * KM)


def _each_on_its_own(
    problem: AllocationProblem, plan: object, idx: np.ndarray, src: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return idx, src, np.ones(len(idx), np.int64)
