"""Compiled tabu search for the GAP (every lead assigned exactly once): pair mode's improver.

Why: CP-SAT's LNS makes one or two steps per second on the large Yagiura instances, and a
search written with numpy reached only ~20,000 moves in half a minute. This one is compiled
with numba (``cache=True``: compiled once, ~5 s, then loaded from ``__pycache__``; set
``NUMBA_CACHE_DIR`` where the package directory is read-only) and evaluates ~100 million
moves per second on one core.

The search, written for this project after the ideas of Diaz & Fernandez (2001) and Yagiura,
Ibaraki & Glover (2004):

* moves: *shift* (one lead to another branch) to a lead's first few allowed branches, and
  *swap* (two leads exchange branches) where one lead goes to its first allowed branch; the
  caller lists a lead's branches best first (by Lagrangian reduced cost), so the few tried
  are the promising ones;
* every move is priced as cost change plus ``alpha`` per unit of excess load, so the search
  walks through plans that overload branches (strategic oscillation): ``alpha`` grows after
  each move that leaves a branch overloaded and shrinks after each move to a feasible plan,
  so the search keeps crossing the feasibility border where the good plans of tight
  instances lie;
* each move takes the best priced move that is not tabu: a lead may not return to a branch it
  left for a random number of moves, unless that gives a feasible plan cheaper than the best
  one (aspiration); after a long run without a new best plan, it restarts from the best plan.

Only feasible plans are returned (every branch within capacity, each lead on an allowed
branch), checked again in Python. Deterministic: a seeded generator inside the compiled code
and a stop on a count of evaluated moves (the same on any machine); the caller's deadline
only caps the search between chunks of that count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

Pair = tuple[int, int, int, int]
IntArray = NDArray[np.int64]
SmallIntArray = NDArray[np.int32]
FloatArray = NDArray[np.float64]

# How many of a lead's first listed branches shift and swap moves try. Measured on Chu-Beasley
# d10200, d20100 and Yagiura d20400 (3e8 evaluations each): swaps to the first branch only
# ended 0.22-1.4% above the best known plans, swaps to 2 or 4 branches 0.6-1.2% and 0.9-1.6%
# (fewer, dearer moves); shifts to 10 branches made 5x the moves of all 80 on 1600 x 80.
_SWAP_OPTIONS = 1
_SHIFT_OPTIONS = 10
# A lead may not return to the branch it left for _TENURE + random(0.._TENURE_RANGE) moves
# (tenures of 3-5 and 10-20 did no better on the same instances).
_TENURE = 5
_TENURE_RANGE = 10
# alpha is multiplied or divided by this after each move, within [1e-3, 1e3] x its start.
_ALPHA_STEP = 1.05
_ALPHA_SPAN = 1e3
# Moves without a new best plan before the search restarts from the best plan.
_RESTART_MOVES = 20_000
# Evaluated moves per chunk between two looks at the wall clock (~20 ms of work).
_CHUNK_EVALS = 2_000_000

# Slots of the search's integer state array (kept between chunks) ...
_MOVES, _EVALS, _RNG, _COST, _EXCESS, _BEST_COST, _LAST_BEST = range(7)
# ... of its float state array ...
_ALPHA, _ALPHA_START = range(2)
# ... and of the settings array (see ``_settings``).
_S_STEP, _S_TENURE, _S_RANGE, _S_RESTART, _S_SWAPS, _S_SHIFTS, _S_LOWER = range(7)


@dataclass(frozen=True)
class Problem:
    """Dense view of a GAP: ``allowed[lead, branch]`` marks usable pairs, and
    ``options[lead, :degree[lead]]`` lists each lead's branches in the caller's order."""

    cost: IntArray
    load: IntArray
    allowed: NDArray[np.bool_]
    options: SmallIntArray
    degree: SmallIntArray
    capacity: IntArray

    @classmethod
    def build(cls, n_leads: int, capacities: Sequence[int], pairs: Sequence[Pair]) -> Problem:
        """``pairs`` (lead, branch, cost, load), most preferred first within each lead."""
        n_branches = len(capacities)
        cost = np.zeros((n_leads, n_branches), np.int64)
        load = np.zeros((n_leads, n_branches), np.int64)
        allowed = np.zeros((n_leads, n_branches), np.bool_)
        degree = np.zeros(n_leads, np.int32)
        options = np.zeros((n_leads, max(n_branches, 1)), np.int32)
        for lead, branch, c, w in pairs:
            if allowed[lead, branch]:
                raise ValueError(f"duplicate pair for lead {lead}, branch {branch}")
            cost[lead, branch], load[lead, branch] = c, w
            allowed[lead, branch] = True
            options[lead, degree[lead]] = branch
            degree[lead] += 1
        return cls(cost, load, allowed, options, degree, np.asarray(capacities, np.int64))

    def plan_cost(self, plan: Sequence[int]) -> int:
        branches = np.asarray(plan, np.int64)
        return int(self.cost[np.arange(branches.size), branches].sum())

    def feasible(self, plan: Sequence[int]) -> bool:
        """Every lead on an allowed branch and every branch within its capacity."""
        branches = np.asarray(plan, np.int64)
        if branches.size != self.cost.shape[0]:
            return False
        if not branches.size:
            return True
        if branches.min() < 0 or branches.max() >= self.capacity.size:
            return False
        leads = np.arange(branches.size)
        if not self.allowed[leads, branches].all():
            return False
        used = np.bincount(branches, self.load[leads, branches], self.capacity.size)
        return bool(np.all(used <= self.capacity))


@dataclass(frozen=True)
class TabuResult:
    plan: list[int]
    cost: int
    moves: int
    evaluations: int


def search(
    problem: Problem,
    start: Sequence[int],
    *,
    evaluations: int,
    seed: int,
    alpha: float,
    lower_bound: float = -1.0,
    deadline: float = float("inf"),
    settings: dict[str, float] | None = None,
) -> TabuResult:
    """The best feasible plan found from the feasible plan ``start``.

    Stops after ``evaluations`` evaluated moves, once a plan costs ``lower_bound`` or less
    (a proven bound: nothing cheaper exists), or at ``deadline`` (checked between chunks).
    ``alpha`` is the first price of a unit of excess load; ``settings`` override the tuning
    constants (names in ``_settings``) for experiments.
    """
    if not problem.feasible(start):
        raise ValueError("the starting plan is not feasible")
    state = _State.create(problem, start, seed=seed, alpha=alpha)
    tuning = _settings(settings, lower_bound)
    target = 0
    while target < evaluations and time.perf_counter() < deadline:
        target = min(target + _CHUNK_EVALS, evaluations)
        _run(
            problem.cost,
            problem.load,
            problem.allowed,
            problem.options,
            problem.degree,
            problem.capacity,
            state.plan,
            state.used,
            state.members,
            state.n_members,
            state.slot,
            state.tabu,
            state.best,
            state.ints,
            state.floats,
            tuning,
            target,
        )
        if state.ints[_BEST_COST] <= lower_bound:
            break
    best = state.best.tolist()
    if not problem.feasible(best):  # never let a fault of the compiled code reach a plan
        raise AssertionError("tabu search produced an infeasible plan")
    return TabuResult(
        plan=best,
        cost=problem.plan_cost(best),
        moves=int(state.ints[_MOVES]),
        evaluations=int(state.ints[_EVALS]),
    )


def search_pair(
    problem: Problem,
    start: Sequence[int],
    *,
    evaluations: int,
    seed: int,
    alpha: float,
    lower_bound: float = -1.0,
    deadline: float = float("inf"),
) -> TabuResult:
    """Two searches with different seeds, one per core (the compiled code releases the GIL).
    The cheaper plan wins, the first seed's on ties, so the outcome is deterministic."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [
            pool.submit(
                search,
                problem,
                start,
                evaluations=evaluations,
                seed=2 * seed + k,
                alpha=alpha,
                lower_bound=lower_bound,
                deadline=deadline,
            )
            for k in (0, 1)
        ]
        results = [run.result() for run in runs]
    best = min(results, key=lambda r: r.cost)
    return TabuResult(
        plan=best.plan,
        cost=best.cost,
        moves=sum(r.moves for r in results),
        evaluations=sum(r.evaluations for r in results),
    )


