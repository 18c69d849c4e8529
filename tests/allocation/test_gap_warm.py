"""GAP warm start: Lagrangian bound, reduced-cost fixing, construction and local search."""

from __future__ import annotations

import itertools
import random

import pytest

from allocation.solvers import gap_cpsat
from allocation.solvers.gap_lagrange import PairArrays, relax
from allocation.solvers.gap_local import Option, construct, improve
from allocation.solvers.gap_warm import warm_start

Pair = tuple[int, int, int, int]
FAR_FUTURE = float("inf")


def _instance(seed: int) -> tuple[int, list[int], list[Pair]]:
    """A small complete GAP (every lead may go to every branch), often tight."""
    rng = random.Random(seed)
    n_leads, n_branches = rng.randint(2, 7), rng.randint(2, 3)
    pairs = [
        (lead, branch, rng.randint(0, 30), rng.randint(1, 6))
        for lead in range(n_leads)
        for branch in range(n_branches)
    ]
    total = sum(load for _l, _b, _c, load in pairs) / n_branches
    capacities = [
        max(6, int(total / n_branches * rng.uniform(0.9, 1.6))) for _ in range(n_branches)
    ]
    return n_leads, capacities, pairs


def _optimum(
    n_leads: int, capacities: list[int], pairs: list[Pair]
) -> tuple[int, list[int]] | None:
    """Cheapest plan assigning every lead, by enumeration; None if there is none."""
    table = {(lead, branch): (cost, load) for lead, branch, cost, load in pairs}
    best: tuple[int, list[int]] | None = None
    for plan in itertools.product(range(len(capacities)), repeat=n_leads):
        used = [0] * len(capacities)
        for lead, branch in enumerate(plan):
            used[branch] += table[(lead, branch)][1]
        if any(u > c for u, c in zip(used, capacities, strict=True)):
            continue
        cost = sum(table[(lead, branch)][0] for lead, branch in enumerate(plan))
        if best is None or cost < best[0]:
            best = (cost, list(plan))
    return best


def _feasible_instances() -> list[int]:
    return [s for s in range(60) if _optimum(*_instance(s)) is not None][:30]


FEASIBLE = _feasible_instances()


def _options(pairs: list[Pair], n_leads: int) -> list[list[Option]]:
    options: list[list[Option]] = [[] for _ in range(n_leads)]
    for lead, branch, cost, load in sorted(pairs, key=lambda p: (p[0], p[2], p[1])):
        options[lead].append((branch, cost, load))
    return options


def _loads(plan: list[int], pairs: list[Pair], n_branches: int) -> list[int]:
    table = {(lead, branch): load for lead, branch, _cost, load in pairs}
    used = [0] * n_branches
    for lead, branch in enumerate(plan):
        if branch >= 0:
            used[branch] += table[(lead, branch)]
    return used


def _cost(plan: list[int], pairs: list[Pair]) -> int:
    return sum(cost for lead, branch, cost, _load in pairs if plan[lead] == branch)


def test_enough_feasible_instances() -> None:
    assert len(FEASIBLE) >= 20


@pytest.mark.parametrize("seed", FEASIBLE)
def test_lagrangian_bound_never_exceeds_the_optimum(seed: int) -> None:
    n_leads, capacities, pairs = _instance(seed)
    optimum = _optimum(n_leads, capacities, pairs)
    assert optimum is not None
    relaxation = relax(PairArrays.build(pairs, capacities), upper_bound=optimum[0] + 50)
    assert relaxation.bound <= optimum[0]
    assert relaxation.value <= optimum[0] + 1e-6


@pytest.mark.parametrize("seed", FEASIBLE)
def test_reduced_cost_fixing_keeps_an_optimal_plan(seed: int) -> None:
    # With a known plan one unit dearer than the optimum, no pair of the optimum may go.
    n_leads, capacities, pairs = _instance(seed)
    optimum = _optimum(n_leads, capacities, pairs)
    assert optimum is not None
    cost, plan = optimum
    relaxation = relax(PairArrays.build(pairs, capacities), upper_bound=cost + 1)
    prunable = relaxation.prunable(cost + 1)
    for index, (lead, branch, _c, _w) in enumerate(pairs):
        if plan[lead] == branch:
            assert not prunable[index]


