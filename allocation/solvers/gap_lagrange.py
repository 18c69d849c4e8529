"""Lagrangian relaxation of the GAP's capacities: a proven cost bound and reduced costs.

With a multiplier ``u[b] >= 0`` per branch, every plan that assigns each lead exactly once and
respects capacities costs at least

    L(u) = sum over leads of min over its pairs (cost + u[branch] * load) - sum_b u[b] * cap[b]

because the added term ``sum_b u[b] * (load_b - cap_b)`` is <= 0 for such a plan. The bound is
exactly as strong as the LP relaxation and costs one pass over the pairs per iteration, so it
stays cheap where CP-SAT cannot finish its root LP in the time limit (1600 x 80 instances).

``reduced[p] = cost + u * load - (lead's minimum)`` is what taking pair ``p`` adds to ``L(u)``,
so a plan using ``p`` costs at least ``L(u) + reduced[p]``: that fixes pairs out of any plan
cheaper than a known one (``prunable``) and ranks a lead's options for the heuristics.

Everything here is deterministic (fixed iteration count, no randomness).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Subgradient schedule: Polyak steps towards the best known plan's cost, with the step factor
# halved when the bound has not improved for a while.
_ITERATIONS = 600
_STALL_ITERATIONS = 20
_MIN_FACTOR = 1e-4


@dataclass(frozen=True)
class PairArrays:
    """Pairs as arrays, sorted by lead; ``starts`` opens each lead's run (leads with pairs)."""

    lead: IntArray
    branch: IntArray
    cost: FloatArray
    load: FloatArray
    capacity: FloatArray
    starts: IntArray

    @classmethod
    def build(
        cls, pairs: Sequence[tuple[int, int, int, int]], capacities: Sequence[int]
    ) -> PairArrays:
        table = np.asarray(pairs, dtype=np.int64).reshape(-1, 4)
        lead = table[:, 0]
        if lead.size and np.any(np.diff(lead) < 0):
            raise ValueError("pairs must be sorted by lead")
        starts = np.flatnonzero(np.r_[True, np.diff(lead) != 0]) if lead.size else lead
        return cls(
            lead=lead,
            branch=table[:, 1],
            cost=table[:, 2].astype(np.float64),
            load=table[:, 3].astype(np.float64),
            capacity=np.asarray(capacities, dtype=np.float64),
            starts=starts.astype(np.int64),
        )


@dataclass(frozen=True)
class Relaxation:
    """Best multipliers found, the proven bound they give, and the pairs' reduced costs."""

    bound: float
    value: float
    multipliers: FloatArray
    reduced: FloatArray

    def prunable(self, upper_bound: int) -> NDArray[np.bool_]:
        """Pairs that no plan cheaper than ``upper_bound`` (integer costs) can use."""
        slack = _float_slack(upper_bound)
        return self.value + self.reduced - slack > upper_bound - 1


def relax(arrays: PairArrays, *, upper_bound: float, iterations: int = _ITERATIONS) -> Relaxation:
    """Subgradient ascent on ``L(u)``; every lead in ``arrays`` must be assigned exactly once.

    ``upper_bound`` (a known plan's cost) sets the step length; it does not affect validity.
    """
    u = np.zeros(arrays.capacity.size)
    best_value, best_u = -math.inf, u
    factor, stall = 2.0, 0
    for _ in range(iterations):
        value, chosen = _evaluate(arrays, u)
        if value > best_value + 1e-9:
            best_value, best_u, stall = value, u, 0
        else:
            stall += 1
            if stall >= _STALL_ITERATIONS:
                factor, stall = factor / 2, 0
        used = np.bincount(arrays.branch[chosen], arrays.load[chosen], arrays.capacity.size)
        direction = used - arrays.capacity
        # Multipliers already at zero on a branch with room would only go negative: ignore them.
        direction[(u <= 0) & (direction < 0)] = 0.0
        norm = float(direction @ direction)
        if norm == 0.0 or factor < _MIN_FACTOR or upper_bound - value <= 1e-9:
            break  # the relaxed plan fits every capacity or the bound met the known plan
        u = np.maximum(u + factor * (upper_bound - value) / norm * direction, 0.0)
    value, _chosen = _evaluate(arrays, best_u)
    return Relaxation(
        bound=_honest_bound(value),
        value=value,
        multipliers=best_u,
        reduced=_reduced(arrays, best_u),
    )


def _evaluate(arrays: PairArrays, u: FloatArray) -> tuple[float, IntArray]:
    # L(u) and, per lead, the index of a pair reaching its minimum (the first one on ties).
    priced = arrays.cost + u[arrays.branch] * arrays.load
    if not priced.size:
        return -float(u @ arrays.capacity), np.zeros(0, np.int64)
    minimum = np.minimum.reduceat(priced, arrays.starts)
    group = np.repeat(np.arange(arrays.starts.size), np.diff(np.r_[arrays.starts, priced.size]))
    at_min = np.flatnonzero(priced <= minimum[group])
    _groups, first = np.unique(group[at_min], return_index=True)
    return float(minimum.sum() - u @ arrays.capacity), at_min[first]


def _reduced(arrays: PairArrays, u: FloatArray) -> FloatArray:
    priced = arrays.cost + u[arrays.branch] * arrays.load
    if not priced.size:
        return priced
    minimum = np.minimum.reduceat(priced, arrays.starts)
    counts = np.diff(np.r_[arrays.starts, priced.size])
    reduced: FloatArray = np.maximum(priced - np.repeat(minimum, counts), 0.0)
    return reduced


def _float_slack(magnitude: float) -> float:
    # Float sums over ~1e5 terms of ~1e5 are exact to far better than this; the slack only
    # guards the proof against rounding.
    return 1e-7 * max(1.0, abs(magnitude))


def _honest_bound(value: float) -> float:
    # Costs are integers, so any plan costs at least the next integer above L(u).
    if not math.isfinite(value):
        return 0.0
    return float(max(0, math.ceil(value - _float_slack(value))))
