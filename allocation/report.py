"""Round figures (contract §5 and 5.1 REPORT.json) and per-lead explanations, as plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from allocation.explanations import in_english, unassigned
from allocation.model import REASONS, AllocationProblem
from allocation.plan import Plan, not_nearest_message
from allocation.shadow import ShadowPrice, shadow_prices, tolerance_km
from allocation.value import plan_totals
from coded_messages import Message

FloatArray = NDArray[np.float64]


def round_report(
    *, problem: AllocationProblem, plan: Plan, baselines: Mapping[str, Plan] | None = None
) -> dict[str, Any]:
    """The REPORT.json object: pinned fields first, then the figures around them."""
    loads = plan.loads(problem=problem)
    prices = shadow_prices(problem=problem, plan=plan)
    report: dict[str, Any] = {
        "status": plan.status,
        "assigned": plan.assigned,
        "unassigned": plan.unassigned,
        # contract §5: the total cost includes balance_weight x the balance term (0 by default).
        "objective": round(plan.total, 6),
        "lower_bound": None if plan.lower_bound is None else round(plan.lower_bound, 6),
        "gap": plan.gap,
        "solve_seconds": round(plan.solve_seconds, 3),
        "branches": [
            {
                "code": code,
                "capacity": int(cap),
                "load": int(load),
                "utilisation": round(load / cap, 4) if cap else None,
                **shadow_fields(None if prices is None else prices[j]),
            }
            for j, (code, cap, load) in enumerate(
                zip(
                    problem.branches.codes,
                    problem.branches.capacity.tolist(),
                    loads.tolist(),
                    strict=True,
                )
            )
        ],
        "method": plan.method,
        "balance_weight": problem.params.balance_weight,
        "assignment_cost": round(plan.objective, 6),
        "balance_penalty": round(plan.balance_penalty, 6),
        "max_distance_km": problem.params.max_distance_km,
        "unassigned_by_reason": unassigned_by_reason(plan),
        "distance": distance_figures(problem=problem, plan=plan),
        "iterations": plan.iterations,
        "notes": list(plan.notes),
        # Issue 15.3: shadow prices are exact to within this many km (null: none computed).
        "shadow_price_tolerance_km": None if prices is None else round(tolerance_km(plan), 6),
        # Issue 15.4: which objective ranked the plans, and what the plan is expected to bring.
        "objective_mode": problem.objective,
        "assigned_by_tier": assigned_by_tier(problem=problem, branch=plan.branch),
        "value": value_figures(problem=problem, branch=plan.branch),
    }
    if baselines:
        report["baselines"] = {
            name: baseline_figures(problem=problem, plan=other, best=plan)
            for name, other in baselines.items()
        }
    return report


def shadow_fields(price: ShadowPrice | None) -> dict[str, Any]:
    """REPORT.json branch fields of issue 15.3; null when the round has no exact prices
    (balance_weight > 0, workloads > 1, or a plan not proven optimal)."""
    if price is None:
        return {"shadow_price_km": None, "marginal_leads": None, "shadow_price_holds_for": None}
    return {
        "shadow_price_km": round(price.km_saved, 6),
        "marginal_leads": price.leads_gained,
        # The same change for at least this many more units; null: for every further unit.
        "shadow_price_holds_for": price.holds_for,
    }


def assigned_by_tier(*, problem: AllocationProblem, branch: NDArray[np.int64]) -> dict[str, int]:
    counts = np.bincount(problem.leads.tier[branch >= 0], minlength=len(problem.tiers))
    return {tier: int(counts[t]) for t, tier in enumerate(problem.tiers)}


def value_figures(
    *, problem: AllocationProblem, branch: NDArray[np.int64]
) -> dict[str, Any] | None:
    """The value objective's parameters and the plan's totals (None under `distance`):
    value_km is what the objective credited; expected conversions and revenue (fen) are the
    sums of rate x lead and rate x mean revenue over the assigned leads (expected_value)."""
    values = problem.value
    if values is None:
        return None
    totals = plan_totals(values=values, branch=branch)
    figures: dict[str, Any] = {"value_km": round(totals.value_km, 6)}
    if values.mode == "tier_priority":
        figures["tier_weights_km"] = dict(values.tier_weights_km or {})
    else:
        figures |= {
            "price_per_km_fen": values.price_per_km_fen,
            "expected_conversions": round(totals.expected_conversions, 6),
            "expected_revenue_fen": round(totals.expected_revenue_fen),
        }
    return figures


def unassigned_by_reason(plan: Plan) -> dict[str, int]:
    counts = np.bincount(plan.reason, minlength=len(REASONS) + 1)
    return {reason.value: int(counts[k + 1]) for k, reason in enumerate(REASONS)}


def distance_figures(*, problem: AllocationProblem, plan: Plan) -> dict[str, float | int | None]:
    """Mean / p95 / max distance of assigned leads and the share served in their own city."""
    d = plan.distance_km[(plan.branch >= 0) & ~np.isnan(plan.distance_km)]
    same, known = same_city(problem=problem, branch=plan.branch)
    return {
        "mean_km": round(float(d.mean()), 4) if len(d) else None,
        "p95_km": round(float(np.percentile(d, 95)), 4) if len(d) else None,
        "max_km": round(float(d.max()), 4) if len(d) else None,
        "total_km": round(float(d.sum()), 4),
        "same_city_share": round(same / known, 4) if known else None,
        "same_city_known": known,
    }


def same_city(*, problem: AllocationProblem, branch: NDArray[np.int64]) -> tuple[int, int]:
    """(assigned leads whose branch is in the same prefecture, assigned leads where both
    region codes are known); a prefecture is the first 4 digits of the division code."""
    branch_city = _cities(problem.branches.region_codes)
    lead_city = _cities(problem.leads.region_codes)
    i = np.flatnonzero(branch >= 0)
    lc, bc = lead_city[i], branch_city[branch[i]]
    known = (lc != "") & (bc != "")
    return int(np.count_nonzero(known & (lc == bc))), int(np.count_nonzero(known))


def _cities(codes: Sequence[str | None]) -> NDArray[np.str_]:
    """First 4 digits of each division code ('' when unknown); numpy truncates to 4 chars."""
    return np.array([c or "" for c in codes] or [""], dtype="<U4")


def baseline_figures(*, problem: AllocationProblem, plan: Plan, best: Plan) -> dict[str, Any]:
    figures = distance_figures(problem=problem, plan=plan)
    extra = None
    if best.objective > 0 and plan.assigned == best.assigned:
        extra = round(100.0 * (plan.total - best.total) / best.total, 3)
    return {
        "assigned": plan.assigned,
        "unassigned": plan.unassigned,
        # contract §5: the total cost includes balance_weight x the balance term (0 by default).
        "objective": round(plan.total, 6),
        "balance_penalty": round(plan.balance_penalty, 6),
        "mean_km": figures["mean_km"],
        "p95_km": figures["p95_km"],
        "same_city_share": figures["same_city_share"],
        "extra_cost_vs_plan_percent": extra,
    }


def explanations(*, problem: AllocationProblem, plan: Plan) -> Sequence[str]:
    """Per lead, in English: empty, the unassigned reason, or why its nearest was not used."""
    said = explanation_messages(problem=problem, plan=plan)
    # A few distinct messages serve every lead: say each once (a pool may hold millions).
    english = {key: in_english(m) for key, m in {id(m): m for m in said}.items()}
    return [english[id(m)] for m in said]


def explanation_messages(*, problem: AllocationProblem, plan: Plan) -> Sequence[Message | None]:
    """Per lead: None, the unassigned reason, or why the nearest eligible branch was not used.
    Leads with the same explanation share one message object."""
    full = plan.loads(problem=problem) >= problem.branches.capacity
    by_reason = [None, *(unassigned(reason) for reason in REASONS)]
    out: list[Message | None] = [by_reason[k] for k in plan.reason.tolist()]
    moved = np.flatnonzero((plan.branch >= 0) & (plan.nearest >= 0) & (plan.branch != plan.nearest))
    said = {
        (k, f): not_nearest_message(problem=problem, plan=plan, nearest=k, full=f)
        for k in range(problem.branches.size)
        for f in (False, True)
    }
    for i in moved.tolist():
        k = int(plan.nearest[i])
        out[i] = said[(k, bool(full[k]))]
    return out