def _settings(overrides: dict[str, float] | None, lower_bound: float) -> FloatArray:
    # The compiled code reads its tuning from one array (slots _S_*), so settings can be
    # tried without recompiling.
    chosen = {
        "step": _ALPHA_STEP,
        "tenure": _TENURE,
        "tenure_range": _TENURE_RANGE,
        "restart": _RESTART_MOVES,
        "swap_options": _SWAP_OPTIONS,
        "shift_options": _SHIFT_OPTIONS,
        "lower_bound": lower_bound,
    }
    unknown = set(overrides or {}) - set(chosen)
    if unknown:
        raise ValueError(f"unknown tabu settings: {sorted(unknown)}")
    chosen.update(overrides or {})
    return np.asarray(list(chosen.values()), np.float64)


@dataclass(frozen=True)
class _State:
    """The current plan with its branch loads and member lists, the tabu table, the best plan
    and the scalar state (slots _MOVES.. and _ALPHA..), all kept between chunks."""

    plan: SmallIntArray
    used: IntArray
    members: SmallIntArray  # members[branch, :n_members[branch]]: its leads, any order
    n_members: SmallIntArray
    slot: SmallIntArray  # a lead's position in its branch's member list
    tabu: IntArray  # tabu[lead, branch]: the move count until which lead may not go there
    best: SmallIntArray
    ints: IntArray
    floats: FloatArray

    @classmethod
    def create(cls, problem: Problem, start: Sequence[int], *, seed: int, alpha: float) -> _State:
        n_leads, n_branches = problem.cost.shape
        plan = np.asarray(start, np.int32)
        leads = np.arange(n_leads)
        used = np.bincount(plan, problem.load[leads, plan], n_branches).astype(np.int64)
        members = np.zeros((n_branches, max(n_leads, 1)), np.int32)
        n_members = np.zeros(n_branches, np.int32)
        slot = np.zeros(n_leads, np.int32)
        for lead, branch in enumerate(plan.tolist()):
            slot[lead] = n_members[branch]
            members[branch, n_members[branch]] = lead
            n_members[branch] += 1
        ints = np.zeros(7, np.int64)
        # A 63-bit non-zero generator state (xorshift stays at 0 once there).
        ints[_RNG] = (seed * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) % (2**63) or 1
        ints[_COST] = ints[_BEST_COST] = problem.plan_cost(start)
        floats = np.asarray([alpha, alpha], np.float64)
        tabu = np.zeros((n_leads, n_branches), np.int64)
        return cls(plan, used, members, n_members, slot, tabu, plan.copy(), ints, floats)


