"""GAP tabu search (compiled with numba): valid plans, known optima, determinism, hand-off."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from allocation.gap_instances import parse_gap
from allocation.solvers import gap_cpsat, gap_tabu
from allocation.solvers.gap_warm import warm_start

Pair = tuple[int, int, int, int]
BENCHMARKS = Path("/work/shared/benchmarks/gap")
FAR_FUTURE = float("inf")


def _instance(seed: int) -> tuple[int, list[int], list[Pair]]:
    """A small GAP, often tight; about one pair in six is missing (not every lead may go
    everywhere)."""
    rng = random.Random(seed)
    n_leads, n_branches = rng.randint(3, 7), rng.randint(2, 4)
    pairs = [
        (lead, branch, rng.randint(0, 30), rng.randint(1, 6))
        for lead in range(n_leads)
        for branch in range(n_branches)
        if branch == lead % n_branches or rng.random() < 0.85
    ]
    total = sum(load for _l, _b, _c, load in pairs) / n_branches
    capacities = [
        max(6, int(total / n_branches * rng.uniform(0.9, 1.6))) for _ in range(n_branches)
    ]
    return n_leads, capacities, pairs


def _plans(n_leads: int, capacities: list[int], pairs: list[Pair]) -> list[tuple[int, list[int]]]:
    """Every feasible plan with its cost, by enumeration."""
    table = {(lead, branch): (cost, load) for lead, branch, cost, load in pairs}
    found = []
    for plan in itertools.product(range(len(capacities)), repeat=n_leads):
        if any((lead, branch) not in table for lead, branch in enumerate(plan)):
            continue
        used = [0] * len(capacities)
        for lead, branch in enumerate(plan):
            used[branch] += table[(lead, branch)][1]
        if all(u <= c for u, c in zip(used, capacities, strict=True)):
            found.append((sum(table[(j, b)][0] for j, b in enumerate(plan)), list(plan)))
    return found


def _cases() -> list[int]:
    # Seeds whose instance has at least one feasible plan other than the optimum.
    return [s for s in range(80) if len(_plans(*_instance(s))) >= 2][:25]


CASES = _cases()


def _valid(plan: list[int], capacities: list[int], pairs: list[Pair]) -> bool:
    table = {(lead, branch): load for lead, branch, _cost, load in pairs}
    used = [0] * len(capacities)
    for lead, branch in enumerate(plan):
        if (lead, branch) not in table:
            return False
        used[branch] += table[(lead, branch)]
    return all(u <= c for u, c in zip(used, capacities, strict=True))


def test_enough_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("seed", CASES)
def test_plans_are_valid_and_reach_the_enumerated_optimum(seed: int) -> None:
    n_leads, capacities, pairs = _instance(seed)
    plans = _plans(n_leads, capacities, pairs)
    optimum = min(cost for cost, _plan in plans)
    worst_cost, worst = max(plans, key=lambda item: item[0])
    problem = gap_tabu.Problem.build(n_leads, capacities, pairs)
    result = gap_tabu.search(problem, worst, evaluations=200_000, seed=seed, alpha=1.0)
    assert _valid(result.plan, capacities, pairs)
    assert result.cost == problem.plan_cost(result.plan)
    assert result.cost == optimum <= worst_cost


@pytest.mark.parametrize("seed", CASES[:8])
def test_a_tiny_budget_still_gives_a_valid_plan_no_dearer_than_the_start(seed: int) -> None:
    n_leads, capacities, pairs = _instance(seed)
    start_cost, start = max(_plans(n_leads, capacities, pairs), key=lambda item: item[0])
    problem = gap_tabu.Problem.build(n_leads, capacities, pairs)
    for budget in (0, 1, 5, 50):
        result = gap_tabu.search(problem, start, evaluations=budget, seed=1, alpha=0.5)
        assert _valid(result.plan, capacities, pairs)
        assert result.cost <= start_cost


def test_swap_is_found_when_no_shift_fits() -> None:
    # Each branch is full with one lead: only exchanging them saves cost.
    pairs = [(0, 0, 9, 2), (0, 1, 1, 2), (1, 0, 1, 2), (1, 1, 9, 2)]
    problem = gap_tabu.Problem.build(2, [2, 2], pairs)
    result = gap_tabu.search(problem, [0, 1], evaluations=1_000, seed=0, alpha=1.0)
    assert (result.plan, result.cost) == ([1, 0], 2)


def test_same_seed_same_plan_and_the_pair_search_is_deterministic() -> None:
    rng = random.Random(3)
    n_leads, n_branches = 40, 4
    pairs = [
        (lead, branch, rng.randint(10, 60), rng.randint(5, 25))
        for lead in range(n_leads)
        for branch in range(n_branches)
    ]
    capacities = [130] * n_branches
    start = gap_cpsat._greedy(
        gap_cpsat._prepare(n_leads=n_leads, capacities=capacities, pairs=pairs)
    )
    problem = gap_tabu.Problem.build(n_leads, capacities, pairs)
    assert problem.feasible(start)

    def run() -> gap_tabu.TabuResult:
        return gap_tabu.search_pair(problem, start, evaluations=300_000, seed=5, alpha=2.0)

    first, second = run(), run()
    assert first == second
    assert _valid(first.plan, capacities, pairs)


def test_stops_once_the_lower_bound_is_reached() -> None:
    pairs = [(0, 0, 3, 1), (0, 1, 5, 1), (1, 0, 4, 1), (1, 1, 2, 1)]
    problem = gap_tabu.Problem.build(2, [10, 10], pairs)
    result = gap_tabu.search(problem, [1, 0], evaluations=10**9, seed=0, alpha=1.0, lower_bound=5.0)
    assert result.cost == 5
    assert result.evaluations < 1_000  # stopped by the bound, not by the budget


def test_rejects_an_infeasible_start_and_unknown_settings() -> None:
    pairs = [(0, 0, 1, 3), (1, 0, 1, 3), (1, 1, 1, 1)]
    problem = gap_tabu.Problem.build(2, [4, 4], pairs)
    assert not problem.feasible([0, 0])  # over capacity
    assert not problem.feasible([1, 1])  # lead 0 has no pair with branch 1
    assert problem.feasible([0, 1])
    with pytest.raises(ValueError, match="not feasible"):
        gap_tabu.search(problem, [0, 0], evaluations=10, seed=0, alpha=1.0)
    with pytest.raises(ValueError, match="unknown tabu settings"):
        gap_tabu.search(problem, [0, 1], evaluations=10, seed=0, alpha=1.0, settings={"tenur": 3})
    with pytest.raises(ValueError, match="weights must be"):
        gap_tabu.search(problem, [0, 1], evaluations=10, seed=0, alpha=1.0, settings={"weights": 3})


@pytest.mark.skipif(not BENCHMARKS.exists(), reason="shared GAP benchmark files not present")
@pytest.mark.parametrize(("name", "optimum"), [("cattrysse1994/gap1-0", 261)])
def test_published_instance_from_the_warm_start(name: str, optimum: int) -> None:
    instance = parse_gap((BENCHMARKS / name).read_text(encoding="utf-8"), source=name)
    data = gap_cpsat._prepare(
        n_leads=instance.n_jobs, capacities=instance.capacities, pairs=instance.pairs()
    )
    warm = warm_start(
        n_leads=data.n_leads,
        capacities=data.capacities,
        pairs=data.pairs,
        plan=gap_cpsat._greedy(data),
        deadline=FAR_FUTURE,
    )
    plan, kept = gap_cpsat._tabu_phase(
        data, warm, evaluations=10_000_000, deadline=FAR_FUTURE, seed=0
    )
    assert gap_cpsat._plan_cost(data, plan) == optimum
    kept_pairs = {data.pairs[p][:2] for p in kept}
    assert all((lead, branch) in kept_pairs for lead, branch in enumerate(plan))


@pytest.mark.parametrize("seed", CASES[:6])
def test_solve_gap_with_the_tabu_search_reaches_the_optimum(seed: int) -> None:
    """The wiring behind `solve_gap(tabu_search=True)`: same answers as without it."""
    n_leads, capacities, pairs = _instance(seed)
    optimum = min(cost for cost, _plan in _plans(n_leads, capacities, pairs))
    with_tabu = gap_cpsat.solve_gap(
        n_leads=n_leads, capacities=capacities, pairs=pairs, time_limit_s=10, tabu_search=True
    )
    without = gap_cpsat.solve_gap(
        n_leads=n_leads, capacities=capacities, pairs=pairs, time_limit_s=10
    )
    assert _valid(with_tabu.assignment, capacities, pairs)
    assert with_tabu.objective == without.objective == optimum
    assert with_tabu.status == without.status == "optimal"


def _random_problem(seed: int) -> tuple[gap_tabu.Problem, list[int]]:
    """A tight GAP of 60 leads and 12 branches (some pairs missing) and a feasible start."""
    rng = random.Random(seed)
    n_leads, n_branches = 60, 12
    pairs = []
    for lead in range(n_leads):
        branches = [b for b in range(n_branches) if b == lead % n_branches or rng.random() < 0.8]
        rng.shuffle(branches)  # the listed order is the caller's: any order must work
        pairs += [(lead, b, rng.randint(10, 60), rng.randint(5, 25)) for b in branches]
    capacities = [n_leads * 15 // n_branches] * n_branches
    start = gap_cpsat._greedy(
        gap_cpsat._prepare(n_leads=n_leads, capacities=capacities, pairs=pairs)
    )
    problem = gap_tabu.Problem.build(n_leads, capacities, pairs)
    assert problem.feasible(start)
    return problem, start


def _deltas(problem: gap_tabu.Problem, plan: list[int], moved: list[tuple[int, int]]) -> tuple:
    """Cost and excess change of moving each (lead, branch) in ``moved``, by recomputation."""

    def excess(p: list[int]) -> int:
        used = [0] * problem.capacity.size
        for lead, branch in enumerate(p):
            used[branch] += int(problem.load[lead, branch])
        return sum(max(0, u - int(c)) for u, c in zip(used, problem.capacity, strict=True))

    after = list(plan)
    for lead, branch in moved:
        after[lead] = branch
    return problem.plan_cost(after) - problem.plan_cost(plan), excess(after) - excess(plan)


@pytest.mark.parametrize("seed", range(4))
def test_cached_moves_match_a_full_recomputation_after_random_move_sequences(seed: int) -> None:
    """The incremental update keeps every lead's cached shift and swap exact: its cost and
    excess change are those of the current plan, and (with a fixed penalty and no periodic
    refresh) its price is the lowest of the lead's moves that are not tabu."""
    problem, start = _random_problem(seed)
    alpha = 1.5
    settings = {
        "step": 1.0,
        "refresh": 10**9,
        "restart": 10**9,
        "swap_options": 2,
        "weights": gap_tabu._GLOBAL,
    }
    state = gap_tabu._State.create(problem, start, seed=seed, alpha=alpha)
    tuning = gap_tabu._settings(settings, -1.0)
    listings = gap_tabu._listings(problem, tuning)
    n_leads = problem.cost.shape[0]
    for target in range(5_000, 150_000, 5_000):
        gap_tabu._advance(problem, state, tuning, listings, target)
        plan, moves = state.plan.tolist(), int(state.ints[gap_tabu._MOVES])
        assert problem.plan_cost(plan) == state.ints[gap_tabu._COST]
        for j in range(n_leads):
            row = state.cache[j].tolist()
            a = plan[j]
            options = problem.options[j, : problem.degree[j]].tolist()
            if state.expiry[j, 0] > moves:
                shifts = [
                    (float(dc + alpha * dx), b)
                    for b in options[:10]
                    if b != a and state.tabu[j, b] <= moves
                    for dc, dx in [_deltas(problem, plan, [(j, b)])]
                ]
                if row[0] >= 0:
                    dc, dx = _deltas(problem, plan, [(j, row[0])])
                    assert (row[1], row[2]) == (dc, dx)
                    if state.tabu[j, row[0]] <= moves:
                        assert dc + alpha * dx == pytest.approx(min(shifts)[0])
                    else:  # a tabu move kept by aspiration: at least as good
                        assert not shifts or dc + alpha * dx <= min(shifts)[0] + 1e-9
                else:
                    assert not shifts
            if state.expiry[j, 1] > moves:
                swaps = [
                    dc + alpha * dx
                    for b in options[:2]
                    if b != a and state.tabu[j, b] <= moves
                    for k in range(n_leads)
                    if plan[k] == b and problem.allowed[k, a] and state.tabu[k, a] <= moves
                    for dc, dx in [_deltas(problem, plan, [(j, b), (k, a)])]
                ]
                if row[3] >= 0:
                    b, k = row[3], row[4]
                    assert plan[k] == b != a
                    dc, dx = _deltas(problem, plan, [(j, b), (k, a)])
                    assert (row[5], row[6]) == (dc, dx)
                    if state.tabu[j, b] <= moves and state.tabu[k, a] <= moves:
                        assert dc + alpha * dx == pytest.approx(min(swaps))
                    else:
                        assert not swaps or dc + alpha * dx <= min(swaps) + 1e-9
                else:
                    assert not swaps


