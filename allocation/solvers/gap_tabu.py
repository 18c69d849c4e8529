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
  instances lie; on problems with many branches each branch has its own price instead,
  raised while that branch is overloaded (setting ``weights``, see ``_PER_BRANCH``), and a
  move is then priced with the weights of the two branches it touches;
* each move takes the best priced move that is not tabu: a lead may not return to a branch it
  left for a random number of moves, unless that gives a feasible plan cheaper than the best
  one (aspiration); after a long run without a new best plan, it restarts from the best plan.
* moves are priced incrementally: each lead's best shift and best swap are cached, and a move
  (which changes the loads of two branches only) prices again just the rows that read those
  two branches; choosing a move scans one cached row per lead (see ``_run``).

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
# How excess load is priced (setting "weights"):
# * _GLOBAL: one price ``alpha`` for every branch (as above);
# * _PER_BRANCH: each branch its own weight, as in Yagiura, Ibaraki & Glover (2004). After a
#   move to an infeasible plan each overloaded branch's weight is multiplied by
#   1 + (_BRANCH_STEP - 1) x its excess / the largest excess, and each branch within capacity
#   has its weight divided by 1 + _BRANCH_DECAY; after a move to a feasible plan every weight
#   is divided by _BRANCH_STEP. Weights stay within [1e-3, 1e3] x the first alpha, and none
#   falls below the largest over _BRANCH_SPAN;
# * _RELATIVE: alpha as in _GLOBAL times a factor per branch. After a move to an infeasible
#   plan an overloaded branch's factor grows by _BRANCH_RATE x its excess / the largest
#   excess; every factor is pulled back towards 1 by _BRANCH_RELAX (geometrically) each move;
#   the factors keep a mean of 1 and stay within [1 / _BRANCH_SPAN, _BRANCH_SPAN].
# By default _PER_BRANCH on problems with at least _PER_BRANCH_MIN_BRANCHES branches, else
# _GLOBAL (a count, so the choice is the same on any machine). Alone, 10 CPU seconds from
# the warm start: per-branch weights were better on every instance with 40-80 branches tried
# (d801600 0.80% against 1.18% above best known, d60900, d40400, d401600, c801600, e60900)
# and no better on those with 10-30 (d20400, d20200, d30900, d15900, Chu-Beasley d10200);
# bench/gap_results.md, session 17.
_GLOBAL, _PER_BRANCH, _RELATIVE = range(3)
_PER_BRANCH_MIN_BRANCHES = 40
_BRANCH_STEP = 1.02
_BRANCH_SPAN = 3.0
_BRANCH_RATE = 0.05
_BRANCH_RELAX = 0.01
_BRANCH_DECAY = 0.0
# Moves without a new best plan before the search restarts from the best plan.
_RESTART_MOVES = 20_000
# Moves between two pricings of every lead's cached moves (see ``_run``): in between only the
# rows a move touches are priced again, with the penalty of that move. The penalty changes 5%
# a move, so stale rows steer the search: Yagiura d801600 from the warm start, 10 s on one
# core, ended at 98256-98277 with 100 (4,600 moves/s), 98170 with 25, 98130 with 10 (2,400
# moves/s); main's full scan 98220 (580 moves/s).
_REFRESH_MOVES = 20
# Evaluated moves per chunk between two looks at the wall clock (~20 ms of work).
_CHUNK_EVALS = 2_000_000

# Slots of the search's integer state array (kept between chunks) ...
_MOVES, _EVALS, _RNG, _COST, _EXCESS, _BEST_COST, _LAST_BEST, _REFRESH_AT = range(8)
# ... of its float state array ...
_ALPHA, _ALPHA_START = range(2)
# ... and of the settings array (see ``_settings``).
(
    _S_STEP, _S_TENURE, _S_RANGE, _S_RESTART, _S_SWAPS, _S_SHIFTS, _S_REFRESH, _S_LOWER,
    _S_WEIGHTS, _S_BSTEP, _S_SPAN, _S_RATE, _S_RELAX, _S_DECAY,
) = range(14)  # fmt: skip


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
    tuning = _settings(settings, lower_bound, problem.capacity.size)
    listings = _listings(problem, tuning)
    target = 0
    while target < evaluations and time.perf_counter() < deadline:
        target = min(target + _CHUNK_EVALS, evaluations)
        _advance(problem, state, tuning, listings, target)
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


