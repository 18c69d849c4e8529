"""A solved round: per-lead columns (branch, distance, cost, reason) plus round figures.

The load-balance term lives here too because the plan's objective is defined by it: for each
branch, balance_weight x the piecewise-linear interpolation of load^2 / capacity at the
breakpoints `balance_breakpoints` (convex; minimised for a fixed total when loads are
proportional to capacities). The flow solver charges exactly these slopes on parallel arcs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.explanations import in_english, not_nearest, passed_over_because, unassigned
from allocation.model import ASSIGNED, REASONS, AllocationProblem, Method, Reason, Status
from coded_messages import Message

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BALANCE_SEGMENTS = 10  # pieces per branch: enough to spread load, few arcs in the flow


def balance_breakpoints(capacity: int) -> IntArray:
    """Integer loads 0 = b_0 < b_1 < ... < b_S = capacity where the slope may change."""
    pieces = max(1, min(int(capacity), BALANCE_SEGMENTS))
    return np.unique(np.round(np.linspace(0, int(capacity), pieces + 1)).astype(np.int64))


def balance_slopes(capacity: int, weight: float) -> tuple[IntArray, FloatArray]:
    """(segment sizes, cost per lead in each segment): slope of load^2/cap between breakpoints."""
    b = balance_breakpoints(capacity)
    if capacity <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    slopes = np.asarray(weight * (b[:-1] + b[1:]) / float(capacity), np.float64)
    return np.diff(b).astype(np.int64), slopes


def balance_penalty(*, load: IntArray, capacity: IntArray, weight: float) -> float:
    """The balance term of the objective for given branch loads (0 when weight is 0)."""
    if weight == 0:
        return 0.0
    total = 0.0
    for load_j, cap_j in zip(load.tolist(), capacity.tolist(), strict=True):
        sizes, slopes = balance_slopes(cap_j, weight)
        filled = np.clip(load_j - (np.cumsum(sizes) - sizes), 0, sizes)
        total += float(filled @ slopes)
    return total


@dataclass(frozen=True)
class Assignment:
    """One lead's outcome and its explanation."""

    external_id: str
    branch_code: str | None
    distance_km: float | None
    cost: float | None
    reason: Reason | None
    nearest_branch_code: str | None
    explanation: str  # in English (the files'); `message` is the same as a code
    message: Message | None


@dataclass(frozen=True)
class Plan:
    """Solver output: `branch[i]` is a branch index or -1; `reason[i]` 0 or a REASONS code.

    `nearest[i]` is the nearest eligible branch (or cheapest pair) when located, else -1.
    objective = total cost of the assigned leads (distance, or distance - value under a value
    objective, allocation.value); lower_bound bounds objective + balance.
    """

    method: Method
    status: Status
    branch: IntArray
    reason: NDArray[np.int8]
    distance_km: FloatArray
    cost: FloatArray
    nearest: IntArray
    objective: float
    balance_penalty: float
    lower_bound: float | None
    solve_seconds: float
    iterations: int = 0
    notes: tuple[str, ...] = ()
    # The exact solver's branch prices in km (inf: no place there can be freed), in location
    # mode: each assigned lead's branch minimises distance + price among the branches it may
    # go to, to within the proven gap. None: no such prices (heuristics, pair mode, a plan
    # completed by augmenting paths after the time limit).
    branch_price_km: FloatArray | None = None

    @property
    def assigned(self) -> int:
        return int(np.count_nonzero(self.branch >= 0))

    @property
    def unassigned(self) -> int:
        return int(self.branch.size - self.assigned)

    @property
    def total(self) -> float:
        return self.objective + self.balance_penalty

    @property
    def gap(self) -> float | None:
        if self.lower_bound is None:
            return None
        # A value objective's total may be negative (value above km): measure against |total|.
        if self.total == 0 or (self.total < 0 and self.lower_bound >= self.total):
            return 0.0
        return max(0.0, (self.total - self.lower_bound) / abs(self.total))

    def loads(self, *, problem: AllocationProblem) -> IntArray:
        """Capacity used per branch (by workload in pair mode)."""
        weights = lead_workloads(problem=problem, branch=self.branch)
        used = self.branch >= 0
        return np.bincount(
            self.branch[used], weights=weights[used], minlength=problem.branches.size
        ).astype(np.int64)

    def assignment(self, *, problem: AllocationProblem, index: int) -> Assignment:
        return explain(problem=problem, plan=self, index=index)


def lead_workloads(*, problem: AllocationProblem, branch: IntArray) -> IntArray:
    """Workload each lead uses at its branch (1 outside pair mode, 0 when unassigned)."""
    out = (branch >= 0).astype(np.int64)
    pairs = problem.pairs
    if pairs is None or pairs.unit_workload:
        return out
    key = pairs.lead * problem.branches.size + pairs.branch
    i = np.flatnonzero(branch >= 0)
    pos = np.searchsorted(key, i * problem.branches.size + branch[i])
    out[i] = pairs.workload[np.minimum(pos, len(key) - 1)]
    return out


def explain(*, problem: AllocationProblem, plan: Plan, index: int) -> Assignment:
    codes = problem.branches.codes
    j, k = int(plan.branch[index]), int(plan.nearest[index])
    code = int(plan.reason[index])
    reason = None if code == ASSIGNED else REASONS[code - 1]
    nearest = codes[k] if k >= 0 else None
    said = explanation(problem=problem, plan=plan, branch=j, nearest=k, reason=reason)
    dist = float(plan.distance_km[index])
    cost = float(plan.cost[index])
    return Assignment(
        external_id=problem.leads.external_ids[index],
        branch_code=codes[j] if j >= 0 else None,
        distance_km=None if np.isnan(dist) else dist,
        cost=None if np.isnan(cost) else cost,
        reason=reason,
        nearest_branch_code=nearest,
        explanation=in_english(said),
        message=said,
    )


def explanation(
    *, problem: AllocationProblem, plan: Plan, branch: int, nearest: int, reason: Reason | None
) -> Message | None:
    """Why this lead went where it went (None when it went to its nearest branch)."""
    if reason is not None:
        return unassigned(reason)
    if nearest < 0 or branch == nearest:
        return None
    loads = plan.loads(problem=problem)
    full = bool(loads[nearest] >= problem.branches.capacity[nearest])
    return not_nearest_message(problem=problem, plan=plan, nearest=nearest, full=full)


def not_nearest_message(
    *, problem: AllocationProblem, plan: Plan, nearest: int, full: bool
) -> Message:
    """'nearest eligible branch X was full' (or, rarely, why it was passed over with room)."""
    why = passed_over_because(
        method=plan.method,
        balance_weight=problem.params.balance_weight,
        valued=problem.value is not None,
    )
    return not_nearest(
        branch=problem.branches.codes[nearest], full=full, pairs=problem.pairs is not None, why=why
    )