# --- compiled core ----------------------------------------------------------------------------
# Plain loops over arrays: numba compiles them to machine code. Arguments are the Problem's
# arrays (cost .. capacity), the _State's arrays (plan .. floats) and the settings.

_MASK63 = 0x7FFFFFFFFFFFFFFF


@numba.njit(cache=True, nogil=True)
def _random(ints: IntArray) -> int:
    # xorshift64 on 63 bits, so the state stays a positive int64.
    x = ints[_RNG]
    x ^= (x << 13) & _MASK63
    x ^= x >> 7
    x ^= (x << 17) & _MASK63
    if x == 0:
        x = 1
    ints[_RNG] = x
    return int(x)


@numba.njit(cache=True, nogil=True)
def _excess(used: int, capacity: int) -> int:
    return used - capacity if used > capacity else 0


@numba.njit(cache=True, nogil=True)
def _tenure(ints: IntArray, tuning: FloatArray) -> int:
    return int(tuning[_S_TENURE]) + _random(ints) % (int(tuning[_S_RANGE]) + 1)


@numba.njit(cache=True, nogil=True)
def _consider(
    pick: IntArray,
    pick_delta: FloatArray,
    ints: IntArray,
    delta: float,
    j: int,
    b: int,
    k: int,
    dc: int,
    dx: int,
) -> None:
    # Keep the lowest priced move; among equal ones pick uniformly (reservoir sampling), so
    # the scan order does not steer the search into cycles.
    if delta < pick_delta[0] - 1e-9:
        pick_delta[0] = delta
        pick[0], pick[1], pick[2], pick[3], pick[4], pick[5] = j, b, k, dc, dx, 1
    elif delta <= pick_delta[0] + 1e-9:
        pick[5] += 1
        if _random(ints) % pick[5] == 0:
            pick[0], pick[1], pick[2], pick[3], pick[4] = j, b, k, dc, dx