def _advance(
    problem: Problem,
    state: _State,
    tuning: FloatArray,
    listings: tuple[IntArray, SmallIntArray, IntArray, SmallIntArray],
    target: int,
) -> None:
    # Moves until ``target`` moves have been evaluated since the start (or the bound is met).
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
        state.weight,
        state.cache,
        state.expiry,
        state.stamp,
        *listings,
        tuning,
        target,
    )


def _listings(
    problem: Problem, tuning: FloatArray
) -> tuple[IntArray, SmallIntArray, IntArray, SmallIntArray]:
    # For the shift and then the swap options: which leads list each branch (see _listing).
    return (
        *_listing(problem, int(tuning[_S_SHIFTS])),
        *_listing(problem, int(tuning[_S_SWAPS])),
    )


def _listing(problem: Problem, limit: int) -> tuple[IntArray, SmallIntArray]:
    """The leads that list each branch among their first ``limit`` branches:
    ``leads[index[branch]:index[branch + 1]]``."""
    n_branches = problem.capacity.size
    width = problem.options.shape[1]
    listed = np.arange(width)[None, :] < np.minimum(problem.degree, limit)[:, None]
    leads, ranks = np.nonzero(listed)
    branches = problem.options[leads, ranks]
    order = np.argsort(branches, kind="stable")
    index = np.zeros(n_branches + 1, np.int64)
    np.cumsum(np.bincount(branches, minlength=n_branches), out=index[1:])
    return index, leads[order].astype(np.int32)


def _settings(
    overrides: dict[str, float] | None, lower_bound: float, n_branches: int = 0
) -> FloatArray:
    # The compiled code reads its tuning from one array (slots _S_*), so settings can be
    # tried without recompiling. The pricing of excess load follows the branch count unless
    # "weights" is given (see _PER_BRANCH_MIN_BRANCHES).
    chosen = {
        "step": _ALPHA_STEP,
        "tenure": _TENURE,
        "tenure_range": _TENURE_RANGE,
        "restart": _RESTART_MOVES,
        "swap_options": _SWAP_OPTIONS,
        "shift_options": _SHIFT_OPTIONS,
        "refresh": _REFRESH_MOVES,
        "lower_bound": lower_bound,
        "weights": _PER_BRANCH if n_branches >= _PER_BRANCH_MIN_BRANCHES else _GLOBAL,
        "branch_step": _BRANCH_STEP,
        "branch_span": _BRANCH_SPAN,
        "branch_rate": _BRANCH_RATE,
        "branch_relax": _BRANCH_RELAX,
        "branch_decay": _BRANCH_DECAY,
    }
    unknown = set(overrides or {}) - set(chosen)
    if unknown:
        raise ValueError(f"unknown tabu settings: {sorted(unknown)}")
    chosen.update(overrides or {})
    if chosen["weights"] not in (_GLOBAL, _PER_BRANCH, _RELATIVE) or chosen["branch_span"] < 1:
        raise ValueError("tabu settings: weights must be 0, 1 or 2 and branch_span >= 1")
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
    weight: FloatArray  # weight[branch]: the price of a unit of its excess load
    cache: IntArray  # cache[lead, _SH_B.._SW_DXA]: the lead's best shift and swap
    expiry: IntArray  # expiry[lead, 0 / 1]: move at which its shift / swap row is stale
    stamp: IntArray  # stamp[lead, 0 / 1]: the last move whose update priced that row

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
        ints = np.zeros(8, np.int64)
        # A 63-bit non-zero generator state (xorshift stays at 0 once there).
        ints[_RNG] = (seed * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) % (2**63) or 1
        ints[_COST] = ints[_BEST_COST] = problem.plan_cost(start)
        floats = np.asarray([alpha, alpha], np.float64)
        weight = np.full(n_branches, alpha, np.float64)
        tabu = np.zeros((n_leads, n_branches), np.int64)
        cache = np.full((n_leads, 9), -1, np.int64)
        expiry = np.zeros((n_leads, 2), np.int64)
        stamp = np.full((n_leads, 2), -1, np.int64)
        return cls(
            plan, used, members, n_members, slot, tabu, plan.copy(), ints, floats, weight,
            cache, expiry, stamp,
        )  # fmt: skip


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
    dxa: int,
) -> None:
    # Keep the lowest priced move; among equal ones pick uniformly (reservoir sampling), so
    # the scan order does not steer the search into cycles.
    if delta < pick_delta[0] - 1e-9:
        pick_delta[0] = delta
        pick[0], pick[1], pick[2], pick[3], pick[4], pick[5] = j, b, k, dc, dx, 1
        pick[6] = dxa
    elif delta <= pick_delta[0] + 1e-9:
        pick[5] += 1
        if _random(ints) % pick[5] == 0:
            pick[0], pick[1], pick[2], pick[3], pick[4], pick[6] = j, b, k, dc, dx, dxa


