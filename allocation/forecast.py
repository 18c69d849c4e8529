"""Rounds that keep room for the day's arrivals (issue 16.2).

Routing between rounds never moves an assigned lead, so an arrival whose branch the round
filled goes to the next branch with room, often far away. A round can instead be solved with
forecast arrivals: phantom leads (points, tiers, eligibility like real ones) appended to the
problem (`build_problem(forecast=...)`, `AllocationProblem.forecast`). They are just more
leads of the same min-cost flow, placed on the real capacities beside the customers; the
whole plan is validated like any other. `real_part` then splits it: the customers' plan, which
is what a round stores and commits, and per branch the places the forecast took, the room the
round keeps. The plan's branch prices are the joint solve's, so routing at them already counts
the expected arrivals.

Forecast leads compete with customers on equal terms: where places are short, a customer may
be left out while a forecast lead is placed. Callers keep the forecast within the spare room.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from allocation.model import AllocationProblem, LeadTable
from allocation.plan import Plan, balance_penalty

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Reserved:
    """The customers' part of a plan solved with forecast arrivals.

    `problem` holds the customers only, each branch's capacity less the places kept, and `plan`
    is a valid plan of it (allocation.validate); `kept[j]` is the places kept at branch j.
    """

    problem: AllocationProblem
    plan: Plan
    kept: IntArray

    @property
    def total_kept(self) -> int:
        return int(self.kept.sum())


def real_part(*, problem: AllocationProblem, plan: Plan) -> Reserved:
    """Split a plan of a problem with forecast arrivals; without any, both come back as given."""
    n_branches = problem.branches.size
    if problem.forecast == 0:
        return Reserved(problem=problem, plan=plan, kept=np.zeros(n_branches, np.int64))
    n = problem.real_leads
    phantom = plan.branch[n:]
    kept = np.bincount(phantom[phantom >= 0], minlength=n_branches).astype(np.int64)
    reduced = _customers_only(problem, n=n, kept=kept)
    return Reserved(problem=reduced, plan=_real_plan(plan, reduced=reduced, n=n), kept=kept)


def _customers_only(problem: AllocationProblem, *, n: int, kept: IntArray) -> AllocationProblem:
    leads = problem.leads
    table = LeadTable(
        external_ids=leads.external_ids[:n],
        lat=leads.lat[:n],
        lon=leads.lon[:n],
        tier=leads.tier[:n],
        region_codes=leads.region_codes[:n],
    )
    value = problem.value
    if value is not None:
        value = replace(value, lead_class=value.lead_class[:n])
    branches = replace(problem.branches, capacity=problem.branches.capacity - kept)
    return replace(problem, branches=branches, leads=table, value=value, forecast=0)


def _real_plan(plan: Plan, *, reduced: AllocationProblem, n: int) -> Plan:
    """The customers' columns. Their cost is the plan's less the forecast's; so is the bound
    (the forecast's places fixed, no plan of the customers can beat it: any better one plus
    the forecast would beat the joint bound), except under a balance term, which is not
    separable: there it is dropped (None)."""
    branch = plan.branch[:n]
    sent = branch >= 0
    objective = float(plan.cost[:n][sent].sum())
    forecast_cost = plan.objective - objective
    weight = reduced.params.balance_weight
    loads = np.bincount(branch[sent], minlength=reduced.branches.size).astype(np.int64)
    bound = plan.lower_bound
    if bound is not None:
        bound = None if weight > 0 else bound - forecast_cost
    kept = plan.branch.size - n - int(np.count_nonzero(plan.branch[n:] < 0))
    return replace(
        plan,
        branch=branch,
        reason=plan.reason[:n],
        distance_km=plan.distance_km[:n],
        cost=plan.cost[:n],
        nearest=plan.nearest[:n],
        objective=objective,
        balance_penalty=balance_penalty(
            load=loads, capacity=reduced.branches.capacity, weight=weight
        ),
        lower_bound=bound,
        notes=(*plan.notes, f"{kept} place(s) kept for forecast arrivals"),
    )