@numba.njit(cache=True, nogil=True)
def _admissible(is_tabu: bool, ints: IntArray, dc: int, dx: int) -> bool:
    # A tabu move is still taken when it yields a feasible plan cheaper than the best one.
    if not is_tabu:
        return True
    return bool(ints[_EXCESS] + dx == 0 and ints[_COST] + dc < ints[_BEST_COST])


@numba.njit(cache=True, nogil=True)
def _scan_shifts(
    cost: IntArray,
    load: IntArray,
    options: SmallIntArray,
    degree: SmallIntArray,
    capacity: IntArray,
    plan: SmallIntArray,
    used: IntArray,
    tabu: IntArray,
    ints: IntArray,
    alpha: float,
    limit: int,
    pick: IntArray,
    pick_delta: FloatArray,
) -> int:
    # Every lead to each of its first `limit` listed branches; returns the moves evaluated.
    evals = 0
    moves = ints[_MOVES]
    for j in range(plan.size):
        a = plan[j]
        lose_a = _excess(used[a] - load[j, a], capacity[a]) - _excess(used[a], capacity[a])
        for t in range(min(degree[j], limit)):
            b = options[j, t]
            if b == a:
                continue
            evals += 1
            dc = cost[j, b] - cost[j, a]
            gain_b = _excess(used[b] + load[j, b], capacity[b]) - _excess(used[b], capacity[b])
            dx = lose_a + gain_b
            if _admissible(tabu[j, b] > moves, ints, dc, dx):
                _consider(pick, pick_delta, ints, dc + alpha * dx, j, b, -1, dc, dx)
    return evals


@numba.njit(cache=True, nogil=True)
def _scan_swaps(
    cost: IntArray,
    load: IntArray,
    allowed: NDArray[np.bool_],
    options: SmallIntArray,
    degree: SmallIntArray,
    capacity: IntArray,
    plan: SmallIntArray,
    used: IntArray,
    members: SmallIntArray,
    n_members: SmallIntArray,
    tabu: IntArray,
    ints: IntArray,
    alpha: float,
    limit: int,
    pick: IntArray,
    pick_delta: FloatArray,
) -> int:
    # Lead j to one of its first `limit` branches b, each lead k of b to j's branch a.
    evals = 0
    moves = ints[_MOVES]
    for j in range(plan.size):
        a = plan[j]
        for t in range(min(degree[j], limit)):
            b = options[j, t]
            if b == a:
                continue
            j_tabu = tabu[j, b] > moves
            for s in range(n_members[b]):
                k = members[b, s]
                if not allowed[k, a]:
                    continue
                evals += 1
                dc = cost[j, b] - cost[j, a] + cost[k, a] - cost[k, b]
                after_a = used[a] - load[j, a] + load[k, a]
                after_b = used[b] - load[k, b] + load[j, b]
                dx = (
                    _excess(after_a, capacity[a])
                    - _excess(used[a], capacity[a])
                    + _excess(after_b, capacity[b])
                    - _excess(used[b], capacity[b])
                )
                if _admissible(j_tabu or tabu[k, a] > moves, ints, dc, dx):
                    _consider(pick, pick_delta, ints, dc + alpha * dx, j, b, k, dc, dx)
    return evals