@numba.njit(cache=True, nogil=True)
def _admissible(is_tabu: bool, ints: IntArray, dc: int, dx: int) -> bool:
    # A tabu move is still taken when it yields a feasible plan cheaper than the best one.
    if not is_tabu:
        return True
    return bool(ints[_EXCESS] + dx == 0 and ints[_COST] + dc < ints[_BEST_COST])


# A lead's cached moves, one row per lead (see ``_State.cache``): its best shift (target
# branch, cost change, excess change) and its best swap (target branch, partner, cost change,
# excess change); a target of -1 means no admissible move. Then the part of each excess change
# on the lead's own branch (the rest is on the target branch).
_SH_B, _SH_DC, _SH_DX, _SW_B, _SW_K, _SW_DC, _SW_DX, _SH_DXA, _SW_DXA = range(9)
_NEVER = 2**62


@numba.njit(cache=True, nogil=True)
def _price(dc: int, dx: int, dxa: int, a: int, b: int, weight: FloatArray) -> float:
    # A move's price: its cost change plus each touched branch's weight times the change of
    # that branch's excess (dxa on the lead's branch a, dx - dxa on the target branch b).
    return float(dc + weight[a] * dxa + weight[b] * (dx - dxa))


@numba.njit(cache=True, nogil=True)
def _shift_delta(
    j: int, b: int, cost: IntArray, load: IntArray, capacity: IntArray, plan: SmallIntArray,
    used: IntArray,
) -> tuple[int, int, int]:  # fmt: skip
    # Cost change, excess change and its part on j's branch of moving lead j to branch b.
    a = plan[j]
    lose_a = _excess(used[a] - load[j, a], capacity[a]) - _excess(used[a], capacity[a])
    gain_b = _excess(used[b] + load[j, b], capacity[b]) - _excess(used[b], capacity[b])
    return cost[j, b] - cost[j, a], lose_a + gain_b, lose_a


