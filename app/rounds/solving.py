"""Turning a pool into an allocation problem, and a plan back into rows (no database here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from allocation.model import (
    ASSIGNED,
    REASONS,
    AllocationParams,
    BranchSpec,
    LeadSpec,
    build_problem,
)
from allocation.plan import Plan
from allocation.report import explanations, round_report
from allocation.solve import solve
from allocation.validate import assert_valid
from app.rounds.exclusions import apply_exclusions
from app.rounds.pool import PoolLead, split_by_customer
from app.tables import Branch

BASELINES = ("greedy", "round_robin", "weighted_random")


@dataclass(frozen=True, slots=True)
class Outcome:
    lead_id: int
    branch_id: int | None
    distance_km: float | None
    cost: float | None
    reason: str | None
    explanation: str
    follows_lead_id: int | None = None


@dataclass(frozen=True)
class SolvedPool:
    plan: Plan
    outcomes: list[Outcome]
    report: dict[str, Any]


def solve_pool(
    *,
    branches: list[Branch],
    capacities: dict[int, int],
    pool: list[PoolLead],
    params: AllocationParams,
    time_limit_s: float,
    baseline_max_leads: int,
) -> SolvedPool:
    """Solve, validate independently (raises: nothing invalid is ever stored), report."""
    pool, followers = split_by_customer(pool)
    specs = [_branch_spec(b, capacities.get(b.id or 0, 0)) for b in branches]
    leads = [
        LeadSpec(
            external_id=str(p.id), lat=p.lat, lon=p.lon, tier=p.tier, region_code=p.region_code
        )
        for p in pool
    ]
    code_of = {b.id: b.code for b in branches}
    excluded = {
        str(p.id): code_of[p.returned_by_branch_id]
        for p in pool
        if p.returned_by_branch_id in code_of
    }
    specs, leads = apply_exclusions(specs, leads, excluded)
    problem = build_problem(branches=specs, leads=leads, params=params)
    plan = solve(problem, method="optimal", time_limit_s=time_limit_s)
    assert_valid(problem=problem, plan=plan)
    # The rule-based baselines run lead by lead: worth showing, not worth minutes on huge pools.
    compare = len(pool) <= baseline_max_leads
    baselines = {name: solve(problem, method=name) for name in BASELINES} if compare else None
    report = round_report(problem=problem, plan=plan, baselines=baselines)
    texts = explanations(problem=problem, plan=plan)
    ids = [b.id or 0 for b in branches]
    outcomes = [_outcome(plan, i, lead_id=p.id, ids=ids, text=texts[i]) for i, p in enumerate(pool)]
    outcomes += _follower_outcomes(outcomes, followers)
    return SolvedPool(plan=plan, outcomes=outcomes, report=report)


def _branch_spec(branch: Branch, capacity: int) -> BranchSpec:
    return BranchSpec(
        code=branch.code,
        name=branch.name,
        lat=branch.lat,
        lon=branch.lon,
        capacity=capacity,
        tiers=frozenset(t for t in branch.tiers.split("|") if t),
        region_code=branch.region_code,
        active=branch.active,
    )


def _outcome(plan: Plan, index: int, *, lead_id: int, ids: list[int], text: str) -> Outcome:
    j, code = int(plan.branch[index]), int(plan.reason[index])
    return Outcome(
        lead_id=lead_id,
        branch_id=ids[j] if j >= 0 else None,
        distance_km=_number(plan.distance_km[index]),
        cost=_number(plan.cost[index]),
        reason=None if code == ASSIGNED else REASONS[code - 1].value,
        explanation=text[:200],
    )


def _follower_outcomes(outcomes: list[Outcome], followers: dict[int, int]) -> list[Outcome]:
    by_lead = {o.lead_id: o for o in outcomes}
    return [
        replace(
            by_lead[leader],
            lead_id=follower,
            explanation=f"same customer as lead {leader}",
            follows_lead_id=leader,
        )
        for follower, leader in followers.items()
    ]


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
