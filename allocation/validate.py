"""Independent validator: re-derives everything about a plan from the problem data alone.

It shares no code with the solvers: distances come from the textbook haversine, loads from a
plain count, the balance term from interpolating load^2/capacity at its breakpoints. It checks
one branch per lead (by construction of the columns, plus index range), capacity by workload,
eligibility (active, tier, listed pair, max distance, location), the per-lead distance and cost
(under a value objective: distance minus the value table's entry for the lead's class and
branch, looked up here from the problem's table), the objective, the reasons given for
unassigned leads, and that the bound is not above the plan's own value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.errors import PlanInvalidError
from allocation.geo import haversine_km_np
from allocation.model import ASSIGNED, REASONS, AllocationProblem, Reason, reason_code
from allocation.plan import Plan, balance_breakpoints

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
CHUNK = 4096


@dataclass(frozen=True)
class Violation:
    kind: str
    lead: int | None
    branch: int | None
    detail: str


@dataclass(frozen=True)
class ValidationReport:
    violations: tuple[Violation, ...]
    objective: float
    balance_penalty: float

    @property
    def ok(self) -> bool:
        return not self.violations


def assert_valid(*, problem: AllocationProblem, plan: Plan) -> ValidationReport:
    """Validate and raise PlanInvalidError listing the violations, if any."""
    report = validate_plan(problem=problem, plan=plan)
    if not report.ok:
        first = "; ".join(f"{v.kind}: {v.detail}" for v in report.violations[:5])
        raise PlanInvalidError(
            f"{len(report.violations)} violation(s): {first}", violations=report.violations
        )
    return report


def validate_plan(
    *, problem: AllocationProblem, plan: Plan, tolerance: float = 1e-6
) -> ValidationReport:
    n = problem.leads.size
    shapes = [len(plan.branch), len(plan.reason), len(plan.distance_km), len(plan.cost)]
    if any(s != n for s in shapes):
        return ValidationReport(
            (Violation("shape", None, None, f"columns {shapes} != {n}"),),
            float("nan"),
            float("nan"),
        )
    out: list[Violation] = []
    bad = (plan.branch < -1) | (plan.branch >= problem.branches.size)
    out += _each("branch_index", bad, plan.branch, "branch index out of range")
    branch = np.where(bad, -1, plan.branch)
    out += _reason_shape(plan=plan, branch=branch)
    workload, cost, listed = _pair_terms(problem=problem, branch=branch)
    out += _eligibility(problem=problem, branch=branch, listed=listed)
    load = np.asarray(
        np.bincount(
            branch[branch >= 0], weights=workload[branch >= 0], minlength=problem.branches.size
        ),
        np.float64,
    )
    over = np.flatnonzero(load > problem.branches.capacity)
    out += [
        Violation(
            "capacity",
            None,
            int(j),
            f"load {int(load[j])} > capacity {int(problem.branches.capacity[j])}",
        )
        for j in over
    ]
    distance = _distances(problem=problem, branch=branch)
    cost = distance if problem.pairs is None else cost
    if problem.value is not None:
        cost = distance - _values_km(problem=problem, branch=branch)
    out += _figures(plan=plan, distance=distance, cost=cost, tolerance=tolerance)
    objective = float(np.nansum(np.where(branch >= 0, cost, 0.0)))
    balance = _balance(problem=problem, load=load, plan=plan)
    out += _totals(plan=plan, objective=objective, balance=balance, tolerance=tolerance)
    out += _reason_claims(problem=problem, plan=plan, branch=branch, load=load)
    return ValidationReport(tuple(out), objective, balance)


def _each(kind: str, mask: BoolArray, branch: IntArray, detail: str) -> list[Violation]:
    return [Violation(kind, int(i), int(branch[i]), detail) for i in np.flatnonzero(mask)]


def _reason_shape(*, plan: Plan, branch: IntArray) -> list[Violation]:
    assigned_with_reason = (branch >= 0) & (plan.reason != ASSIGNED)
    unassigned_silent = (branch < 0) & ((plan.reason < 1) | (plan.reason > len(REASONS)))
    return _each("reason", assigned_with_reason, branch, "assigned lead carries a reason") + _each(
        "reason", unassigned_silent, branch, "unassigned lead without a reason"
    )


def _pair_terms(
    *, problem: AllocationProblem, branch: IntArray
) -> tuple[IntArray, FloatArray, BoolArray]:
    """Workload, listed cost and 'is a listed pair' of each lead's chosen branch."""
    n = problem.leads.size
    workload = (branch >= 0).astype(np.int64)
    cost = np.full(n, np.nan)
    listed = np.ones(n, np.bool_)
    pairs = problem.pairs
    if pairs is None:
        return workload, cost, listed
    found = {
        (int(a), int(b)): k for k, (a, b) in enumerate(zip(pairs.lead, pairs.branch, strict=True))
    }
    for i in np.flatnonzero(branch >= 0).tolist():
        k = found.get((i, int(branch[i])))
        listed[i] = k is not None
        if k is not None:
            workload[i], cost[i] = int(pairs.workload[k]), float(pairs.cost[k])
    return workload, cost, listed


