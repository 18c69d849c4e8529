"""Warm start for the GAP's cost phase: Lagrangian bound, a good first plan, fewer pairs.

Used when every assignable lead is assigned (the count phase proved it), which is the case
the Lagrangian relaxation of ``gap_lagrange`` is valid for. It returns:

* a proven lower bound on the cost, valid for the whole problem;
* a plan at least as cheap as the one given: a reduced-cost-guided construction and the
  given plan, each polished by shift/swap local search (``gap_local``), the cheaper kept;
* the pairs that may still appear in a cheaper plan: reduced-cost fixing removes a pair
  when ``L(u) + reduced >= plan cost`` (no plan using it can be cheaper), which shrinks the
  CP-SAT model without weakening its proof. The plan's own pairs are always kept, so CP-SAT's
  bound on the smaller model is also a bound on the whole one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocation.solvers.gap_lagrange import PairArrays, Relaxation, relax
from allocation.solvers.gap_local import Option, construct, improve

Pair = tuple[int, int, int, int]


@dataclass(frozen=True)
class WarmStart:
    plan: list[int]
    cost: int
    bound: float
    kept: list[int]  # indices into the given pairs, by lead, best reduced cost first
    relaxation: Relaxation


def warm_start(
    *,
    n_leads: int,
    capacities: Sequence[int],
    pairs: Sequence[Pair],
    plan: list[int],
    deadline: float,
) -> WarmStart:
    """``pairs`` sorted by lead; ``plan`` assigns every lead that has a pair, within capacity."""
    arrays = PairArrays.build(pairs, capacities)
    relaxation = relax(arrays, upper_bound=_cost(pairs, plan))
    options = _ranked_options(n_leads, pairs, relaxation)
    candidates = [plan]
    built = construct(capacities, options, order=_by_regret(options, pairs, relaxation))
    if built is not None:
        candidates.append(built)
    polished = [improve(c, capacities, options, deadline=deadline) for c in candidates]
    best = min(polished, key=lambda p: _cost(pairs, p))  # first wins ties: deterministic
    cost = _cost(pairs, best)
    return WarmStart(
        plan=best,
        cost=cost,
        bound=min(relaxation.bound, cost),
        kept=kept_pairs(pairs, arrays, relaxation, best),
        relaxation=relaxation,
    )


def kept_pairs(
    pairs: Sequence[Pair], arrays: PairArrays, relaxation: Relaxation, plan: list[int]
) -> list[int]:
    """Pairs that a plan cheaper than ``plan`` may use, plus ``plan``'s own (see module doc).

    Lead by lead, best reduced cost first: a lead's first pair is where the relaxation would
    put it (the LNS targets leads placed elsewhere, the tabu search tries these first).
    """
    prunable = relaxation.prunable(_cost(pairs, plan))
    in_plan = np.asarray([plan[lead] == branch for lead, branch, _c, _w in pairs], dtype=bool)
    keep = ~prunable | in_plan
    kept = np.lexsort((np.arange(len(pairs)), relaxation.reduced, arrays.lead))
    result: list[int] = kept[keep[kept]].tolist()
    return result


def _ranked_options(
    n_leads: int, pairs: Sequence[Pair], relaxation: Relaxation
) -> list[list[Option]]:
    # Each lead's options, best reduced cost first (ties: cheaper, then lower branch index).
    options: list[list[tuple[float, int, int, int]]] = [[] for _ in range(n_leads)]
    for (lead, branch, cost, load), reduced in zip(pairs, relaxation.reduced.tolist(), strict=True):
        options[lead].append((reduced, cost, branch, load))
    return [[(b, c, w) for _r, c, b, w in sorted(lead_options)] for lead_options in options]


def _by_regret(
    options: Sequence[Sequence[Option]], pairs: Sequence[Pair], relaxation: Relaxation
) -> list[int]:
    # Leads whose second choice is much worse than their first go first (they lose most if
    # their first choice fills up); one option = infinite regret.
    reduced = {
        (lead, branch): r
        for (lead, branch, _c, _w), r in zip(pairs, relaxation.reduced.tolist(), strict=True)
    }

    def regret(lead: int) -> tuple[float, int]:
        ranked = [reduced[(lead, b)] for b, _c, _w in options[lead][:2]]
        gap = ranked[1] - ranked[0] if len(ranked) == 2 else float("inf")
        return (-gap, lead)

    return sorted((lead for lead in range(len(options)) if options[lead]), key=regret)


def _cost(pairs: Sequence[Pair], plan: list[int]) -> int:
    return sum(cost for lead, branch, cost, _load in pairs if plan[lead] == branch)
