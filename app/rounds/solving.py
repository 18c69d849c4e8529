"""Turning a pool into an allocation problem, and a plan back into rows (no database here).

The instance a round solves (branch specs with remaining capacity, lead classes, parameters) is
kept as a snapshot so that the round can be replayed to the same plan later.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from allocation.forecast import Reserved, real_part
from allocation.model import (
    ASSIGNED,
    REASONS,
    AllocationParams,
    AllocationProblem,
    BranchSpec,
    LeadSpec,
    build_problem,
)
from allocation.plan import Plan
from allocation.report import explanation_messages, round_report
from allocation.solve import solve
from allocation.validate import assert_valid
from allocation.value import ObjectiveSpec
from app.messages import SAME_CUSTOMER
from app.rounds.exclusions import apply_exclusions
from app.rounds.objective import for_classes, spec_from_json, spec_json
from app.rounds.pool import PoolLead, split_by_customer
from app.rounds.reserve import Forecast, forecast_from_json, forecast_json
from app.tables import Branch
from coded_messages import Message, message

BASELINES = ("greedy", "round_robin", "weighted_random")


class Outcome(NamedTuple):
    """Where the round puts one lead, and why. A named tuple, like `PoolLead`: one per pooled
    lead (1.3M: 0.43 s against 1.26 s as a frozen dataclass)."""

    lead_id: int
    branch_id: int | None
    distance_km: float | None
    cost: float | None
    reason: str | None
    explanation: Message | None  # None: the lead went to its nearest eligible branch
    follows_lead_id: int | None = None
    lead_class: str | None = None  # the eligibility class the solver saw (tier or exclusion)


@dataclass(frozen=True)
class Instance:
    branches: list[BranchSpec]
    branch_ids: list[int]
    leads: list[LeadSpec]  # external_id = str(lead id)
    followers: dict[int, int]
    params: AllocationParams
    objective: ObjectiveSpec = field(default_factory=ObjectiveSpec)
    # Issue 16.2: forecast arrivals solved beside the leads (app/rounds/reserve.py); None: off.
    forecast: Forecast | None = None

    def problem(self) -> AllocationProblem:
        objective = for_classes(self.objective, {x.tier for x in self.leads})
        return build_problem(
            branches=self.branches, leads=self.leads, params=self.params, objective=objective,
            forecast=self.forecast.leads if self.forecast else (),
        )  # fmt: skip


@dataclass(frozen=True)
class SolvedPool:
    plan: Plan
    outcomes: list[Outcome]
    report: dict[str, Any]


@dataclass(frozen=True)
class UnreportedPool:
    """A validated plan and its outcomes, with the round's report still to work out: a round
    stores the outcomes while another thread works it out (issue 18.2)."""

    plan: Plan
    outcomes: list[Outcome]
    report: Callable[[], dict[str, Any]]


def build_instance(
    *,
    branches: list[Branch],
    capacities: dict[int, int],
    pool: list[PoolLead],
    params: AllocationParams,
    objective: ObjectiveSpec | None = None,
) -> Instance:
    representatives, followers = split_by_customer(pool)
    specs = [_branch_spec(b, capacities.get(b.id or 0, 0)) for b in branches]
    # Positional, in LeadSpec's field order (external_id, lat, lon, tier, region_code,
    # channel): a pool may hold a million leads.
    leads = [
        LeadSpec(str(p.id), p.lat, p.lon, p.tier, p.region_code, p.channel) for p in representatives
    ]
    code_of = {b.id: b.code for b in branches}
    excluded = {
        str(p.id): code_of[p.excluded_branch_id]
        for p in representatives
        if p.excluded_branch_id in code_of
    }
    specs, leads = apply_exclusions(specs, leads, excluded)
    ids = [b.id or 0 for b in branches]
    return Instance(specs, ids, leads, followers, params, objective or ObjectiveSpec())


def solve_instance(
    instance: Instance,
    *,
    time_limit_s: float,
    baseline_max_leads: int,
    iterations: Callable[[str], None] | None = None,
) -> SolvedPool:
    """Solve, validate independently (raises: nothing invalid is ever stored), report."""
    solved = solve_unreported(
        instance, time_limit_s=time_limit_s, baseline_max_leads=baseline_max_leads,
        iterations=iterations,
    )  # fmt: skip
    return SolvedPool(plan=solved.plan, outcomes=solved.outcomes, report=solved.report())


def solve_unreported(
    instance: Instance,
    *,
    time_limit_s: float,
    baseline_max_leads: int,
    iterations: Callable[[str], None] | None = None,
) -> UnreportedPool:
    """Solve and validate independently (raises: nothing invalid is ever stored); the report
    (the baselines, the figures, the shadow prices) is worked out when asked for.
    `iterations` hears one line per pricing iteration of the solver. With a forecast the whole
    plan is validated, forecast leads included; the rest sees the customers' part only."""
    joint = instance.problem()
    plan = solve(joint, method="optimal", time_limit_s=time_limit_s, progress=iterations)
    assert_valid(problem=joint, plan=plan)
    reserved = real_part(problem=joint, plan=plan)
    problem, plan = reserved.problem, reserved.plan
    said = explanation_messages(problem=problem, plan=plan)
    outcomes = _outcomes(plan, leads=instance.leads, ids=instance.branch_ids, said=said)
    outcomes += _follower_outcomes(outcomes, instance.followers)

    def report() -> dict[str, Any]:
        # The rule-based baselines run lead by lead: worth showing, not worth minutes on
        # huge pools.
        compare = len(instance.leads) <= baseline_max_leads
        baselines = {name: solve(problem, method=name) for name in BASELINES} if compare else None
        made = round_report(problem=problem, plan=plan, baselines=baselines)
        if instance.forecast is None:
            return made
        return _with_room_kept(made, reserved=reserved, figures=instance.forecast.figures)

    return UnreportedPool(plan=plan, outcomes=outcomes, report=report)