def _eligibility(
    *, problem: AllocationProblem, branch: IntArray, listed: BoolArray
) -> list[Violation]:
    leads, branches = problem.leads, problem.branches
    i = np.flatnonzero(branch >= 0)
    j = branch[i]
    out = _each(
        "not_a_pair",
        np.isin(np.arange(leads.size), i[~listed[i]]),
        branch,
        "lead sent to a branch that is not one of its pairs",
    )
    out += [
        Violation("inactive_branch", int(a), int(b), "branch is not active")
        for a, b in zip(i[~branches.active[j]], j[~branches.active[j]], strict=True)
    ]
    tier_ok = branches.serves[j, leads.tier[i]]
    out += [
        Violation("tier_not_served", int(a), int(b), "branch does not serve the tier")
        for a, b in zip(i[~tier_ok], j[~tier_ok], strict=True)
    ]
    limit = problem.params.max_distance_km
    if limit is not None:
        ok = leads.located[i]
        d = haversine_km_np(
            leads.lat[i[ok]], leads.lon[i[ok]], branches.lat[j[ok]], branches.lon[j[ok]]
        )
        far = d > limit
        out += [
            Violation("beyond_max_distance", int(a), int(b), f"{dist:.3f} km > {limit} km")
            for a, b, dist in zip(i[ok][far], j[ok][far], d[far], strict=True)
        ]
    needs_point = problem.pairs is None or problem.params.max_distance_km is not None
    if needs_point:
        lost = ~leads.located[i]
        out += [
            Violation("no_location", int(a), int(b), "assigned without a location")
            for a, b in zip(i[lost], j[lost], strict=True)
        ]
    return out


def _distances(*, problem: AllocationProblem, branch: IntArray) -> FloatArray:
    leads, branches = problem.leads, problem.branches
    out = np.full(leads.size, np.nan)
    i = np.flatnonzero((branch >= 0) & leads.located)
    out[i] = haversine_km_np(
        leads.lat[i], leads.lon[i], branches.lat[branch[i]], branches.lon[branch[i]]
    )
    return out


def _values_km(*, problem: AllocationProblem, branch: IntArray) -> FloatArray:
    """value_km[class of lead, its branch] per assigned lead, read from the problem's table."""
    table = problem.value
    assert table is not None
    out = np.zeros(problem.leads.size)
    i = np.flatnonzero(branch >= 0)
    out[i] = table.value_km[table.lead_class[i], branch[i]]
    return out


def _figures(
    *, plan: Plan, distance: FloatArray, cost: FloatArray, tolerance: float
) -> list[Violation]:
    sent = plan.branch >= 0
    d_bad = sent & ~np.isclose(
        plan.distance_km, distance, rtol=tolerance, atol=1e-6, equal_nan=True
    )
    c_bad = sent & ~np.isclose(plan.cost, cost, rtol=tolerance, atol=1e-6, equal_nan=True)
    return _each("distance", d_bad, plan.branch, "distance_km differs from haversine") + _each(
        "cost", c_bad, plan.branch, "cost differs from the recomputed cost"
    )


def _balance(*, problem: AllocationProblem, load: FloatArray, plan: Plan) -> float:
    unmodelled = any("balance_weight is not applied" in note for note in plan.notes)
    weight = 0.0 if unmodelled else problem.params.balance_weight
    total = 0.0
    for used, cap in zip(load.tolist(), problem.branches.capacity.tolist(), strict=True):
        if cap > 0 and weight > 0:
            b = balance_breakpoints(cap).astype(np.float64)
            total += weight * float(np.interp(used, b, b * b / cap))
    return total


def _totals(*, plan: Plan, objective: float, balance: float, tolerance: float) -> list[Violation]:
    out = []
    scale = max(1.0, abs(objective))
    if abs(plan.objective - objective) > tolerance * scale:
        out.append(
            Violation(
                "objective", None, None, f"objective {plan.objective} != recomputed {objective}"
            )
        )
    if abs(plan.balance_penalty - balance) > tolerance * max(1.0, balance):
        out.append(
            Violation(
                "balance", None, None, f"balance {plan.balance_penalty} != recomputed {balance}"
            )
        )
    bound = plan.lower_bound
    value = objective + balance  # negative when a value objective credits more than the km
    if bound is not None and bound > value + tolerance * abs(value) + 1e-6:
        out.append(
            Violation(
                "lower_bound",
                None,
                None,
                f"bound {bound} above the plan's value {objective + balance}",
            )
        )
    return out


def _reason_claims(
    *, problem: AllocationProblem, plan: Plan, branch: IntArray, load: FloatArray
) -> list[Violation]:
    """Unassigned leads' reasons must be true of the data and of this plan's loads."""
    from allocation.validate_reasons import false_reasons

    wrong = false_reasons(
        problem=problem, reason=plan.reason, branch=branch, room=problem.branches.capacity - load
    )
    return [
        Violation(
            "reason_claim",
            int(i),
            None,
            f"reason {REASONS[int(plan.reason[i]) - 1].value} is not true",
        )
        for i in wrong
    ]


__all__ = [
    "Reason",
    "ValidationReport",
    "Violation",
    "assert_valid",
    "reason_code",
    "validate_plan",
]