@numba.njit(cache=True, nogil=True)
def _price_shifts(
    leads: SmallIntArray,
    count: int,
    cost: IntArray,
    load: IntArray,
    options: SmallIntArray,
    degree: SmallIntArray,
    capacity: IntArray,
    plan: SmallIntArray,
    used: IntArray,
    tabu: IntArray,
    ints: IntArray,
    weight: FloatArray,
    limit: int,
    cache: IntArray,
    expiry: IntArray,
    pick: IntArray,
    pick_delta: FloatArray,
) -> int:
    # Each lead's best shift to one of its first `limit` listed branches, into its cache row;
    # returns the moves evaluated. expiry[j, 0] gets the first move at which a skipped tabu
    # move becomes allowed again (the row must then be priced again). One call prices a
    # whole list of leads: numba counts references on every array passed to a call that is
    # not inlined, and per-lead calls spent most of their time doing that.
    moves = ints[_MOVES]
    evals = 0
    for i in range(count):
        j = leads[i]
        pick[0], pick_delta[0] = -1, np.inf
        expiry[j, 0] = _NEVER
        a = plan[j]
        for t in range(min(degree[j], limit)):
            b = options[j, t]
            if b == a:
                continue
            evals += 1
            dc, dx, dxa = _shift_delta(j, b, cost, load, capacity, plan, used)
            is_tabu = tabu[j, b] > moves
            if is_tabu:
                expiry[j, 0] = min(expiry[j, 0], tabu[j, b])
            if _admissible(is_tabu, ints, dc, dx):
                price = _price(dc, dx, dxa, a, b, weight)
                _consider(pick, pick_delta, ints, price, j, b, -1, dc, dx, dxa)
        cache[j, _SH_B] = pick[1] if pick[0] >= 0 else -1
        cache[j, _SH_DC], cache[j, _SH_DX], cache[j, _SH_DXA] = pick[3], pick[4], pick[6]
    return evals


@numba.njit(cache=True, nogil=True)
def _swap_delta(
    j: int, k: int, cost: IntArray, load: IntArray, capacity: IntArray, plan: SmallIntArray,
    used: IntArray,
) -> tuple[int, int, int]:  # fmt: skip
    # Cost change, excess change and its part on j's branch of exchanging the branches of
    # leads j and k.
    a, b = plan[j], plan[k]
    dc = cost[j, b] - cost[j, a] + cost[k, a] - cost[k, b]
    after_a = used[a] - load[j, a] + load[k, a]
    after_b = used[b] - load[k, b] + load[j, b]
    dxa = _excess(after_a, capacity[a]) - _excess(used[a], capacity[a])
    dxb = _excess(after_b, capacity[b]) - _excess(used[b], capacity[b])
    return dc, dxa + dxb, dxa


