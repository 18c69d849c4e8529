"""Pair mode with workloads (GAP) via CP-SAT, and the OR-Library GAP parser."""

from __future__ import annotations

import csv
import itertools
import random
import threading
from pathlib import Path

import pytest

from allocation.gap_instances import GapFormatError, parse_gap
from allocation.solvers import gap_cpsat
from allocation.solvers.gap_cpsat import GapResult, solve_gap

Pair = tuple[int, int, int, int]

BENCHMARKS = Path("/work/shared/benchmarks/gap")


def _solve(n_leads: int, capacities: list[int], pairs: list[Pair], **kwargs: int) -> GapResult:
    return solve_gap(
        n_leads=n_leads, capacities=capacities, pairs=pairs, time_limit_s=10.0, **kwargs
    )


def _brute_force(n_leads: int, capacities: list[int], pairs: list[Pair]) -> tuple[int, int]:
    """(max assigned, min cost at that count) by enumerating every plan."""
    options: list[list[tuple[int, int, int]]] = [[(-1, 0, 0)] for _ in range(n_leads)]
    for lead, branch, cost, load in pairs:
        options[lead].append((branch, cost, load))
    best = (0, 0)
    for plan in itertools.product(*options):
        used = [0] * len(capacities)
        for branch, _cost, load in plan:
            if branch >= 0:
                used[branch] += load
        if any(u > c for u, c in zip(used, capacities, strict=True)):
            continue
        count = sum(1 for branch, _c, _l in plan if branch >= 0)
        cost = sum(c for _b, c, _l in plan)
        if (-count, cost) < (-best[0], best[1]):
            best = (count, cost)
    return best


def _check_plan(result: GapResult, capacities: list[int], pairs: list[Pair]) -> None:
    """Independent recheck: only listed pairs, capacity by workload, objective recomputed."""
    table = {(lead, branch): (cost, load) for lead, branch, cost, load in pairs}
    used = [0] * len(capacities)
    total = 0
    for lead, branch in enumerate(result.assignment):
        if branch >= 0:
            cost, load = table[(lead, branch)]
            used[branch] += load
            total += cost
    assert all(u <= c for u, c in zip(used, capacities, strict=True))
    assert result.objective == total
    assert result.bound <= result.objective


def _random_instance(seed: int) -> tuple[int, list[int], list[Pair]]:
    rng = random.Random(seed)
    n_leads, n_branches = rng.randint(1, 6), rng.randint(1, 3)
    capacities = [rng.randint(0, 6) for _ in range(n_branches)]
    pairs = [
        (lead, branch, rng.randint(0, 9), rng.randint(1, 4))
        for lead in range(n_leads)
        for branch in range(n_branches)
        if rng.random() < 0.7
    ]
    return n_leads, capacities, pairs


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force_on_tiny_instances(seed: int) -> None:
    n_leads, capacities, pairs = _random_instance(seed)
    result = _solve(n_leads, capacities, pairs)
    count, cost = _brute_force(n_leads, capacities, pairs)
    _check_plan(result, capacities, pairs)
    assert result.status == "optimal"
    assert sum(1 for b in result.assignment if b >= 0) == count
    assert result.objective == cost
    assert result.bound == cost


def test_leads_without_a_usable_pair_stay_unassigned() -> None:
    # Lead 1 has no pair at all; lead 2's only branch is too small for its workload.
    result = _solve(3, [2, 5], [(0, 0, 4, 1), (2, 0, 1, 3)])
    assert result.assignment == [0, -1, -1]
    assert (result.objective, result.status) == (4, "optimal")


def test_capacity_counts_workload_not_leads() -> None:
    # Capacity 3 holds one lead of workload 2, not two; the other goes to the dear branch.
    pairs = [(0, 0, 1, 2), (1, 0, 1, 2), (0, 1, 10, 1), (1, 1, 20, 1)]
    result = _solve(2, [3, 1], pairs)
    assert result.assignment == [1, 0]
    assert result.objective == 11


