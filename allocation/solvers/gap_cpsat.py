"""Pair mode with workloads: a generalized assignment problem (GAP) solved with CP-SAT.

Objective, lexicographic (contract §5): (1) assign as many leads as possible, (2) minimise the total
cost of the assigned leads. It is solved in two phases rather than with one weighted objective:

* phase 1 maximises the number of assigned leads. It is skipped when a greedy pass already
  assigns every lead that has a usable pair, and it stops at once when CP-SAT reaches that count,
  which is the usual case (every GAP benchmark instance, any round with spare capacity);
* phase 2 fixes that count and minimises cost, hinted with the best plan found so far.
  When every assignable lead is assigned, it first runs the warm start of ``gap_warm``
  (Lagrangian bound, reduced-cost-guided construction, shift/swap local search and
  reduced-cost fixing of pairs that no cheaper plan can use), then the compiled tabu search
  of ``gap_tabu`` on both cores (its cheaper plan fixes more pairs), then CP-SAT on the
  remaining pairs, hinted with that plan: a full search (plan and proof) beside an LNS, or,
  on models too large for the full search to help within a minute, an LNS on both workers
  with the Lagrangian bound as proof.

A single objective ``sum(cost - W)`` with ``W > sum of all costs`` would also be exact, but its
values are dominated by ``W`` and CP-SAT's bound then says nothing useful about the cost gap;
with two phases, phase 2's proven bound is directly the cost bound the report needs, and when
the count can be fixed to "every assignable lead" each lead gets an exactly-one constraint,
the strongest form for CP-SAT's linear relaxation.

Determinism (contract §5: same input and parameters give the same plan): see ``_parameters``.
``workers`` beyond 2 are not used; ``workers=1`` drops the LNS helper of phase 2.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from ortools.sat.python import cp_model

from allocation.solvers.gap_lagrange import PairArrays
from allocation.solvers.gap_warm import WarmStart, kept_pairs, warm_start

Status = Literal["optimal", "feasible", "infeasible"]

# CP-SAT statuses as plain ints: their Python type changed across OR-Tools releases.
_OPTIMAL = int(cp_model.OPTIMAL)
_FEASIBLE = int(cp_model.FEASIBLE)
_INFEASIBLE = int(cp_model.INFEASIBLE)
_UNKNOWN = int(cp_model.UNKNOWN)
_MODEL_INVALID = int(cp_model.MODEL_INVALID)

# Keep every objective and capacity sum well inside CP-SAT's int64 arithmetic.
_MAX_TOTAL = 2**53

# Phase 1 may use at most this share of the time limit; phase 2 always keeps the rest.
_PHASE1_SHARE = 0.5

# Share of the time limit for the warm start (Lagrangian bound, construction, local search)
# when every lead can be assigned; CP-SAT's deterministic budget shrinks by the same share.
_WARM_SHARE = 0.15

# Share of the time limit for the compiled tabu search (``gap_tabu``) after the warm start, and
# the moves it evaluates per second of that share (per thread). Set below what this machine
# does, so the count, not the clock, ends it and the plan is reproducible: quiet, one thread,
# `bench/gap_tabu_speed.py --seconds 10` measured 19.5M evaluations per CPU second on Yagiura
# d801600 and c801600, 29M on d20400, 37M on Chu-Beasley d10200 (2026-12-07); at 60M the
# large instances ran into the wall-clock cap below and left CP-SAT less time than planned.
# The share, 0.3 at 60M, is 0.45: about the time the cap used to give the search.
# Small models stop far earlier: at most _TABU_EVALS_PER_PAIR evaluations per pair. Models
# too large for CP-SAT's full search (see _FULL_SEARCH_MAX_PAIRS) give it a larger share: there
# the LNS makes one or two steps per second, where the tabu search makes thousands of moves
# (Yagiura c801600: 0.12% above best known after 1e9 evaluations, ~10 s; main's LNS 1.28%).
_TABU_SHARE = 0.45
_TABU_SHARE_LARGE = 0.6
_TABU_EVALS_PER_SECOND = 18e6
_TABU_EVALS_PER_PAIR = 200_000
# The wall-clock cap of the tabu search is this multiple of its share (plus what the warm
# start left unused), so only a machine much slower than calibrated stops it on time.
_TABU_SLACK = 1.5
# The tabu search holds dense lead x branch tables: larger rounds skip it.
_TABU_MAX_CELLS = 2_000_000
# By default the tabu search runs only on models with at least this many pairs after the warm
# start's reduced-cost fixing. On the small ones (gap1-12: at most 600 pairs; Chu-Beasley b:
# at most 1,516 kept, b20200 aside with 3,180) CP-SAT's full search proves the optimum in
# seconds, while the tabu search, whose stop is the Lagrangian bound (below their optimum),
# runs its whole share: the exact sets took 4.5x longer with it always on, all still proven
# (bench/gap_results.md, session 14). From
# 2,000 on are the hard tight instances (Chu-Beasley c/d from 10 x 200 and 20 x 100, every
# Yagiura one), where fixing keeps nearly every pair and the search helped most (c801600 0.69%
# -> 0.12%, Chu-Beasley d10200 0.26% -> 0.17% above best known). A count, not a clock, so the
# decision is the same on any machine.
_TABU_DEFAULT_MIN_PAIRS = 2_000

# Deterministic-time units granted per second of wall-clock limit. A single-worker search ran
# 0.57-0.65 units per second on this 2-core machine with the other core busy, so 0.5 lets the
# deterministic budget, not the wall clock, end the search. Under heavier load (load average
# above 3, measured down to 0.27 units/s) the wall cap binds first (see ``_parameters``).
_DETERMINISTIC_UNITS_PER_SECOND = 0.8

# Deterministic-time budget of one LNS step, and how many of a lead's cheapest other branches
# count when picking the branches that can trade leads with the first one.
_LNS_STEP_UNITS = 0.25
_LNS_ALTERNATIVES = 3
# Above this many pairs (after reduced-cost fixing) the full search rarely improves the plan or
# its bound within a minute: both workers then run LNS (``_parallel_lns``) in this many rounds.
_FULL_SEARCH_MAX_PAIRS = 20_000
_LNS_ROUNDS = 8
# Leads freed by the first lead-based LNS step (the count then adapts).
_LNS_FIRST_LEADS = 24


@dataclass(frozen=True)
class GapResult:
    """Outcome of ``solve_gap``.

    ``bound`` is a proven lower bound on the total cost among plans that assign the maximum
    number of leads (equal to ``objective`` when ``status == "optimal"``).
    """

    assignment: list[int]
    objective: int
    bound: float
    status: Status
    solve_seconds: float


@dataclass(frozen=True)
class _Data:
    """Validated input: usable pairs in canonical (lead, branch) order, indexed both ways."""

    n_leads: int
    capacities: tuple[int, ...]
    pairs: tuple[tuple[int, int, int, int], ...]
    by_lead: tuple[tuple[int, ...], ...]
    by_branch: tuple[tuple[int, ...], ...]

    @property
    def n_assignable(self) -> int:
        return sum(1 for options in self.by_lead if options)


@dataclass(frozen=True)
class _Phase:
    """What one CP-SAT solve produced: raw status, plan (if any) and the proven bound."""

    raw_status: int
    assignment: list[int] | None
    bound: float | None
    value: float | None = None
    deterministic_time: float = 0.0


def solve_gap(
    *,
    n_leads: int,
    capacities: Sequence[int],
    pairs: Sequence[tuple[int, int, int, int]],
    time_limit_s: float,
    workers: int = 2,
    seed: int = 0,
    tabu_search: bool | None = None,
) -> GapResult:
    """Assign leads to branches: as many as possible, then at minimum total cost.

    ``pairs`` are ``(lead, branch, cost, workload)`` with ``cost >= 0`` and ``workload >= 1``;
    a branch's assigned workload never exceeds its capacity; leads without a pair stay
    unassigned (-1). ``time_limit_s`` covers both phases.

    ``tabu_search`` runs the compiled tabu search (``gap_tabu``) between the warm start and
    CP-SAT (True), never (False), or by default (None) on models of at least
    ``_TABU_DEFAULT_MIN_PAIRS`` pairs after fixing (see ``_tabu_wanted``).
    """
    started = time.perf_counter()
    _check_arguments(n_leads=n_leads, time_limit_s=time_limit_s, workers=workers)
    data = _prepare(n_leads=n_leads, capacities=capacities, pairs=pairs)
    deadline = started + time_limit_s
    # Deterministic-time budget of the whole solve, derived from the limit alone (never from
    # elapsed wall time, which would make the stopping point depend on machine load).
    budget = time_limit_s * _DETERMINISTIC_UNITS_PER_SECOND
    plan = _greedy(data)
    count_proven = _count(plan) == data.n_assignable
    if not count_proven:
        phase1 = _search(
            data,
            _count_model(data),
            hint=plan,
            limits=(_PHASE1_SHARE * _remaining(deadline), _PHASE1_SHARE * budget),
            seed=seed,
        )
        if phase1.raw_status == _INFEASIBLE:
            return _finish(data, [-1] * n_leads, bound=0.0, status="infeasible", started=started)
        if phase1.assignment is not None and _count(phase1.assignment) >= _count(plan):
            plan = phase1.assignment
        count_proven = phase1.raw_status == _OPTIMAL
        budget -= phase1.deterministic_time
    search_data, warm_bound = data, 0.0
    if count_proven and _count(plan) == data.n_assignable and data.pairs:
        warm = warm_start(
            n_leads=data.n_leads,
            capacities=data.capacities,
            pairs=data.pairs,
            plan=plan,
            deadline=started + _WARM_SHARE * time_limit_s,
        )
        warm_bound = warm.bound
        wanted = _tabu_wanted(len(warm.kept), tabu_search)
        tabu_seconds = _tabu_seconds(len(warm.kept), time_limit_s) if wanted else 0.0
        plan, kept = _tabu_phase(
            data,
            warm,
            evaluations=int(tabu_seconds * _TABU_EVALS_PER_SECOND),
            deadline=started
            + min(_WARM_SHARE * time_limit_s + _TABU_SLACK * tabu_seconds, 0.9 * time_limit_s),
            seed=seed,
        )
        budget *= 1 - _WARM_SHARE - tabu_seconds / time_limit_s
        if _plan_cost(data, plan) <= warm_bound:
            # The plan reaches the Lagrangian bound: optimal, nothing left for CP-SAT to do.
            return _finish(data, plan, bound=warm_bound, status="optimal", started=started)
        search_data = _subset(data, kept)
    phase2 = _minimise_cost(
        search_data,
        plan=plan,
        count_proven=count_proven,
        limits=(_remaining(deadline), budget),
        workers=workers,
        seed=seed,
    )
    if phase2.assignment is not None and _plan_cost(data, phase2.assignment) <= _plan_cost(
        data, plan
    ):
        plan = phase2.assignment
    optimal = count_proven and phase2.raw_status == _OPTIMAL
    bound = max(phase2.bound if phase2.bound is not None else 0.0, warm_bound)
    return _finish(
        data, plan, bound=bound, status="optimal" if optimal else "feasible", started=started
    )


# --- data ---------------------------------------------------------------------------------


def _check_arguments(*, n_leads: int, time_limit_s: float, workers: int) -> None:
    # Fail loudly on arguments CP-SAT would silently reinterpret (0 workers = "all cores").
    if n_leads < 0:
        raise ValueError(f"n_leads must be >= 0, got {n_leads}")
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")


def _prepare(
    *, n_leads: int, capacities: Sequence[int], pairs: Sequence[tuple[int, int, int, int]]
) -> _Data:
    # Sort pairs so the model, and hence the plan, does not depend on the input row order.
    caps = tuple(int(c) for c in capacities)
    if any(c < 0 for c in caps):
        raise ValueError("capacities must be >= 0")
    checked = sorted(_check_pair(p, n_leads=n_leads, n_branches=len(caps)) for p in pairs)
    _reject_duplicates(checked)
    if sum(p[2] for p in checked) > _MAX_TOTAL or sum(p[3] for p in checked) > _MAX_TOTAL:
        raise ValueError("costs or workloads too large for exact integer arithmetic")
    # A pair whose workload exceeds its branch's whole capacity can never be chosen.
    usable = tuple(p for p in checked if p[3] <= caps[p[1]])
    by_lead: list[list[int]] = [[] for _ in range(n_leads)]
    by_branch: list[list[int]] = [[] for _ in caps]
    for index, (lead, branch, _cost, _load) in enumerate(usable):
        by_lead[lead].append(index)
        by_branch[branch].append(index)
    return _Data(
        n_leads=n_leads,
        capacities=caps,
        pairs=usable,
        by_lead=tuple(tuple(v) for v in by_lead),
        by_branch=tuple(tuple(v) for v in by_branch),
    )


def _check_pair(
    pair: tuple[int, int, int, int], *, n_leads: int, n_branches: int
) -> tuple[int, int, int, int]:
    # Each field is range-checked here so the model code can trust its input.
    lead, branch, cost, load = (int(v) for v in pair)
    if not 0 <= lead < n_leads:
        raise ValueError(f"pair {pair}: lead index out of range [0, {n_leads})")
    if not 0 <= branch < n_branches:
        raise ValueError(f"pair {pair}: branch index out of range [0, {n_branches})")
    if cost < 0:
        raise ValueError(f"pair {pair}: cost must be >= 0")
    if load < 1:
        raise ValueError(f"pair {pair}: workload must be >= 1")
    return lead, branch, cost, load


def _reject_duplicates(sorted_pairs: list[tuple[int, int, int, int]]) -> None:
    # Two rows for one (lead, branch) would be ambiguous; the caller must pick one.
    for before, after in itertools.pairwise(sorted_pairs):
        if before[:2] == after[:2]:
            raise ValueError(f"duplicate pair for lead {after[0]}, branch {after[1]}")


def _subset(data: _Data, kept: Sequence[int]) -> _Data:
    # The same problem restricted to the pairs at `kept` (indices in canonical order).
    pairs = tuple(data.pairs[p] for p in kept)
    by_lead: list[list[int]] = [[] for _ in range(data.n_leads)]
    by_branch: list[list[int]] = [[] for _ in data.capacities]
    for index, (lead, branch, _cost, _load) in enumerate(pairs):
        by_lead[lead].append(index)
        by_branch[branch].append(index)
    return _Data(
        n_leads=data.n_leads,
        capacities=data.capacities,
        pairs=pairs,
        by_lead=tuple(tuple(v) for v in by_lead),
        by_branch=tuple(tuple(v) for v in by_branch),
    )


def _greedy(data: _Data) -> list[int]:
    # First-fit plans under three preferences, keeping the one assigning most leads, then the
    # cheapest: a hint for CP-SAT, and a plan of last resort. Cheapest-first alone fails on
    # tight instances (786 of 900 jobs on Yagiura c30900) where the workload-aware orders,
    # hardest leads first, assign them all at once and let phase 1 be skipped.
    def share(p: int) -> float:
        return data.pairs[p][3] / data.capacities[data.pairs[p][1]]

    def hardness(lead: int) -> tuple[float, int]:
        return (-min((share(p) for p in data.by_lead[lead]), default=0.0), lead)

    def fewest_options(lead: int) -> tuple[int, int]:
        return (len(data.by_lead[lead]), lead)

    plans = [
        _first_fit(data, lead_key=fewest_options, pair_key=lambda p: (data.pairs[p][2], p)),
        _first_fit(data, lead_key=hardness, pair_key=lambda p: (data.pairs[p][2] * share(p), p)),
        _first_fit(data, lead_key=hardness, pair_key=lambda p: (share(p), p)),
    ]
    return min(plans, key=lambda plan: (-_count(plan), _plan_cost(data, plan)))


def _first_fit(
    data: _Data,
    *,
    lead_key: Callable[[int], tuple[float, int]],
    pair_key: Callable[[int], tuple[float, int]],
) -> list[int]:
    # Leads in `lead_key` order each take the first branch with room in `pair_key` order.
    room = list(data.capacities)
    plan = [-1] * data.n_leads
    for lead in sorted(range(data.n_leads), key=lead_key):
        for p in sorted(data.by_lead[lead], key=pair_key):
            _lead, branch, _cost, load = data.pairs[p]
            if load <= room[branch]:
                room[branch] -= load
                plan[lead] = branch
                break
    return plan


def _tabu_wanted(n_kept: int, tabu_search: bool | None) -> bool:
    # The caller's choice, else the model's size after fixing (never elapsed time).
    if tabu_search is not None:
        return tabu_search
    return n_kept >= _TABU_DEFAULT_MIN_PAIRS


def _tabu_seconds(n_pairs: int, time_limit_s: float) -> float:
    # The tabu search's share of the limit, from the model's size alone (never from elapsed
    # time), so CP-SAT's deterministic budget that follows is reproducible too.
    share = _TABU_SHARE_LARGE if n_pairs > _FULL_SEARCH_MAX_PAIRS else _TABU_SHARE
    return min(share * time_limit_s, n_pairs * _TABU_EVALS_PER_PAIR / _TABU_EVALS_PER_SECOND)


def _tabu_phase(
    data: _Data, warm: WarmStart, *, evaluations: int, deadline: float, seed: int
) -> tuple[list[int], list[int]]:
    """Improve the warm start's plan with the compiled tabu search; re-fix pairs against it.

    Returns the plan and the pairs (indices into ``data.pairs``) CP-SAT keeps. Searches only
    the pairs the warm start kept (no cheaper plan uses the others); a cheaper plan lets
    reduced-cost fixing remove more of them. It stops on ``evaluations`` evaluated moves per
    thread, so it is reproducible; ``deadline`` only caps it on a slow or busy machine.
    """
    n_branches = len(data.capacities)
    too_large = data.n_leads * n_branches > _TABU_MAX_CELLS
    if evaluations <= 0 or warm.cost <= warm.bound or too_large:
        return warm.plan, warm.kept
    # Imported here: numba (~0.5 s) and loading the compiled search count in this solve's time
    # limit, and rounds that never reach this point do not pay for them.
    from allocation.solvers import gap_tabu

    problem = gap_tabu.Problem.build(
        data.n_leads, data.capacities, [data.pairs[p] for p in warm.kept]
    )
    found = gap_tabu.search_pair(
        problem,
        warm.plan,
        evaluations=evaluations,
        seed=seed,
        alpha=_first_penalty(warm),
        lower_bound=warm.bound,
        deadline=deadline,
    )
    if found.cost >= warm.cost:
        return warm.plan, warm.kept
    arrays = PairArrays.build(data.pairs, data.capacities)
    return found.plan, kept_pairs(data.pairs, arrays, warm.relaxation, found.plan)


def _first_penalty(warm: WarmStart) -> float:
    # The Lagrangian multipliers price a unit of each branch's capacity: their mean over the
    # binding branches is the right scale for the first penalty on excess load (it adapts).
    prices = warm.relaxation.multipliers
    binding = prices[prices > 0]
    return float(binding.mean()) if binding.size else 1.0


# --- variables and constraints ------------------------------------------------------------


def _base_model(data: _Data) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    # One Boolean per usable pair: "this lead goes to this branch".
    model = cp_model.CpModel()
    chosen = [model.new_bool_var("") for _ in data.pairs]
    # A branch's assigned workload never exceeds its capacity (skipped when it cannot bind).
    for branch, indices in enumerate(data.by_branch):
        loads = [data.pairs[p][3] for p in indices]
        if sum(loads) > data.capacities[branch]:
            expr = cp_model.LinearExpr.weighted_sum([chosen[p] for p in indices], loads)
            model.add(expr <= data.capacities[branch])
    return model, chosen


def _count_model(data: _Data) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    # Phase 1: each lead at most once; maximise the number of assigned leads.
    model, chosen = _base_model(data)
    for indices in data.by_lead:
        if len(indices) > 1:
            model.add_at_most_one(chosen[p] for p in indices)
    model.maximize(cp_model.LinearExpr.sum(chosen))
    return model, chosen


def _cost_model(
    data: _Data, *, count: int, count_is_max: bool
) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    # Phase 2: keep the phase-1 count, minimise total cost.
    model, chosen = _base_model(data)
    if count_is_max and count == data.n_assignable:
        # Every lead that can be assigned is: the strongest (exactly-one) form.
        for indices in data.by_lead:
            if indices:
                model.add_exactly_one(chosen[p] for p in indices)
    else:
        for indices in data.by_lead:
            if len(indices) > 1:
                model.add_at_most_one(chosen[p] for p in indices)
        # ">= count" keeps the bound valid even when the count was not proven maximal: the
        # cheapest plan among those assigning at least `count` leads costs no more than the
        # cheapest among those assigning the (unknown, larger or equal) maximum.
        total = cp_model.LinearExpr.sum(chosen)
        if count_is_max:
            model.add(total == count)
        else:
            model.add(total >= count)
    costs = [p[2] for p in data.pairs]
    model.minimize(cp_model.LinearExpr.weighted_sum(chosen, costs))
    return model, chosen


# --- solve and extract --------------------------------------------------------------------


def _parameters(solver: cp_model.CpSolver, *, limits: tuple[float, float], seed: int) -> None:
    """Settings of every CP-SAT call; the determinism decision lives here.

    contract §5 promises the same plan for the same input. Measured on this shared 2-core machine
    (20 s per run): CP-SAT's default multi-worker portfolio races its workers, so equal inputs
    can give different plans (it is, however, the strongest: Chu-Beasley d20100 6279 vs 6322
    for our deterministic setup, Yagiura d20400 24747 vs 24783 in 30 s). ``interleave_search``,
    documented as deterministic, was the weakest: 0.8% above the optimum on Yagiura e10200 and
    unable to assign all 400 jobs of c20400 within phase 1. So every call is a single-worker
    search, deterministic by construction, and a second core runs an equally deterministic
    LNS beside it (``_minimise_cost``). Each call stops on a deterministic-time budget, so
    where it stops does not depend on machine load; ``max_time_in_seconds`` stays as a hard
    cap to honour the caller's limit. Only when that cap binds first (a machine slower or
    busier than the calibration of ``_DETERMINISTIC_UNITS_PER_SECOND``) can two runs differ.
    """
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    wall_seconds, deterministic_units = limits
    solver.parameters.max_time_in_seconds = max(wall_seconds, 0.001)
    solver.parameters.max_deterministic_time = max(deterministic_units, 0.001)
    solver.parameters.log_search_progress = False


def _minimise_cost(
    data: _Data,
    *,
    plan: list[int],
    count_proven: bool,
    limits: tuple[float, float],
    workers: int,
    seed: int,
) -> _Phase:
    """Phase 2. One worker searches the full model, which proves the bound; a second worker
    runs a large-neighbourhood search (LNS) that only improves the plan.

    Single-worker CP-SAT has no LNS of its own and, measured here on Chu-Beasley d20100,
    ended 1.9% above the optimum after 20 s. Both searches are deterministic; the LNS is
    stopped early only once the full search has proven optimality, and then the full search's
    plan is the answer, so stopping it early never changes the result. More than two workers
    are not used.
    """
    if workers > 1 and count_proven and len(data.pairs) > _FULL_SEARCH_MAX_PAIRS:
        plan, solved_whole = _parallel_lns(data, plan, limits=limits, seed=seed)
        if solved_whole:
            cost = float(_plan_cost(data, plan))
            return _Phase(_OPTIMAL, plan, bound=cost, value=cost)
        return _Phase(_FEASIBLE, plan, None)
    model_and_vars = _cost_model(data, count=_count(plan), count_is_max=count_proven)
    if workers == 1:
        return _search(data, model_and_vars, hint=plan, limits=limits, seed=seed)
    proven = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        full = pool.submit(
            _search, data, model_and_vars, hint=plan, limits=limits, seed=seed, done=proven
        )
        local = pool.submit(_lns, data, plan, limits=limits, seed=seed, stop=proven)
        return _merge(data, full.result(), local.result())


def _parallel_lns(
    data: _Data, plan: list[int], *, limits: tuple[float, float], seed: int
) -> tuple[list[int], bool]:
    """Two LNS searches with different seeds, restarted from the better plan every round.

    Used on models too large for the full search to prove or improve anything in the time
    limit (the warm start's Lagrangian bound stands in for its bound). Each round is
    deterministic and the merge keeps the cheaper plan (the first on ties), so the whole
    search is deterministic too.
    """
    wall_seconds, units = limits
    deadline = time.perf_counter() + wall_seconds
    never, whole_solved = threading.Event(), threading.Event()
    for round_index in range(_LNS_ROUNDS):
        step = (_remaining(deadline), units / _LNS_ROUNDS)
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = [
                pool.submit(
                    _lns,
                    data,
                    plan,
                    limits=step,
                    seed=seed * 997 + 2 * round_index + k,
                    stop=never,
                    whole_solved=whole_solved,
                )
                for k in (0, 1)
            ]
            plans = [run.result() for run in runs]
        plan = min(plans, key=lambda p: _plan_cost(data, p))
        if whole_solved.is_set():
            return plan, True  # one LNS step solved the whole problem exactly
        if _remaining(deadline) <= 0:
            break
    return plan, False


def _merge(data: _Data, full: _Phase, local_plan: list[int]) -> _Phase:
    # Keep the full search's plan unless the LNS plan is strictly cheaper; a plan whose cost
    # reaches the proven bound is optimal whichever search found it.
    local_cost = float(_plan_cost(data, local_plan))
    if full.raw_status == _OPTIMAL or (full.value is not None and full.value <= local_cost):
        return full
    proven = full.bound is not None and local_cost <= full.bound
    return _Phase(
        raw_status=_OPTIMAL if proven else _FEASIBLE,
        assignment=local_plan,
        bound=full.bound,
        value=local_cost,
        deterministic_time=full.deterministic_time,
    )


def _search(
    data: _Data,
    model_and_vars: tuple[cp_model.CpModel, list[cp_model.IntVar]],
    *,
    hint: list[int],
    limits: tuple[float, float],
    seed: int,
    done: threading.Event | None = None,
) -> _Phase:
    # Hint the previous plan so the search starts from it instead of from scratch.
    model, chosen = model_and_vars
    for p, (lead, branch, _cost, _load) in enumerate(data.pairs):
        model.add_hint(chosen[p], hint[lead] == branch)
    solver = cp_model.CpSolver()
    _parameters(solver, limits=limits, seed=seed)
    raw_status = int(solver.solve(model))
    if raw_status == _MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the GAP model: {model.validate()}")
    if done is not None and raw_status == _OPTIMAL:
        done.set()
    spent = float(solver.deterministic_time)
    if raw_status not in (_OPTIMAL, _FEASIBLE):
        return _Phase(raw_status, None, None, None, spent)
    return _Phase(
        raw_status=raw_status,
        assignment=_extract(data, solver, chosen),
        bound=float(solver.best_objective_bound),
        value=float(solver.objective_value),
        deterministic_time=spent,
    )


# --- large-neighbourhood search -------------------------------------------------------------


def _lns(
    data: _Data,
    plan: list[int],
    *,
    limits: tuple[float, float],
    seed: int,
    stop: threading.Event,
    whole_solved: threading.Event | None = None,
) -> list[int]:
    """Re-optimise a part of the plan at a time, everything else fixed.

    Steps alternate between two neighbourhoods: the leads of a few branches, moved among those
    branches (trades between neighbours), and a random set of leads moved anywhere within the
    room the other leads leave (chains across many branches, which tight instances need).
    Deterministic: choices come from a seeded generator and each step stops on a
    deterministic-time budget whose sum is capped by the phase budget. Each neighbourhood
    grows while its steps are solved to optimality and shrinks when they run out of budget.
    """
    wall_seconds, units = limits
    deadline = time.perf_counter() + wall_seconds
    rng = random.Random(seed)
    plan = list(plan)
    n_branches, n_leads = len(data.capacities), _count(plan)
    size, lead_size, spent, step_index = 2, _LNS_FIRST_LEADS, 0.0, 0
    while data.pairs and spent < units and not stop.is_set() and _remaining(deadline) > 0:
        step = (_remaining(deadline), min(_LNS_STEP_UNITS, units - spent))
        step_index += 1
        if step_index % 2 or n_branches < 3:
            branches = _neighbourhood(data, plan, rng=rng, size=size)
            inside = set(branches)
            leads = [lead for lead, branch in enumerate(plan) if branch in inside]
            plan, solved, used = _reoptimise(data, plan, leads, inside, limits=step, seed=seed)
            if solved and len(branches) == n_branches:
                if whole_solved is not None:
                    whole_solved.set()
                break  # the neighbourhood was the whole problem, now solved exactly
            size = min(size + 1, n_branches) if solved else max(size - 1, 2)
        else:
            leads = _lead_neighbourhood(data, plan, rng=rng, size=lead_size)
            plan, solved, used = _reoptimise(data, plan, leads, None, limits=step, seed=seed)
            grown = min(int(lead_size * 1.25) + 1, n_leads)
            lead_size = grown if solved else max(int(lead_size * 0.8), _LNS_FIRST_LEADS // 2)
        spent += used
    return plan


def _lead_neighbourhood(
    data: _Data, plan: list[int], *, rng: random.Random, size: int
) -> list[int]:
    # Half of the leads (when there are that many) from those not on their first listed
    # branch (after the warm start: not where the Lagrangian relaxation puts them), the rest
    # at random.
    assigned = [lead for lead, branch in enumerate(plan) if branch >= 0]
    size = min(size, len(assigned))
    off_first = [lead for lead in assigned if data.pairs[data.by_lead[lead][0]][1] != plan[lead]]
    picked = set(rng.sample(off_first, min(size // 2, len(off_first))))
    rest = [lead for lead in assigned if lead not in picked]
    picked.update(rng.sample(rest, size - len(picked)))
    return sorted(picked)


def _neighbourhood(data: _Data, plan: list[int], *, rng: random.Random, size: int) -> list[int]:
    # A random branch plus, half of the time, the branches its leads could move to most
    # cheaply (they are the ones that can trade leads with it), else random other branches.
    n_branches = len(data.capacities)
    first = rng.randrange(n_branches)
    others = [b for b in range(n_branches) if b != first]
    rng.shuffle(others)
    if rng.random() < 0.5:
        score = dict.fromkeys(others, 0)
        for lead in (lead for lead, branch in enumerate(plan) if branch == first):
            moves = sorted(
                (data.pairs[p][2], data.pairs[p][1])
                for p in data.by_lead[lead]
                if data.pairs[p][1] != first
            )
            for _cost, branch in moves[:_LNS_ALTERNATIVES]:
                score[branch] += 1
        others.sort(key=lambda b: -score[b])  # stable: ties keep the shuffled order
    return sorted([first, *others[: size - 1]])


def _reoptimise(
    data: _Data,
    plan: list[int],
    leads: list[int],
    branches: set[int] | None,
    *,
    limits: tuple[float, float],
    seed: int,
) -> tuple[list[int], bool, float]:
    # Free `leads` and reassign each (to one of `branches`, or anywhere when None) at least
    # cost, within the room the other leads leave.
    moving = set(leads)
    room = list(data.capacities)
    for lead, branch in enumerate(plan):
        if branch >= 0 and lead not in moving:
            room[branch] -= _load_of(data, lead, branch)
    free = [
        p
        for lead in leads
        for p in data.by_lead[lead]
        if (branches is None or data.pairs[p][1] in branches)
        and data.pairs[p][3] <= room[data.pairs[p][1]]
    ]
    model = cp_model.CpModel()
    chosen = {p: model.new_bool_var("") for p in free}
    for lead in leads:
        model.add_exactly_one(chosen[p] for p in data.by_lead[lead] if p in chosen)
    by_branch: dict[int, list[int]] = {}
    for p in free:
        by_branch.setdefault(data.pairs[p][1], []).append(p)
    for branch, mine in by_branch.items():
        loads = [data.pairs[p][3] for p in mine]
        if sum(loads) > room[branch]:
            model.add(
                cp_model.LinearExpr.weighted_sum([chosen[p] for p in mine], loads) <= room[branch]
            )
    model.minimize(
        cp_model.LinearExpr.weighted_sum(
            [chosen[p] for p in free], [data.pairs[p][2] for p in free]
        )
    )
    for p in free:
        model.add_hint(chosen[p], plan[data.pairs[p][0]] == data.pairs[p][1])
    solver = cp_model.CpSolver()
    _parameters(solver, limits=limits, seed=seed)
    raw_status = int(solver.solve(model))
    spent = float(solver.deterministic_time)
    if raw_status not in (_OPTIMAL, _FEASIBLE):
        return plan, False, spent
    before = sum(data.pairs[p][2] for p in free if plan[data.pairs[p][0]] == data.pairs[p][1])
    if solver.objective_value < before:
        plan = list(plan)
        for p in free:
            if solver.boolean_value(chosen[p]):
                plan[data.pairs[p][0]] = data.pairs[p][1]
    return plan, raw_status == _OPTIMAL, spent


def _load_of(data: _Data, lead: int, branch: int) -> int:
    for p in data.by_lead[lead]:
        if data.pairs[p][1] == branch:
            return data.pairs[p][3]
    raise ValueError(f"lead {lead} has no pair with branch {branch}")


def _extract(data: _Data, solver: cp_model.CpSolver, chosen: list[cp_model.IntVar]) -> list[int]:
    # Read back the branch of every lead whose pair variable is true.
    plan = [-1] * data.n_leads
    for p, (lead, branch, _cost, _load) in enumerate(data.pairs):
        if solver.boolean_value(chosen[p]):
            plan[lead] = branch
    return plan


def _finish(
    data: _Data, plan: list[int], *, bound: float, status: Status, started: float
) -> GapResult:
    # Recompute the objective from the plan itself rather than trusting the solver's number.
    objective = _plan_cost(data, plan)
    return GapResult(
        assignment=plan,
        objective=objective,
        bound=min(bound, float(objective)),
        status=status,
        solve_seconds=time.perf_counter() - started,
    )


def _plan_cost(data: _Data, plan: list[int]) -> int:
    return sum(c for lead, branch, c, _load in data.pairs if plan[lead] == branch)


def _count(plan: list[int]) -> int:
    return sum(1 for branch in plan if branch >= 0)


def _remaining(deadline: float) -> float:
    return max(deadline - time.perf_counter(), 0.0)