def _branch_deltas(
    problem: gap_tabu.Problem, plan: list[int], moved: list[tuple[int, int]], branch: int
) -> tuple[int, int, int]:
    """Cost change, excess change, and excess change on ``branch`` alone, of moving each
    (lead, branch) in ``moved``, by recomputation."""

    def excesses(p: list[int]) -> list[int]:
        used = [0] * problem.capacity.size
        for lead, b in enumerate(p):
            used[b] += int(problem.load[lead, b])
        return [max(0, u - int(c)) for u, c in zip(used, problem.capacity, strict=True)]

    after = list(plan)
    for lead, b in moved:
        after[lead] = b
    before_x, after_x = excesses(plan), excesses(after)
    return (
        problem.plan_cost(after) - problem.plan_cost(plan),
        sum(after_x) - sum(before_x),
        after_x[branch] - before_x[branch],
    )


def _check_weighted_rows(problem: gap_tabu.Problem, state: gap_tabu._State, exact: bool) -> None:
    """Every cached shift and swap (of rows not waiting for a tabu move to expire) has the cost
    change, excess change and excess change on the lead's own branch of the current plan; with
    ``exact`` (weights unchanged since the rows were priced, no refresh) its price at the
    branch weights is also the lowest of the lead's moves that are not tabu."""
    plan, moves = state.plan.tolist(), int(state.ints[gap_tabu._MOVES])
    weight = state.weight.tolist()
    n_leads = problem.cost.shape[0]
    assert problem.plan_cost(plan) == state.ints[gap_tabu._COST]
    used = [0] * problem.capacity.size
    for lead, branch in enumerate(plan):
        used[branch] += int(problem.load[lead, branch])
    excess = sum(max(0, u - int(c)) for u, c in zip(used, problem.capacity, strict=True))
    assert excess == state.ints[gap_tabu._EXCESS]

    def price(a: int, b: int, deltas: tuple[int, int, int]) -> float:
        dc, dx, dxa = deltas
        return dc + weight[a] * dxa + weight[b] * (dx - dxa)

    for j in range(n_leads):
        row = state.cache[j].tolist()
        a = plan[j]
        options = problem.options[j, : problem.degree[j]].tolist()
        if state.expiry[j, 0] > moves:
            shifts = [
                price(a, b, _branch_deltas(problem, plan, [(j, b)], a))
                for b in options[:10]
                if b != a and state.tabu[j, b] <= moves
            ]
            b = row[gap_tabu._SH_B]
            if b >= 0:
                deltas = _branch_deltas(problem, plan, [(j, b)], a)
                cached = (row[gap_tabu._SH_DC], row[gap_tabu._SH_DX], row[gap_tabu._SH_DXA])
                assert cached == deltas
                if exact and state.tabu[j, b] <= moves:
                    assert price(a, b, deltas) == pytest.approx(min(shifts))
                elif exact:  # a tabu move kept by aspiration: at least as good
                    assert not shifts or price(a, b, deltas) <= min(shifts) + 1e-9
            else:
                assert not shifts
        if state.expiry[j, 1] > moves:
            swaps = [
                price(a, b, _branch_deltas(problem, plan, [(j, b), (k, a)], a))
                for b in options[:2]
                if b != a and state.tabu[j, b] <= moves
                for k in range(n_leads)
                if plan[k] == b and problem.allowed[k, a] and state.tabu[k, a] <= moves
            ]
            b, k = row[gap_tabu._SW_B], row[gap_tabu._SW_K]
            if b >= 0:
                assert plan[k] == b != a
                deltas = _branch_deltas(problem, plan, [(j, b), (k, a)], a)
                cached = (row[gap_tabu._SW_DC], row[gap_tabu._SW_DX], row[gap_tabu._SW_DXA])
                assert cached == deltas
                if exact and state.tabu[j, b] <= moves and state.tabu[k, a] <= moves:
                    assert price(a, b, deltas) == pytest.approx(min(swaps))
                elif exact:
                    assert not swaps or price(a, b, deltas) <= min(swaps) + 1e-9
            else:
                assert not swaps