@numba.njit(cache=True, nogil=True)
def _price_swaps(
    leads: SmallIntArray,
    count: int,
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
    weight: FloatArray,
    limit: int,
    cache: IntArray,
    expiry: IntArray,
    pick: IntArray,
    pick_delta: FloatArray,
) -> int:
    # Each lead's best swap: j to one of its first `limit` branches b, a lead k of b to j's
    # branch a; into its cache row, as _price_shifts (expiry[j, 1]).
    moves = ints[_MOVES]
    evals = 0
    for i in range(count):
        j = leads[i]
        pick[0], pick_delta[0] = -1, np.inf
        expiry[j, 1] = _NEVER
        a = plan[j]
        for t in range(min(degree[j], limit)):
            b = options[j, t]
            if b == a:
                continue
            j_tabu = tabu[j, b] > moves
            if j_tabu:
                expiry[j, 1] = min(expiry[j, 1], tabu[j, b])
            for s in range(n_members[b]):
                k = members[b, s]
                if not allowed[k, a]:
                    continue
                evals += 1
                dc, dx, dxa = _swap_delta(j, k, cost, load, capacity, plan, used)
                k_tabu = tabu[k, a] > moves
                if k_tabu:
                    expiry[j, 1] = min(expiry[j, 1], tabu[k, a])
                if _admissible(j_tabu or k_tabu, ints, dc, dx):
                    price = _price(dc, dx, dxa, a, b, weight)
                    _consider(pick, pick_delta, ints, price, j, b, k, dc, dx, dxa)
        cache[j, _SW_B] = pick[1] if pick[0] >= 0 else -1
        cache[j, _SW_K], cache[j, _SW_DC], cache[j, _SW_DX] = pick[2], pick[3], pick[4]
        cache[j, _SW_DXA] = pick[6]
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
    weight: FloatArray,
    cache: IntArray,
    expiry: IntArray,
    stamp: IntArray,
    shift_index: IntArray,
    shift_leads: SmallIntArray,
    swap_index: IntArray,
    swap_leads: SmallIntArray,
    tuning: FloatArray,
    target_evals: int,
) -> None:
    """Make moves until ``target_evals`` moves have been evaluated since the start.

    Each lead's best shift and best swap are cached (``cache``); a move changes the loads and
    members of two branches only, so only the rows of leads that sit on them or may move to
    them are priced again (``_reprice``), and choosing a move scans one row per lead. Rows
    are priced with the penalty of their time; all are priced again every ``refresh`` moves
    and after a restart, so the penalty's drift in between only shades a lead's choice."""
    pick = np.zeros(7, np.int64)  # lead, branch, swapped lead (-1: shift), dc, dx, ties, dxa
    pick_delta = np.zeros(1, np.float64)
    row_pick = np.zeros(7, np.int64)  # the same for one lead's row
    row_delta = np.zeros(1, np.float64)
    every = np.arange(plan.size).astype(np.int32)
    shift_rows = np.zeros(plan.size, np.int32)  # leads whose rows to price (buffers)
    swap_rows = np.zeros(plan.size, np.int32)
    shifts, swaps = int(tuning[_S_SHIFTS]), int(tuning[_S_SWAPS])
    while ints[_EVALS] < target_evals and ints[_BEST_COST] > tuning[_S_LOWER]:
        moves = ints[_MOVES]
        n_shift = n_swap = 0
        if moves >= ints[_REFRESH_AT]:
            ints[_REFRESH_AT] = moves + int(tuning[_S_REFRESH])
            shift_rows[:] = every
            swap_rows[:] = every
            n_shift = n_swap = plan.size
        else:  # rows whose skipped tabu moves are allowed again
            for j in range(plan.size):
                if expiry[j, 0] <= moves:
                    shift_rows[n_shift] = j
                    n_shift += 1
                if expiry[j, 1] <= moves:
                    swap_rows[n_swap] = j
                    n_swap += 1
        evals = plan.size + _price_shifts(
            shift_rows, n_shift, cost, load, options, degree, capacity, plan, used, tabu, ints,
            weight, shifts, cache, expiry, row_pick, row_delta,
        )  # fmt: skip
        evals += _price_swaps(
            swap_rows, n_swap, cost, load, allowed, options, degree, capacity, plan, used,
            members, n_members, tabu, ints, weight, swaps, cache, expiry, row_pick, row_delta,
        )  # fmt: skip
        _select(cache, plan, tabu, ints, weight, pick, pick_delta)
        ints[_EVALS] += evals
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
        _adapt_and_record(plan, best, ints, floats, tuning, weight, used, capacity)
        if ints[_MOVES] - ints[_LAST_BEST] > tuning[_S_RESTART]:
            for lead in range(plan.size):  # back to the best plan, one consistent move at a time
                if plan[lead] != best[lead]:
                    _move(lead, best[lead], load, plan, used, members, n_members, slot)
            ints[_COST], ints[_EXCESS], ints[_LAST_BEST] = ints[_BEST_COST], 0, ints[_MOVES]
            ints[_REFRESH_AT] = ints[_MOVES]
            continue
        ints[_EVALS] += _reprice(
            a, b, cost, load, allowed, options, degree, capacity, plan, used, members,
            n_members, tabu, ints, weight, shifts, swaps, cache, expiry, stamp,
            shift_index, shift_leads, swap_index, swap_leads, shift_rows, swap_rows, row_pick,
            row_delta,
        )  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _select(
    cache: IntArray,
    plan: SmallIntArray,
    tabu: IntArray,
    ints: IntArray,
    weight: FloatArray,
    pick: IntArray,
    pick_delta: FloatArray,
) -> None:
    # The lowest priced cached move at the current penalty. A tabu move admitted by
    # aspiration when it was priced is checked again: the best plan may have changed since.
    pick[0], pick_delta[0] = -1, np.inf
    moves = ints[_MOVES]
    for j in range(plan.size):
        a = plan[j]
        b = cache[j, _SH_B]
        if b >= 0:
            dc, dx, dxa = cache[j, _SH_DC], cache[j, _SH_DX], cache[j, _SH_DXA]
            if _admissible(tabu[j, b] > moves, ints, dc, dx):
                price = _price(dc, dx, dxa, a, b, weight)
                _consider(pick, pick_delta, ints, price, j, b, -1, dc, dx, dxa)
        b = cache[j, _SW_B]
        if b >= 0:
            k, dc, dx, dxa = cache[j, _SW_K], cache[j, _SW_DC], cache[j, _SW_DX], cache[j, _SW_DXA]
            if _admissible(tabu[j, b] > moves or tabu[k, a] > moves, ints, dc, dx):
                price = _price(dc, dx, dxa, a, b, weight)
                _consider(pick, pick_delta, ints, price, j, b, k, dc, dx, dxa)