def snapshot(instance: Instance) -> dict[str, Any]:
    """What a replay needs besides the leads' own (immutable) coordinates and the lead classes."""
    return {
        "branches": [{**asdict(b), "tiers": sorted(b.tiers)} for b in instance.branches],
        "branch_ids": instance.branch_ids,
        "balance_weight": instance.params.balance_weight,
        "max_distance_km": instance.params.max_distance_km,
        "objective": spec_json(instance.objective),
        **(_forecast_snapshot(instance.forecast) if instance.forecast else {}),
    }


def _forecast_snapshot(forecast: Forecast) -> dict[str, Any]:
    return {"forecast": forecast_json(forecast.leads), "reserve": forecast.figures}


def instance_from_snapshot(data: dict[str, Any], *, leads: list[LeadSpec]) -> Instance:
    branches = [BranchSpec(**{**b, "tiers": frozenset(b["tiers"])}) for b in data["branches"]]
    params = AllocationParams(
        balance_weight=data["balance_weight"], max_distance_km=data["max_distance_km"]
    )
    objective = spec_from_json(data.get("objective"))
    forecast = None
    if "reserve" in data:
        forecast = Forecast(leads=forecast_from_json(data["forecast"]), figures=data["reserve"])
    return Instance(branches, list(data["branch_ids"]), leads, {}, params, objective, forecast)


def _with_room_kept(
    report: dict[str, Any], *, reserved: Reserved, figures: dict[str, Any]
) -> dict[str, Any]:
    """The round's figures with the room kept: in all, and per branch beside the capacity the
    round had (the customers' plan saw that capacity less the room kept)."""
    branches = []
    for entry, kept in zip(report["branches"], reserved.kept.tolist(), strict=True):
        capacity = entry["capacity"] + kept
        branches.append(
            {
                **entry,
                "capacity": capacity,
                "kept_for_arrivals": kept,
                "utilisation": round(entry["load"] / capacity, 4) if capacity else None,
            }
        )
    return {**report, "branches": branches,
            "reserve": {**figures, "kept": reserved.total_kept}}  # fmt: skip


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


def _outcomes(
    plan: Plan, *, leads: list[LeadSpec], ids: list[int], said: Sequence[Message | None]
) -> list[Outcome]:
    # Plain lists, not numpy scalars: indexing an array element by element costs ~1 us each.
    columns = zip(
        leads,
        plan.branch.tolist(),
        plan.reason.tolist(),
        plan.distance_km.tolist(),
        plan.cost.tolist(),
        said,
        strict=True,
    )
    # Positional, in Outcome's field order (lead, branch, distance, cost, reason,
    # explanation, follows_lead_id, lead_class): a pool may hold a million leads.
    branch_of = [*ids, None]  # index -1 (unassigned): None
    reason_of = {ASSIGNED: None} | {code: r.value for code, r in enumerate(REASONS, start=1)}
    nan = math.isnan
    return [
        Outcome(
            int(lead.external_id), branch_of[j], None if nan(distance) else distance,
            None if nan(cost) else cost, reason_of[code], explanation, None, lead.tier,
        )
        for lead, j, code, distance, cost, explanation in columns
    ]  # fmt: skip


def _follower_outcomes(outcomes: list[Outcome], followers: dict[int, int]) -> list[Outcome]:
    by_lead = {o.lead_id: o for o in outcomes}
    return [
        by_lead[leader]._replace(
            lead_id=follower,
            explanation=message(SAME_CUSTOMER, lead=leader),
            follows_lead_id=leader,
            lead_class=None,
        )
        for follower, leader in followers.items()
    ]
