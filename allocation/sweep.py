"""Capacity sweeps (issue 15.2): the same round re-solved with more capacity at one branch.

A sweep is a list of variations, each "k more places at branch j"; every variation is an
independent exact solve of the same problem, so they run side by side on any executor (local
processes, or a Ray cluster: see app/rounds/sweep.py). This module only describes and solves a
variation; it never starts a process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from allocation.errors import InvalidValueError
from allocation.model import AllocationProblem
from allocation.plan import Plan
from allocation.solve import solve

MAX_VARIATIONS = 10_000


@dataclass(frozen=True, slots=True)
class Variation:
    branch: int  # branch index in the problem; -1: the base (nothing added)
    added: int  # places added at that branch


@dataclass(frozen=True, slots=True)
class SweepPoint:
    branch: int
    added: int
    assigned: int
    total_km: float  # distance of the assigned leads
    objective: float  # what the solver minimised (km plus any balance term)
    optimal: bool
    solve_seconds: float


def capacity_steps(
    problem: AllocationProblem, *, branches: Sequence[int], steps: Sequence[int]
) -> list[Variation]:
    """The base, then every (branch, k) of `branches` x `steps`, in that order."""
    for j in branches:
        if not 0 <= j < problem.branches.size:
            raise InvalidValueError(f"branch index {j} is not in the problem", field="branches")
    if any(k <= 0 for k in steps):
        raise InvalidValueError("every step must add at least one place", field="steps")
    variations = [Variation(-1, 0)] + [Variation(j, k) for j in branches for k in steps]
    if len(variations) > MAX_VARIATIONS:
        raise InvalidValueError(
            f"{len(variations) - 1} variations; at most {MAX_VARIATIONS - 1}", field="steps"
        )
    return variations


def with_more_capacity(problem: AllocationProblem, variation: Variation) -> AllocationProblem:
    if variation.branch < 0:
        return problem
    capacity = problem.branches.capacity.copy()
    capacity[variation.branch] += variation.added
    return replace(problem, branches=replace(problem.branches, capacity=capacity))


def solve_variation(
    problem: AllocationProblem, variation: Variation, *, time_limit_s: float
) -> SweepPoint:
    plan = solve(with_more_capacity(problem, variation), time_limit_s=time_limit_s)
    return _point(variation, plan)


def _point(variation: Variation, plan: Plan) -> SweepPoint:
    assigned = plan.branch >= 0
    return SweepPoint(
        branch=variation.branch,
        added=variation.added,
        assigned=plan.assigned,
        total_km=float(np.nansum(plan.distance_km[assigned])),
        objective=float(plan.total),
        optimal=plan.status == "optimal",
        solve_seconds=plan.solve_seconds,
    )