@numba.njit(cache=True, nogil=True)
def _reprice(
    a: int,
    b: int,
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
    weight: FloatArray,
    shifts: int,
    swaps: int,
    cache: IntArray,
    expiry: IntArray,
    stamp: IntArray,
    shift_index: IntArray,
    shift_leads: SmallIntArray,
    swap_index: IntArray,
    swap_leads: SmallIntArray,
    shift_rows: SmallIntArray,
    swap_rows: SmallIntArray,
    row_pick: IntArray,
    row_delta: FloatArray,
) -> int:
    # After a move between branches a and b: every row whose prices read their loads or
    # members. Leads on a or b: both rows. Leads that list a or b among their first swap
    # options: the swap row. Leads that list them among their first shift options: only the
    # shift to a or b is priced, and replaces the cached one when cheaper, unless the cached
    # shift went to a or b (then the whole row).
    moves = ints[_MOVES]
    n_shift = n_swap = 0
    evals = 0
    for side in range(2):
        c = a if side == 0 else b
        for s in range(n_members[c]):
            j = members[c, s]
            stamp[j, 0] = stamp[j, 1] = moves
            shift_rows[n_shift] = swap_rows[n_swap] = j
            n_shift += 1
            n_swap += 1
    for side in range(2):
        c = a if side == 0 else b
        for s in range(swap_index[c], swap_index[c + 1]):
            j = swap_leads[s]
            if stamp[j, 1] != moves:
                stamp[j, 1] = moves
                swap_rows[n_swap] = j
                n_swap += 1
        for s in range(shift_index[c], shift_index[c + 1]):
            j = shift_leads[s]
            if stamp[j, 0] == moves:
                continue  # on a or b, or its whole row is priced again already
            target = cache[j, _SH_B]
            if target < 0 or target == a or target == b:  # noqa: SIM109 (numba: no `in` on a tuple)
                stamp[j, 0] = moves
                shift_rows[n_shift] = j
                n_shift += 1
                continue
            evals += 1
            dc, dx, dxa = _shift_delta(j, c, cost, load, capacity, plan, used)
            is_tabu = tabu[j, c] > moves
            if is_tabu:
                expiry[j, 0] = min(expiry[j, 0], tabu[j, c])
            p = plan[j]
            best = _price(cache[j, _SH_DC], cache[j, _SH_DX], cache[j, _SH_DXA], p, target, weight)
            if (
                _admissible(is_tabu, ints, dc, dx)
                and _price(dc, dx, dxa, p, c, weight) < best - 1e-9
            ):
                cache[j, _SH_B], cache[j, _SH_DC], cache[j, _SH_DX] = c, dc, dx
                cache[j, _SH_DXA] = dxa
    evals += _price_shifts(
        shift_rows, n_shift, cost, load, options, degree, capacity, plan, used, tabu, ints,
        weight, shifts, cache, expiry, row_pick, row_delta,
    )  # fmt: skip
    evals += _price_swaps(
        swap_rows, n_swap, cost, load, allowed, options, degree, capacity, plan, used,
        members, n_members, tabu, ints, weight, swaps, cache, expiry, row_pick, row_delta,
    )  # fmt: skip
    return evals