@numba.njit(cache=True, nogil=True)
def _move(
    lead: int,
    branch: int,
    load: IntArray,
    plan: SmallIntArray,
    used: IntArray,
    members: SmallIntArray,
    n_members: SmallIntArray,
    slot: SmallIntArray,
) -> None:
    # One lead to another branch; loads and member lists (swap-remove) stay consistent.
    old = plan[lead]
    used[old] -= load[lead, old]
    last = members[old, n_members[old] - 1]
    members[old, slot[lead]] = last
    slot[last] = slot[lead]
    n_members[old] -= 1
    slot[lead] = n_members[branch]
    members[branch, n_members[branch]] = lead
    n_members[branch] += 1
    used[branch] += load[lead, branch]
    plan[lead] = branch


@numba.njit(cache=True, nogil=True)
def _run(
    cost: IntArray,
    load: IntArray,
    allowed: NDArray[np.bool_],
    options: SmallIntArray,
    degree: SmallIntArray,
    capacity: IntArray,
    plan: SmallIntArray,
    used: IntArray,
    members: SmallIntArray,
    n_members: SmallIntArray,
    slot: SmallIntArray,
    tabu: IntArray,
    best: SmallIntArray,
    ints: IntArray,
    floats: FloatArray,
    tuning: FloatArray,
    target_evals: int,
) -> None:
    """Make moves until ``target_evals`` moves have been evaluated since the start."""
    pick = np.zeros(6, np.int64)  # lead, branch, swapped lead (-1: shift), dc, dx, ties
    pick_delta = np.zeros(1, np.float64)
    while ints[_EVALS] < target_evals and ints[_BEST_COST] > tuning[_S_LOWER]:
        pick[0], pick_delta[0] = -1, np.inf
        alpha = floats[_ALPHA]
        evals = _scan_shifts(
            cost, load, options, degree, capacity, plan, used, tabu, ints, alpha,
            int(tuning[_S_SHIFTS]), pick, pick_delta,
        )  # fmt: skip
        evals += _scan_swaps(
            cost, load, allowed, options, degree, capacity, plan, used, members, n_members,
            tabu, ints, alpha, int(tuning[_S_SWAPS]), pick, pick_delta,
        )  # fmt: skip
        ints[_EVALS] += max(evals, 1)
        ints[_MOVES] += 1
        if pick[0] < 0:
            continue  # every move tabu: let the tenures run out
        j, b, k = pick[0], pick[1], pick[2]
        a = plan[j]
        tabu[j, a] = ints[_MOVES] + _tenure(ints, tuning)
        _move(j, b, load, plan, used, members, n_members, slot)
        if k >= 0:
            tabu[k, b] = ints[_MOVES] + _tenure(ints, tuning)
            _move(k, a, load, plan, used, members, n_members, slot)
        ints[_COST] += pick[3]
        ints[_EXCESS] += pick[4]
        _adapt_and_record(plan, best, ints, floats, tuning)
        if ints[_MOVES] - ints[_LAST_BEST] > tuning[_S_RESTART]:
            for lead in range(plan.size):  # back to the best plan, one consistent move at a time
                if plan[lead] != best[lead]:
                    _move(lead, best[lead], load, plan, used, members, n_members, slot)
            ints[_COST], ints[_EXCESS], ints[_LAST_BEST] = ints[_BEST_COST], 0, ints[_MOVES]


@numba.njit(cache=True, nogil=True)
def _adapt_and_record(
    plan: SmallIntArray,
    best: SmallIntArray,
    ints: IntArray,
    floats: FloatArray,
    tuning: FloatArray,
) -> None:
    # Strategic oscillation: excess load gets dearer while the plan is infeasible and cheaper
    # while it is feasible; a feasible plan cheaper than the best becomes the best.
    step, start = tuning[_S_STEP], floats[_ALPHA_START]
    if ints[_EXCESS] > 0:
        floats[_ALPHA] = min(floats[_ALPHA] * step, start * _ALPHA_SPAN)
        return
    floats[_ALPHA] = max(floats[_ALPHA] / step, start / _ALPHA_SPAN)
    if ints[_COST] < ints[_BEST_COST]:
        ints[_BEST_COST], ints[_LAST_BEST] = ints[_COST], ints[_MOVES]
        best[:] = plan