def test_lagrangian_bound_is_tight_when_capacities_do_not_bind() -> None:
    pairs = [(0, 0, 3, 1), (0, 1, 5, 1), (1, 0, 4, 1), (1, 1, 2, 1)]
    relaxation = relax(PairArrays.build(pairs, [10, 10]), upper_bound=100)
    assert relaxation.bound == 5.0
    assert relaxation.prunable(6).tolist() == [False, True, True, False]


@pytest.mark.parametrize("seed", FEASIBLE)
def test_local_search_keeps_capacities_and_never_costs_more(seed: int) -> None:
    n_leads, capacities, pairs = _instance(seed)
    options = _options(pairs, n_leads)
    start = construct(capacities, options, order=range(n_leads))
    if start is None:
        start = _optimum(n_leads, capacities, pairs)[1]  # type: ignore[index]
    assert all(
        u <= c for u, c in zip(_loads(start, pairs, len(capacities)), capacities, strict=True)
    )
    better = improve(start, capacities, options, deadline=FAR_FUTURE)
    used = _loads(better, pairs, len(capacities))
    assert all(u <= c for u, c in zip(used, capacities, strict=True))
    assert all(branch >= 0 for branch in better)
    assert _cost(better, pairs) <= _cost(start, pairs)


def test_swap_finds_the_exchange_a_shift_cannot() -> None:
    # Each branch holds one lead and has no spare room: only swapping them saves cost.
    pairs = [(0, 0, 9, 2), (0, 1, 1, 2), (1, 0, 1, 2), (1, 1, 9, 2)]
    options = _options(pairs, 2)
    assert improve([0, 1], [2, 2], options, deadline=FAR_FUTURE) == [1, 0]


def test_local_search_rejects_an_overloaded_start() -> None:
    pairs = [(0, 0, 1, 3), (1, 0, 1, 3)]
    with pytest.raises(ValueError, match="exceeds a capacity"):
        improve([0, 0], [4], _options(pairs, 2), deadline=FAR_FUTURE)


@pytest.mark.parametrize("seed", FEASIBLE)
def test_warm_start_bound_plan_and_kept_pairs(seed: int) -> None:
    n_leads, capacities, pairs = _instance(seed)
    optimum = _optimum(n_leads, capacities, pairs)
    assert optimum is not None
    data = gap_cpsat._prepare(n_leads=n_leads, capacities=capacities, pairs=pairs)
    start = optimum[1] if seed % 2 else gap_cpsat._greedy(data)
    if any(branch < 0 for branch in start):
        start = optimum[1]
    warm = warm_start(
        n_leads=n_leads, capacities=capacities, pairs=data.pairs, plan=start, deadline=FAR_FUTURE
    )
    assert warm.bound <= optimum[0] <= warm.cost <= _cost(start, pairs)
    assert all(
        u <= c for u, c in zip(_loads(warm.plan, pairs, len(capacities)), capacities, strict=True)
    )
    kept = {data.pairs[p][:2] for p in warm.kept}
    assert all((lead, branch) in kept for lead, branch in enumerate(warm.plan))


@pytest.mark.parametrize("seed", FEASIBLE[:12])
def test_two_worker_lns_path_reaches_the_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force the path large models take (LNS on both workers, Lagrangian bound only).
    monkeypatch.setattr(gap_cpsat, "_FULL_SEARCH_MAX_PAIRS", 0)
    n_leads, capacities, pairs = _instance(seed)
    optimum = _optimum(n_leads, capacities, pairs)
    assert optimum is not None
    result = gap_cpsat.solve_gap(
        n_leads=n_leads, capacities=capacities, pairs=pairs, time_limit_s=10.0
    )
    assert result.objective == optimum[0]
    assert result.bound <= optimum[0]
    assert all(
        u <= c
        for u, c in zip(_loads(result.assignment, pairs, len(capacities)), capacities, strict=True)
    )


def test_solve_is_deterministic_on_the_two_worker_lns_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gap_cpsat, "_FULL_SEARCH_MAX_PAIRS", 0)
    rng = random.Random(7)
    pairs = [
        (lead, branch, rng.randint(0, 50), rng.randint(5, 25))
        for lead in range(20)
        for branch in range(3)
    ]
    capacities = [110] * 3

    def solve() -> list[int]:
        return gap_cpsat.solve_gap(
            n_leads=20, capacities=capacities, pairs=pairs, time_limit_s=30.0
        ).assignment

    assert solve() == solve()