@numba.njit(cache=True, nogil=True)
def _adapt_and_record(
    plan: SmallIntArray,
    best: SmallIntArray,
    ints: IntArray,
    floats: FloatArray,
    tuning: FloatArray,
    weight: FloatArray,
    used: IntArray,
    capacity: IntArray,
) -> None:
    # Strategic oscillation: excess load gets dearer while the plan is infeasible and cheaper
    # while it is feasible (one price, or one per branch: see _PER_BRANCH); a feasible plan
    # cheaper than the best becomes the best.
    step, start = tuning[_S_STEP], floats[_ALPHA_START]
    infeasible = ints[_EXCESS] > 0
    if infeasible:
        floats[_ALPHA] = min(floats[_ALPHA] * step, start * _ALPHA_SPAN)
    else:
        floats[_ALPHA] = max(floats[_ALPHA] / step, start / _ALPHA_SPAN)
    mode = int(tuning[_S_WEIGHTS])
    if mode == _GLOBAL:
        weight[:] = floats[_ALPHA]
    else:
        _adapt_weights(mode, infeasible, floats[_ALPHA], start, tuning, weight, used, capacity)
    if infeasible:
        return
    if ints[_COST] < ints[_BEST_COST]:
        ints[_BEST_COST], ints[_LAST_BEST] = ints[_COST], ints[_MOVES]
        best[:] = plan


@numba.njit(cache=True, nogil=True)
def _adapt_weights(
    mode: int,
    infeasible: bool,
    alpha: float,
    start: float,
    tuning: FloatArray,
    weight: FloatArray,
    used: IntArray,
    capacity: IntArray,
) -> None:
    # One weight per branch (_PER_BRANCH or _RELATIVE), after a move.
    n = weight.size
    most = 0
    if infeasible:
        for i in range(n):
            most = max(most, _excess(used[i], capacity[i]))
    span = tuning[_S_SPAN]
    if mode == _PER_BRANCH:
        step, decay = tuning[_S_BSTEP], 1.0 + tuning[_S_DECAY]
        top = 0.0
        for i in range(n):
            if not infeasible:
                weight[i] = max(weight[i] / step, start / _ALPHA_SPAN)
            elif used[i] > capacity[i]:
                share = _excess(used[i], capacity[i]) / most
                weight[i] = min(weight[i] * (1.0 + (step - 1.0) * share), start * _ALPHA_SPAN)
            else:
                weight[i] = max(weight[i] / decay, start / _ALPHA_SPAN)
            top = max(top, weight[i])
        for i in range(n):
            weight[i] = max(weight[i], top / span)
        return
    # _RELATIVE: the weights are alpha (before this move changed it) times factors of mean 1;
    # normalising the changed weights to a mean of 1 gives the changed factors.
    rate, keep = tuning[_S_RATE], 1.0 - tuning[_S_RELAX]
    total = 0.0
    for i in range(n):
        factor = weight[i]
        if infeasible and used[i] > capacity[i]:
            factor *= 1.0 + rate * _excess(used[i], capacity[i]) / most
        weight[i] = factor
        total += factor
    scale = n / total  # the mean of the (unnormalised) factors becomes 1
    total = 0.0
    for i in range(n):
        factor = min(max((weight[i] * scale) ** keep, 1.0 / span), span)
        weight[i] = factor
        total += factor
    scale = n / total
    for i in range(n):
        weight[i] *= scale * alpha
