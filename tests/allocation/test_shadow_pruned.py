"""The pruned shadow-price graph against the dense one, bit for bit (issue 18.2)."""

from __future__ import annotations

import numpy as np
import pytest

from allocation import shadow_graph, shadow_pruned
from allocation.geo import haversine_matrix_km, haversine_pairs_km
from allocation.model import AllocationParams, AllocationProblem, LeadSpec, build_problem
from allocation.plan import Plan
from allocation.shadow import shadow_prices
from allocation.shadow_graph import Graph, dense_graph, taking_part
from allocation.shadow_pruned import pruned_graph
from allocation.solve import solve
from allocation.value import ObjectiveSpec
from tests.allocation.factories import VALUE_RATES, branch

TIERS = ("mass", "affluent", "hnw")
RATES = VALUE_RATES
OBJECTIVES = (
    ObjectiveSpec(),
    ObjectiveSpec(mode="tier_priority", tier_weights_km={"hnw": 7.0, "affluent": 3.0}),
    ObjectiveSpec(mode="expected_value", price_per_km_fen=2000, rates=RATES),
)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099])
def test_pair_haversines_are_the_matrix_ones_bit_for_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    lat1, lon1 = rng.uniform(-89, 89, n), rng.uniform(-179, 179, n)
    lat1[: n // 3] = np.round(30 + rng.normal(0, 0.1, n // 3), 5)  # close pairs too
    lon1[: n // 3] = np.round(120 + rng.normal(0, 0.1, n // 3), 5)
    lat2, lon2 = np.array([30.0, 31.5, -45.0, 89.0]), np.array([120.0, 121.25, 60.0, -179.5])
    matrix = haversine_matrix_km(lat1, lon1, lat2, lon2)
    i, j = np.divmod(rng.permutation(n * 4), 4)
    pairs = haversine_pairs_km(lat1[i], lon1[i], lat2[j], lon2[j])
    assert np.array_equal(pairs.view(np.int64), matrix[i, j].view(np.int64))


def _lattice_problem(
    seed: int,
    *,
    leads: int,
    branches: int,
    spare: int,
    objective: ObjectiveSpec,
    max_distance_km: float | None = None,
) -> AllocationProblem:
    """Leads and branches on a coarse lattice, so that many moves cost exactly or almost
    exactly the same (the ties the graph counts), with tiers some branches do not serve."""
    rng = np.random.default_rng(seed)
    caps = rng.integers(0, 8, branches)
    caps[0] += max(0, leads - spare - int(caps.sum()))
    step = 0.02

    def point() -> tuple[float, float]:
        return 30 + step * int(rng.integers(0, 12)), 120 + step * int(rng.integers(0, 12))

    specs = [
        branch(f"B{j}", *point(), int(caps[j]),
               tiers=frozenset({"mass", "affluent"}) if rng.random() < 0.3 else frozenset())
        for j in range(branches)
    ]  # fmt: skip
    lead_specs = []
    for i in range(leads):
        lat, lon = (
            point() if rng.random() < 0.7 else (30 + rng.random() / 4, 120 + rng.random() / 4)
        )
        tier = TIERS[int(rng.choice(3, p=[0.7, 0.2, 0.1]))]
        channel = ("wechat", "web")[i % 2]
        lead_specs.append(LeadSpec(f"L{i}", lat, lon, tier, None, channel))
    return build_problem(
        branches=specs, leads=lead_specs, objective=objective,
        params=AllocationParams(max_distance_km=max_distance_km),
    )  # fmt: skip


def _assert_same(a: Graph, b: Graph) -> None:
    for name in ("move", "move_ties", "take", "take_ties"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x.view(np.int64), y.view(np.int64)), name


def _graphs(p: AllocationProblem, plan: Plan) -> tuple[Graph, Graph]:
    leads = taking_part(p, plan)
    return pruned_graph(p, plan, leads), dense_graph(p, plan, leads)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("objective", OBJECTIVES, ids=["distance", "tiers", "value"])
@pytest.mark.parametrize("spare", [-40, 0, 30])
@pytest.mark.parametrize("chunk", [1, 40, 1_000_000])
def test_pruned_graph_is_the_dense_one_bit_for_bit(
    seed: int, objective: ObjectiveSpec, spare: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Optimal and greedy plans, leads left out, ties, and blocks from one lead to all: a
    chunk of 1 puts each lead in a block of its own (the blocks decide near ties)."""
    monkeypatch.setattr(shadow_graph, "PAIRS_PER_CHUNK", chunk)
    p = _lattice_problem(seed, leads=300, branches=9, spare=spare, objective=objective)
    for plan in (solve(p, gap_tolerance=0.0), solve(p, method="greedy")):
        pruned, dense = _graphs(p, plan)
        _assert_same(pruned, dense)
        assert np.isfinite(dense.move).any()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cell_deg", [1e-4, 0.03, 5.0])
def test_any_cell_size_and_a_distance_limit_give_the_same_graph(
    seed: int, cell_deg: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shadow_pruned, "CELL_DEG", cell_deg)
    monkeypatch.setattr(shadow_pruned, "PAIRS_PER_BLOCK", 50)  # cells and moves in blocks
    monkeypatch.setattr(shadow_graph, "PAIRS_PER_CHUNK", 30)
    for limit in (None, 8.0, 15.0):
        p = _lattice_problem(
            seed, leads=200, branches=7, spare=-20, objective=OBJECTIVES[seed % 3],
            max_distance_km=limit,
        )  # fmt: skip
        plan = solve(p, gap_tolerance=0.0)
        _assert_same(*_graphs(p, plan))


@pytest.mark.parametrize("seed", range(4))
def test_prices_are_those_of_the_dense_graph(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _lattice_problem(seed, leads=250, branches=8, spare=-15, objective=OBJECTIVES[0])
    plan = solve(p, gap_tolerance=0.0)
    pruned = shadow_prices(problem=p, plan=plan)
    monkeypatch.setattr(shadow_pruned, "_candidates", _every_move)
    assert shadow_prices(problem=p, plan=plan) == pruned
    assert pruned is not None


def _every_move(
    problem: AllocationProblem, leads: shadow_graph.Leads, cells: object, own: object
) -> tuple[np.ndarray, np.ndarray]:
    b = problem.branches.size
    pos, j = np.divmod(np.arange(len(leads.idx) * b), b)
    keep = leads.src[pos] != j  # a lead's own branch is no move
    return pos[keep], j[keep]


@pytest.mark.parametrize("branches", [0, 1])
def test_nothing_to_price(branches: int) -> None:
    p = build_problem(
        branches=[branch("A", 30.0, 120.0, 0)][:branches], leads=[LeadSpec("L1", 30.0, 120.0)]
    )
    plan = solve(p, gap_tolerance=0.0)
    _assert_same(*_graphs(p, plan))
    empty = build_problem(branches=[branch("A", 30.0, 120.0, 2)], leads=[])
    _assert_same(*_graphs(empty, solve(empty, gap_tolerance=0.0)))


def test_leads_without_a_point_fall_back_to_the_dense_pass() -> None:
    p = build_problem(
        branches=[branch("A", 30.0, 120.0, 1), branch("B", 30.1, 120.1, 1)],
        leads=[LeadSpec("L1", 30.0, 120.01), LeadSpec("L2", 30.05, 120.05),
               LeadSpec("L3", None, None)],
    )  # fmt: skip
    plan = solve(p, gap_tolerance=0.0)
    _assert_same(*_graphs(p, plan))


def _folded_over_every_block(leads: shadow_graph.Leads, delta: np.ndarray) -> tuple[float, int]:
    """The dense pass's figures for one (row, branch), written out: each block's cheapest cost
    and its ties, folded in block order."""
    tie = shadow_graph.TIE_KM
    best, ties = np.inf, 0
    for lo in range(0, len(delta), leads.step):
        block, weight = delta[lo : lo + leads.step], leads.weight[lo : lo + leads.step]
        low = block.min()
        count = int(weight[block <= low + tie].sum())
        if low < best - tie:
            best, ties = low, count
        elif low <= best + tie:
            ties += count
    return best, ties if np.isfinite(best) else 0


@pytest.mark.parametrize("seed", range(300))
def test_blocks_far_above_the_cheapest_change_nothing(seed: int) -> None:
    """Costs a fraction of TIE_KM apart, in chains across many blocks: the fold over the
    blocks within W of the cheapest equals the fold over all (what lets the bound drop the
    rest), with or without the leads beyond W + TIE_KM."""
    rng = np.random.default_rng(seed)
    n, step = int(rng.integers(2, 80)), int(rng.integers(1, 6))
    steps = rng.integers(0, 40, n) * rng.choice([0.3, 0.45, 0.7, 1.0]) * shadow_graph.TIE_KM
    delta = 10.0 + steps
    delta[rng.random(n) < 0.2] = 10.5
    leads = shadow_graph.Leads(
        idx=np.arange(n), src=np.zeros(n, np.int64), weight=rng.integers(1, 4, n), step=step
    )
    best, ties = _folded_over_every_block(leads, delta)
    pos, j = np.arange(n), np.ones(n, np.int64)
    for keep in (np.ones(n, bool), delta <= delta.min() + shadow_graph.TIE_KM * (n + 8)):
        graph = shadow_pruned._summary(2, leads, pos=pos[keep], j=j[keep], delta=delta[keep])
        assert (graph.move[0, 1], int(graph.move_ties[0, 1])) == (best, ties)
