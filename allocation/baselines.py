"""What rule-based CRMs do, one lead at a time in input order (for comparison in reports).

- greedy: nearest eligible branch with room (cheapest pair in pair mode);
- round_robin: the next branch in code order after the previous pick that is eligible and has
  room, ignoring distance;
- weighted_random: a draw among eligible branches with room, weighted by remaining capacity
  (Odoo-style), from a generator seeded with `seed`.
All respect the hard rules (tier, active, max distance, capacity by workload).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from allocation.geo import haversine_km_np
from allocation.model import AllocationProblem, PairTable
from allocation.solvers.screen import Screened

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Options = tuple[int, IntArray, FloatArray, IntArray]  # lead, branches, costs, workloads
CHUNK = 2048


class _Picker(Protocol):
    def choose(
        self, *, options: IntArray, cost: FloatArray, fits: NDArray[np.bool_], room: IntArray
    ) -> int: ...


def run_baseline(
    *, problem: AllocationProblem, screened: Screened, method: str, seed: int
) -> IntArray:
    room = problem.branches.capacity.copy()
    branch = np.full(problem.leads.size, -1, np.int64)
    pick = _picker(method=method, seed=seed, n_branches=room.size)
    for lead, options, cost, workload in _options(problem=problem, screened=screened):
        fits = room[options] >= workload
        if not fits.any():
            continue
        k = pick.choose(options=options, cost=cost, fits=fits, room=room[options])
        branch[lead] = options[k]
        room[options[k]] -= workload[k]
    return branch


def _picker(*, method: str, seed: int, n_branches: int) -> _Picker:
    if method == "greedy":
        return _Greedy(seed=seed, n_branches=n_branches)
    if method == "round_robin":
        return _RoundRobin(seed=seed, n_branches=n_branches)
    return _WeightedRandom(seed=seed, n_branches=n_branches)


class _Greedy:
    def __init__(self, *, seed: int, n_branches: int) -> None:
        del seed, n_branches

    def choose(
        self, *, options: IntArray, cost: FloatArray, fits: NDArray[np.bool_], room: IntArray
    ) -> int:
        order = np.lexsort((options, cost))
        return int(order[np.argmax(fits[order])])


class _RoundRobin:
    def __init__(self, *, seed: int, n_branches: int) -> None:
        del seed
        self.n_branches = n_branches
        self.next = 0

    def choose(
        self, *, options: IntArray, cost: FloatArray, fits: NDArray[np.bool_], room: IntArray
    ) -> int:
        turn = (options - self.next) % self.n_branches  # options in branch order from `next`
        k = int(np.flatnonzero(fits)[np.argmin(turn[fits])])
        self.next = (int(options[k]) + 1) % self.n_branches
        return k


class _WeightedRandom:
    def __init__(self, *, seed: int, n_branches: int) -> None:
        del n_branches
        self.rng = np.random.default_rng(seed)

    def choose(
        self, *, options: IntArray, cost: FloatArray, fits: NDArray[np.bool_], room: IntArray
    ) -> int:
        candidates = np.flatnonzero(fits)
        weights = room[candidates].astype(np.float64)
        return int(self.rng.choice(candidates, p=weights / weights.sum()))


def _options(*, problem: AllocationProblem, screened: Screened) -> Iterator[Options]:
    if screened.pairs is not None:
        yield from _pair_options(pairs=screened.pairs, active=screened.active)
    else:
        yield from _location_options(problem=problem, active=screened.active)


def _pair_options(*, pairs: PairTable, active: NDArray[np.bool_]) -> Iterator[Options]:
    start = np.searchsorted(pairs.lead, np.arange(len(active) + 1))
    for lead in np.flatnonzero(active).tolist():
        a, b = start[lead], start[lead + 1]
        yield lead, pairs.branch[a:b], pairs.cost[a:b], pairs.workload[a:b]


def _location_options(
    *, problem: AllocationProblem, active: NDArray[np.bool_]
) -> Iterator[Options]:
    leads, branches = problem.leads, problem.branches
    eligible = problem.eligible_matrix()
    limit = problem.params.max_distance_km
    idx = np.flatnonzero(active)
    ones = np.ones(branches.size, np.int64)
    for lo in range(0, len(idx), CHUNK):
        chunk = idx[lo : lo + CHUNK]
        dist = haversine_km_np(
            leads.lat[chunk, None],
            leads.lon[chunk, None],
            branches.lat[None, :],
            branches.lon[None, :],
        )
        ok = eligible[leads.tier[chunk]]
        if limit is not None:
            ok &= dist <= limit
        for row, lead in enumerate(chunk.tolist()):
            options = np.flatnonzero(ok[row])
            yield lead, options, dist[row, options], ones[: len(options)]
