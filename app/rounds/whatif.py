"""What-if (issue 15.1): solve a scenario on the live pool beside the current plan; commit nothing.

Both sides are built the way a round is (pool, customers, exclusions, capacity counted as
`app.ownership.holdings` counts it: customers in follow-up, lapsing ones excluded). The current
side is what a round with default parameters would do now; the scenario side applies capacity
overrides, closures (their open leads join the pool), new branches, tier changes and the
parameters. The only row written is the audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from allocation.forecast import real_part
from allocation.model import AllocationParams, LeadSpec
from allocation.plan import Plan
from allocation.report import (
    assigned_by_tier,
    distance_figures,
    unassigned_by_reason,
    value_figures,
)
from allocation.solve import solve
from allocation.value import ObjectiveSpec, RateSpec
from app import audit
from app.analytics.rates import history_cells, learned_rates
from app.config import Settings
from app.db import session_scope
from app.ownership.deadline import followup_rule
from app.ownership.holdings import branch_loads
from app.rounds.pool import PoolLead, load_held, load_pool
from app.rounds.reserve import forecast_for, recent_arrivals
from app.rounds.scenario import Scenario, check_references
from app.rounds.solving import Instance, build_instance
from app.tables import Branch
from app.tables.base import utcnow

CHANGES_LISTED = 200  # leads that would change branch, listed in full up to this many


@dataclass(frozen=True)
class Live:
    branches: list[Branch]
    held: dict[int, int]  # branch id -> customers in follow-up (lapsing ones excluded)
    pool: list[PoolLead]
    repooled: list[tuple[PoolLead, int]]  # open leads of closed branches, with their holder
    rates: tuple[RateSpec, ...] = ()  # learned from history when a scenario asks expected_value
    recent: tuple[LeadSpec, ...] = ()  # the recent intake, when a scenario keeps room for it


@dataclass(frozen=True)
class _Side:
    instance: Instance
    branch: dict[int, str | None]  # representative lead id -> branch code (None: unassigned)
    figures: dict[str, Any]
    loads: dict[str, int]  # branch code -> customers held after the plan
    capacity: dict[str, int]
    plan: Plan
    kept: dict[str, int]  # branch code -> places kept for arrivals (issue 16.2)


def run_whatif(
    engine: Engine, *, settings: Settings, actor: str, scenario: Scenario
) -> dict[str, Any]:
    live = read_live(engine, settings=settings, scenario=scenario)
    limit = settings.round_time_limit_seconds
    current = _solve_side(current_instance(live), live=live, scenario=None, time_limit_s=limit)
    proposed = _solve_side(
        _scenario_instance(live, scenario, settings=settings), live=live, scenario=scenario,
        time_limit_s=limit,
    )  # fmt: skip
    result = _compare(live=live, current=current, proposed=proposed, scenario=scenario)
    with session_scope(engine) as session:
        audit.record(
            session, actor=actor, action="round.whatif", entity_type="round",
            detail={"scenario": scenario.model_dump(), "assigned": proposed.figures["assigned"],
                    "changed_branch": result["changed_branch_total"]},
        )  # fmt: skip
    return result


def read_live(engine: Engine, *, settings: Settings, scenario: Scenario) -> Live:
    return read_lives(engine, settings=settings, scenarios=[scenario])[0]


def read_lives(engine: Engine, *, settings: Settings, scenarios: list[Scenario]) -> list[Live]:
    """The live pool and branches once, and each scenario's closures re-pooled, all read in one
    transaction so every scenario sees the same moment."""
    now = utcnow()
    lapsed = followup_rule(settings).cutoff(now)
    keeps_room = any(s.reserve_for_arrivals is not None for s in scenarios)
    with session_scope(engine) as session:
        branches = list(session.exec(select(Branch).order_by(col(Branch.id))))
        for scenario in scenarios:
            check_references(scenario, codes=[b.code for b in branches])
        base = Live(
            branches=[Branch(**b.model_dump()) for b in branches],  # detached copies
            held=branch_loads(session, stale_before=lapsed),
            pool=load_pool(session, lapsed_before=lapsed),
            repooled=[],
            rates=_rates(session, scenarios),
            recent=tuple(recent_arrivals(session, now=now, window_days=settings.reserve_window_days)
                         if keeps_room else ()),
        )  # fmt: skip
        return [replace(base, repooled=_closed_leads(session, branches, scenario, lapsed))
                for scenario in scenarios]  # fmt: skip


def _rates(session: Session, scenarios: list[Scenario]) -> tuple[RateSpec, ...]:
    wanted = any(s.objective == "expected_value" for s in scenarios)
    return learned_rates(history_cells(session)) if wanted else ()


def objective_of(scenario: Scenario, live: Live) -> ObjectiveSpec:
    return ObjectiveSpec(
        mode=scenario.objective,
        tier_weights_km=scenario.tier_weights_km,
        price_per_km_fen=scenario.price_per_km_fen,
        rates=live.rates if scenario.objective == "expected_value" else (),
    )


def _closed_leads(
    session: Session, branches: list[Branch], scenario: Scenario, lapsed: datetime
) -> list[tuple[PoolLead, int]]:
    closed = [b.id for b in branches if b.code in set(scenario.close) and b.id is not None]
    return load_held(session, branch_ids=closed, lapsed_before=lapsed) if closed else []


def run_side_by_side(
    engine: Engine, *, settings: Settings, actor: str, scenarios: list[tuple[str, Scenario]]
) -> dict[str, Any]:
    """Several scenarios against one current plan (solved once), in the order given."""
    lives = read_lives(engine, settings=settings, scenarios=[s for _, s in scenarios])
    limit = settings.round_time_limit_seconds
    current = _solve_side(current_instance(lives[0]), live=lives[0], scenario=None,
                          time_limit_s=limit)  # fmt: skip
    compared = []
    for (name, scenario), live in zip(scenarios, lives, strict=True):
        proposed = _solve_side(
            _scenario_instance(live, scenario, settings=settings), live=live, scenario=scenario,
            time_limit_s=limit,
        )  # fmt: skip
        result = _compare(live=live, current=current, proposed=proposed, scenario=scenario)
        compared.append({"name": name, **result})
    with session_scope(engine) as session:
        audit.record(
            session, actor=actor, action="round.whatif", entity_type="round",
            detail={"compared": [{"name": c["name"], "assigned": c["scenario_plan"]["assigned"],
                                  "changed_branch": c["changed_branch_total"]} for c in compared]},
        )  # fmt: skip
    return {"current": current.figures, "scenarios": compared}


def current_instance(live: Live) -> Instance:
    room = {b.id or 0: max(b.capacity - live.held.get(b.id or 0, 0), 0) for b in live.branches}
    return build_instance(
        branches=live.branches, capacities=room, pool=live.pool, params=AllocationParams()
    )


def _scenario_instance(live: Live, scenario: Scenario, *, settings: Settings) -> Instance:
    closed = set(scenario.close)
    branches, room = [], {}
    for b in live.branches:
        changed = Branch(**b.model_dump())
        changed.capacity = scenario.capacity.get(b.code, b.capacity)
        changed.tiers = scenario.tiers.get(b.code, b.tiers)
        changed.active = b.active and b.code not in closed
        held = 0 if b.code in closed else live.held.get(b.id or 0, 0)
        room[b.id or 0] = max(changed.capacity - held, 0) if changed.active else 0
        branches.append(changed)
    for k, new in enumerate(scenario.open):
        fake_id = -(k + 1)  # never a database id
        branches.append(
            Branch(
                id=fake_id, code=new.code, name=new.name, lat=new.lat, lon=new.lon,
                capacity=new.capacity, tiers=new.tiers, active=True,
            )
        )  # fmt: skip
        room[fake_id] = new.capacity
    params = AllocationParams(
        balance_weight=scenario.balance_weight, max_distance_km=scenario.max_distance_km
    )
    pool = live.pool + [lead for lead, _holder in live.repooled]
    instance = build_instance(branches=branches, capacities=room, pool=pool, params=params,
                              objective=objective_of(scenario, live))  # fmt: skip
    forecast = forecast_for(scenario.reserve_for_arrivals, recent=live.recent,
                            branches=instance.branches, customers=len(instance.leads),
                            settings=settings)  # fmt: skip
    return replace(instance, forecast=forecast)


def _solve_side(
    instance: Instance, *, live: Live, scenario: Scenario | None, time_limit_s: float
) -> _Side:
    """Solve one side; capacities reported are the branches' totals (0 when closed)."""
    closed = set(scenario.close) if scenario else set()
    joint = instance.problem()
    reserved = real_part(problem=joint, plan=solve(joint, time_limit_s=time_limit_s))
    problem, plan = reserved.problem, reserved.plan  # the customers (issue 16.2)
    codes = problem.branches.codes
    branch = {
        int(lead.external_id): (codes[j] if j >= 0 else None)
        for lead, j in zip(instance.leads, plan.branch.tolist(), strict=True)
    }
    id_of = dict(zip(codes, instance.branch_ids, strict=False))
    added = plan.loads(problem=problem).tolist()
    loads = {
        code: (0 if code in closed else live.held.get(id_of.get(code, 0), 0)) + int(n)
        for code, n in zip(codes, added, strict=True)
    }
    capacity = {b.code: b.capacity for b in live.branches}
    capacity.update(dict.fromkeys(closed, 0))
    capacity.update(scenario.capacity if scenario else {})
    capacity.update({b.code: b.capacity for b in scenario.open} if scenario else {})
    figures = {
        "status": plan.status,
        "pool": problem.leads.size,
        "assigned": plan.assigned,
        "unassigned": plan.unassigned,
        "unassigned_by_reason": unassigned_by_reason(plan),
        "objective": round(plan.total, 6),
        "solve_seconds": round(plan.solve_seconds, 3),
        **distance_figures(problem=problem, plan=plan),
        "objective_mode": problem.objective,
        "assigned_by_tier": assigned_by_tier(problem=problem, branch=plan.branch),
        "value": value_figures(problem=problem, branch=plan.branch),
    }
    if instance.forecast is not None:
        figures["reserve"] = {**instance.forecast.figures, "kept": reserved.total_kept}
    kept = dict(zip(codes, reserved.kept.tolist(), strict=True))
    return _Side(instance, branch, figures, loads, capacity, plan, kept)