def test_assigning_more_leads_beats_a_cheaper_plan() -> None:
    # Lead 0 alone at branch 0 costs 0, but moving it to branch 1 (cost 100) frees room for
    # lead 1: two leads at cost 150 beat one lead at cost 0.
    pairs = [(0, 0, 0, 1), (0, 1, 100, 1), (1, 0, 50, 1)]
    result = _solve(2, [1, 1], pairs)
    assert result.assignment == [1, 0]
    assert (result.objective, result.bound, result.status) == (150, 150.0, "optimal")


def test_maximum_count_below_assignable_leads_is_proven() -> None:
    # Three leads of workload 2 compete for one branch of capacity 5: two fit, the two cheapest.
    pairs = [(0, 0, 7, 2), (1, 0, 3, 2), (2, 0, 5, 2)]
    result = _solve(3, [5], pairs)
    assert result.assignment == [-1, 0, 0]
    assert (result.objective, result.status) == (8, "optimal")


@pytest.mark.parametrize(
    ("n_leads", "capacities", "pairs"),
    [(0, [], []), (0, [3], []), (2, [3], []), (2, [0, 0], [(0, 0, 1, 1), (1, 1, 1, 1)])],
)
def test_empty_and_capacity_less_rounds_assign_nothing(
    n_leads: int, capacities: list[int], pairs: list[Pair]
) -> None:
    result = _solve(n_leads, capacities, pairs)
    assert result.assignment == [-1] * n_leads
    assert (result.objective, result.bound, result.status) == (0, 0.0, "optimal")


@pytest.mark.parametrize(
    ("n_leads", "capacities", "pairs", "time_limit_s", "workers"),
    [
        (1, [1], [(1, 0, 1, 1)], 1.0, 1),  # lead out of range
        (1, [1], [(0, 1, 1, 1)], 1.0, 1),  # branch out of range
        (1, [1], [(0, 0, -1, 1)], 1.0, 1),  # negative cost
        (1, [1], [(0, 0, 1, 0)], 1.0, 1),  # workload below 1
        (1, [1], [(0, 0, 1, 1), (0, 0, 2, 1)], 1.0, 1),  # duplicate pair
        (1, [-1], [], 1.0, 1),  # negative capacity
        (-1, [1], [], 1.0, 1),  # negative lead count
        (1, [1], [], 0.0, 1),  # no time
        (1, [1], [], 1.0, 0),  # no workers
    ],
)
def test_invalid_input_is_rejected(
    n_leads: int, capacities: list[int], pairs: list[Pair], time_limit_s: float, workers: int
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        solve_gap(
            n_leads=n_leads,
            capacities=capacities,
            pairs=pairs,
            time_limit_s=time_limit_s,
            workers=workers,
        )


def _tie_rich_instance() -> tuple[int, list[int], list[Pair]]:
    # Many equal costs means many optimal plans: a race between workers would show here.
    rng = random.Random(7)
    n_leads, n_branches = 40, 6
    capacities = [16] * n_branches
    pairs = [
        (lead, branch, rng.randint(1, 3), rng.randint(1, 3))
        for lead in range(n_leads)
        for branch in range(n_branches)
    ]
    return n_leads, capacities, pairs


def test_same_input_gives_the_same_plan() -> None:
    n_leads, capacities, pairs = _tie_rich_instance()
    first = _solve(n_leads, capacities, pairs)
    shuffled = list(pairs)
    random.Random(1).shuffle(shuffled)
    assert _solve(n_leads, capacities, pairs).assignment == first.assignment
    assert _solve(n_leads, capacities, shuffled).assignment == first.assignment
    assert _solve(n_leads, capacities, pairs, workers=1).assignment == first.assignment
    _check_plan(first, capacities, pairs)


GAP_TEXT = """ 2 3
 4 1
 9
 2 6 3
 1 1 2 2 1 1
 3 2
"""


def test_parser_reads_wrapped_lines() -> None:
    instance = parse_gap(GAP_TEXT)
    assert (instance.n_agents, instance.n_jobs) == (2, 3)
    assert instance.costs == ((4, 1, 9), (2, 6, 3))
    assert instance.uses == ((1, 1, 2), (2, 1, 1))
    assert instance.capacities == (3, 2)
    assert (2, 1, 3, 1) in instance.pairs()
    assert len(instance.pairs()) == 6


def test_parsed_instance_solves_to_its_brute_force_optimum() -> None:
    instance = parse_gap(GAP_TEXT)
    capacities, pairs = list(instance.capacities), instance.pairs()
    result = _solve(instance.n_jobs, capacities, pairs)
    assert (3, result.objective) == _brute_force(instance.n_jobs, capacities, pairs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "header"),
        ("2", "header"),
        ("0 3", "m >= 1"),
        ("1 2 3 4 5 6", "expected 7 integers"),
        ("1 2 3 4 5 6 7 8", "expected 7 integers"),
        ("1 2 3 x 5 6 7", "token 4"),
        ("1 2 3 4 0 6 7", "resource use"),
        ("1 2 3 -4 5 6 7", "negative cost"),
    ],
)
def test_parser_rejects_malformed_text(text: str, message: str) -> None:
    with pytest.raises(GapFormatError, match=message):
        parse_gap(text, source="bad.txt")