@pytest.mark.parametrize("seed", range(4))
def test_moves_priced_with_branch_weights_match_a_brute_force_recomputation(seed: int) -> None:
    """With a weight per branch (fixed here: branch_step 1, weights drawn at random), each lead's
    cached shift and swap keep exact deltas (the excess change split by branch) and the
    lowest price, cost change plus each touched branch's weight times its excess change."""
    problem, start = _random_problem(seed)
    settings = {
        "branch_step": 1.0,
        "branch_span": 100.0,
        "refresh": 10**9,
        "restart": 10**9,
        "swap_options": 2,
        "weights": gap_tabu._PER_BRANCH,
    }
    state = gap_tabu._State.create(problem, start, seed=seed, alpha=1.5)
    rng = random.Random(seed)
    state.weight[:] = [rng.uniform(0.2, 5.0) for _ in range(state.weight.size)]
    tuning = gap_tabu._settings(settings, -1.0)
    listings = gap_tabu._listings(problem, tuning)
    for target in range(5_000, 150_000, 5_000):
        gap_tabu._advance(problem, state, tuning, listings, target)
        _check_weighted_rows(problem, state, exact=True)


@pytest.mark.parametrize("mode", [gap_tabu._PER_BRANCH, gap_tabu._RELATIVE])
@pytest.mark.parametrize("seed", range(3))
def test_adapted_branch_weights_keep_deltas_exact_and_weights_in_range(
    mode: int, seed: int
) -> None:
    problem, start = _random_problem(seed)
    alpha = 1.5
    settings = {
        "swap_options": 2,
        "weights": mode,
        "branch_step": 1.05,
        "branch_span": 20.0,
        "branch_rate": 0.2,
    }
    state = gap_tabu._State.create(problem, start, seed=seed, alpha=alpha)
    tuning = gap_tabu._settings(settings, -1.0)
    listings = gap_tabu._listings(problem, tuning)
    spread = 1.0
    for target in range(5_000, 150_000, 5_000):
        gap_tabu._advance(problem, state, tuning, listings, target)
        _check_weighted_rows(problem, state, exact=False)
        weight = state.weight
        assert weight.min() > 0
        spread = max(spread, weight.max() / weight.min())
        if mode == gap_tabu._PER_BRANCH:
            assert weight.max() / weight.min() <= 20.0 * (1 + 1e-9)
            assert alpha / 1e3 * (1 - 1e-9) <= weight.min() <= weight.max() <= alpha * 1e3
        else:  # alpha times factors of mean 1
            assert weight.mean() == pytest.approx(state.floats[gap_tabu._ALPHA])
    assert spread > 1.5  # the weights did differ between branches
    assert problem.feasible(state.best.tolist())