def _current_value(current: _Side, objective: ObjectiveSpec) -> dict[str, Any] | None:
    if objective.mode == "distance":
        return None
    problem = replace(current.instance, objective=objective).problem()
    return value_figures(problem=problem, branch=current.plan.branch)


def _compare(*, live: Live, current: _Side, proposed: _Side, scenario: Scenario) -> dict[str, Any]:
    code_of = {b.id: b.code for b in live.branches}
    before = dict(current.branch)
    before.update({lead.id: code_of.get(holder) for lead, holder in live.repooled})
    changes = [
        {"lead_id": lead_id, "from": before.get(lead_id), "to": to}
        for lead_id, to in sorted(proposed.branch.items())
        if before.get(lead_id) != to
    ]
    codes = list(dict.fromkeys([*current.loads, *proposed.loads]))
    return {
        "scenario": scenario.model_dump(),
        "current": current.figures,
        "scenario_plan": proposed.figures,
        "branches": [
            {
                "code": code,
                "capacity_before": current.capacity.get(code, 0),
                "capacity_after": proposed.capacity.get(code, 0),
                "load_before": current.loads.get(code, 0),
                "load_after": proposed.loads.get(code, 0),
                "load_delta": proposed.loads.get(code, 0) - current.loads.get(code, 0),
                "kept_for_arrivals": proposed.kept.get(code, 0),
            }
            for code in codes
        ],
        # The current plan scored by the scenario's objective (null under distance).
        "current_value": _current_value(current, objective_of(scenario, live)),
        "repooled": len(live.repooled),
        "changed_branch_total": len(changes),
        "changed_branch": changes[:CHANGES_LISTED],
    }


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The comparison in a few lines for the terminal."""
    a, b = result["current"], result["scenario_plan"]
    rows = [
        ("pool", a["pool"], b["pool"]),
        ("assigned", a["assigned"], b["assigned"]),
        ("unassigned", a["unassigned"], b["unassigned"]),
        ("total km", a["total_km"], b["total_km"]),
        ("mean km", a["mean_km"], b["mean_km"]),
        ("p95 km", a["p95_km"], b["p95_km"]),
        ("own-city share", a["same_city_share"], b["same_city_share"]),
    ]
    out = [f"{'':22}{'current':>14}{'scenario':>14}"]
    out += [f"{name:22}{_cell(x):>14}{_cell(y):>14}" for name, x, y in rows]
    for reason, n in b["unassigned_by_reason"].items():
        out.append(f"  {reason:20}{a['unassigned_by_reason'][reason]:>14,}{n:>14,}")
    out.append(f"open leads of closed branches re-pooled: {result['repooled']}")
    moved = [x for x in result["branches"] if x["load_delta"]]
    out.append(f"branches whose load changes: {len(moved)}")
    out += [f"  {x['code']}: {x['load_before']} -> {x['load_after']}" for x in moved[:20]]
    out.append(f"leads that would change branch: {result['changed_branch_total']}")
    if "reserve" in b:
        out.append(f"places kept for arrivals: {b['reserve']['kept']}")
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.4f}" if isinstance(value, float) else f"{value:,}"