def _published_optima() -> dict[str, int]:
    with (BENCHMARKS / "optima.csv").open(newline="", encoding="utf-8") as handle:
        return {
            row["Path"]: int(row["Optimum"]) for row in csv.DictReader(handle) if row["Optimum"]
        }


@pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="GAP benchmark files not available")
@pytest.mark.parametrize("name", ["cattrysse1994/gap1-0", "cattrysse1994/gap5-2", "chu1997/a05100"])
def test_published_optimum_is_matched(name: str) -> None:
    instance = parse_gap((BENCHMARKS / name).read_text(encoding="utf-8"), source=name)
    result = _solve(instance.n_jobs, list(instance.capacities), instance.pairs())
    assert result.status == "optimal"
    assert result.objective == _published_optima()[name]
    assert all(branch >= 0 for branch in result.assignment)


def test_lns_alone_reaches_the_optimum_from_a_poor_plan() -> None:
    # The LNS helper must keep every plan feasible and, once its neighbourhood has grown to all
    # branches, solve the whole instance exactly. It starts from the greedy plan of the
    # reversed costs, i.e. a deliberately expensive one.
    rng = random.Random(3)
    capacities = [4, 4, 4]
    pairs = [(lead, b, rng.randint(0, 9), rng.randint(1, 2)) for lead in range(6) for b in range(3)]
    reversed_costs = [(lead, b, 9 - cost, load) for lead, b, cost, load in pairs]
    poor = gap_cpsat._greedy(
        gap_cpsat._prepare(n_leads=6, capacities=capacities, pairs=reversed_costs)
    )
    assert all(branch >= 0 for branch in poor)
    data = gap_cpsat._prepare(n_leads=6, capacities=capacities, pairs=pairs)
    plan = gap_cpsat._lns(data, poor, limits=(10.0, 5.0), seed=0, stop=threading.Event())
    cost = sum(c for lead, b, c, _load in pairs if plan[lead] == b)
    assert (6, cost) == _brute_force(6, capacities, pairs)


def test_lns_on_a_round_without_pairs_returns_at_once() -> None:
    # No branch to pick from: the helper must not even draw a neighbourhood.
    data = gap_cpsat._prepare(n_leads=2, capacities=[], pairs=[])
    plan = gap_cpsat._lns(data, [-1, -1], limits=(1.0, 1.0), seed=0, stop=threading.Event())
    assert plan == [-1, -1]


def test_greedy_prefers_the_plan_that_assigns_every_lead() -> None:
    # Cheapest-first fills branch 0 with lead 0 and branch 1 with lead 1, stranding lead 2;
    # the workload-aware orders place the heaviest lead 1 first, so all three are assigned.
    pairs = [(0, 0, 0, 2), (0, 1, 1, 1), (1, 0, 0, 3), (1, 1, 1, 2), (2, 0, 0, 3), (2, 1, 1, 1)]
    data = gap_cpsat._prepare(n_leads=3, capacities=[3, 2], pairs=pairs)
    assert gap_cpsat._greedy(data) == [1, 0, 1]