def test_per_branch_weights_by_default_only_from_the_branch_count_on() -> None:
    many = gap_tabu._PER_BRANCH_MIN_BRANCHES
    slot = gap_tabu._S_WEIGHTS
    assert gap_tabu._settings(None, -1.0, many - 1)[slot] == gap_tabu._GLOBAL
    assert gap_tabu._settings(None, -1.0, many)[slot] == gap_tabu._PER_BRANCH
    assert gap_tabu._settings({"weights": 0}, -1.0, many)[slot] == gap_tabu._GLOBAL


def test_global_weights_give_every_branch_alpha() -> None:
    problem, start = _random_problem(0)
    state = gap_tabu._State.create(problem, start, seed=0, alpha=1.5)
    tuning = gap_tabu._settings({"weights": gap_tabu._GLOBAL}, -1.0)
    gap_tabu._advance(problem, state, tuning, gap_tabu._listings(problem, tuning), 50_000)
    assert state.weight.tolist() == [state.floats[gap_tabu._ALPHA]] * state.weight.size


def test_default_policy_runs_the_tabu_search_only_on_large_models() -> None:
    # Decided from the pairs kept after fixing, never from time; the caller can force it.
    limit = gap_cpsat._TABU_DEFAULT_MIN_PAIRS
    assert limit > 600  # gap1-12's largest model
    assert not gap_cpsat._tabu_wanted(limit - 1, None)
    assert gap_cpsat._tabu_wanted(limit, None)
    assert gap_cpsat._tabu_wanted(10, True)
    assert not gap_cpsat._tabu_wanted(10**6, False)


@pytest.mark.parametrize("seed", CASES[:3])
def test_solve_gap_by_default_skips_the_tabu_search_on_small_models(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> gap_tabu.TabuResult:
        raise AssertionError("the tabu search ran on a small model")

    monkeypatch.setattr(gap_tabu, "search_pair", refuse)
    n_leads, capacities, pairs = _instance(seed)
    optimum = min(cost for cost, _plan in _plans(n_leads, capacities, pairs))
    result = gap_cpsat.solve_gap(
        n_leads=n_leads, capacities=capacities, pairs=pairs, time_limit_s=10
    )
    assert (result.objective, result.status) == (optimum, "optimal")
