"""Allocation rounds: build the pool, solve, store the preview, commit atomically, cancel.

A round spans several short transactions on purpose: the lock is taken and released in its
own transactions (so a concurrent request sees it at once), the pool is read, the solver runs
with no transaction open, and the result is stored in one transaction. A commit is exactly one
transaction: assignments, ownership intervals and the round status change together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from allocation.errors import InvalidProblemError
from allocation.model import AllocationParams, LeadSpec
from app import audit
from app.bulk import refresh_statistics
from app.config import Settings
from app.db import session_scope
from app.errors import Conflict, InvalidInput, NotFound, StalePreview
from app.gc_pause import cyclic_gc_paused
from app.ownership.deadline import followup_rule
from app.progress import Progress, quiet
from app.rounds import committing
from app.rounds.lock import round_lock
from app.rounds.objective import RoundObjective, objective_spec
from app.rounds.pool import load_pool, remaining_capacity
from app.rounds.reserve import ReserveAsked, forecast_for, recent_arrivals
from app.rounds.solving import (
    Instance,
    UnreportedPool,
    build_instance,
    snapshot,
    solve_unreported,
)
from app.rounds.storing import store_assignments
from app.routing.prices import store_prices
from app.tables import AllocationRound, Branch
from app.tables.base import utcnow
from coded_messages import message

OBJECTIVE_FIELDS = ("tier_weights", "price_per_km")  # the core's fields of a bad objective


@dataclass(frozen=True, slots=True)
class RoundParams:
    balance_weight: float = 0.0
    max_distance_km: float | None = None
    time_limit_s: float = 60.0
    objective: RoundObjective = field(default_factory=RoundObjective)
    # Issue 16.2: keep room for the arrivals expected before the next round (None: off;
    # "auto" or a number of places: app/rounds/reserve.py).
    reserve_for_arrivals: ReserveAsked = None


def run_round(
    engine: Engine,
    *,
    settings: Settings,
    actor: str,
    params: RoundParams,
    commit: bool,
    progress: Progress = quiet,
    on_stored: Callable[[int], None] | None = None,
) -> int:
    """Solve a round over the current pool; commit it too when asked. Returns the round id.

    `progress` hears the phases (pool, solve, store, commit); `on_stored` the preview's id as
    soon as it is stored (a job that dies after that resumes at the commit)."""
    with round_lock(engine, actor=actor):
        with cyclic_gc_paused():  # the pool, its specs and outcomes: millions of small objects
            round_id = _solve_and_store(
                engine, settings=settings, actor=actor, params=params, progress=progress
            )
        if on_stored is not None:
            on_stored(round_id)
        if commit:
            progress("commit", 0, None)
            _commit_or_cancel(engine, settings=settings, actor=actor, round_id=round_id)
    return round_id


def _solve_and_store(
    engine: Engine, *, settings: Settings, actor: str, params: RoundParams, progress: Progress
) -> int:
    progress("pool", 0, None)
    now = utcnow()
    with session_scope(engine) as session:
        branches = list(session.exec(select(Branch).order_by(col(Branch.id))))
        lapsed_before = followup_rule(settings).cutoff(now)
        pool = load_pool(session, lapsed_before=lapsed_before)
        capacities = remaining_capacity(session, lapsed_before=lapsed_before)
        objective = objective_spec(session, params.objective)
        recent: list[LeadSpec] = []
        if params.reserve_for_arrivals is not None:
            recent = recent_arrivals(session, now=now, window_days=settings.reserve_window_days)
    core_params = AllocationParams(
        balance_weight=params.balance_weight, max_distance_km=params.max_distance_km
    )
    instance = build_instance(
        branches=branches, capacities=capacities, pool=pool, params=core_params,
        objective=objective,
    )  # fmt: skip
    forecast = forecast_for(
        params.reserve_for_arrivals, recent=recent, branches=instance.branches,
        customers=len(instance.leads), settings=settings,
    )  # fmt: skip
    instance = replace(instance, forecast=forecast)
    progress("solve", 0, None)
    solved = _solved(instance, params=params, settings=settings, progress=progress)
    progress("store", 0, len(solved.outcomes))
    customers = {lead.id: lead.customer_id for lead in pool}
    with session_scope(engine) as session:
        return _store(
            session, actor=actor, params=params, solved=solved, instance=snapshot(instance),
            customers=customers, progress=progress,
        )  # fmt: skip


def _solved(
    instance: Instance, *, params: RoundParams, settings: Settings, progress: Progress
) -> UnreportedPool:
    try:
        return solve_unreported(
            instance,
            time_limit_s=min(params.time_limit_s, settings.round_time_limit_seconds),
            baseline_max_leads=settings.round_baseline_max_leads,
            iterations=_IterationCounter(progress),
        )
    except InvalidProblemError as exc:
        if exc.field not in OBJECTIVE_FIELDS:
            raise
        raise InvalidInput(message("round.objective_out_of_range")) from exc


class _IterationCounter:
    """The solver says one line per pricing iteration: progress counts them."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.count = 0

    def __call__(self, _line: str) -> None:
        self.count += 1
        self.progress("solve", self.count, None)


def commit_round(
    engine: Engine, *, settings: Settings, actor: str, round_id: int, progress: Progress = quiet
) -> None:
    """Commit a preview; one that can never commit any more is cancelled, and says why."""
    with round_lock(engine, actor=actor):
        progress("commit", 0, None)
        _commit_or_cancel(engine, settings=settings, actor=actor, round_id=round_id)


def _commit_or_cancel(engine: Engine, *, settings: Settings, actor: str, round_id: int) -> None:
    try:
        with session_scope(engine) as session:
            committing.commit(session, round_id=round_id, actor=actor, settings=settings)
    except StalePreview as exc:
        with session_scope(engine) as session:
            cancel_round(session, actor=actor, round_id=round_id, why=exc.message)
        raise StalePreview(message("round.preview_cancelled", why=(exc.why,))) from exc


def cancel_round(session: Session, *, actor: str, round_id: int, why: str | None = None) -> None:
    allocation_round = get_round_row(session, round_id)
    if allocation_round.status in ("committed", "cancelled"):
        raise Conflict(
            message("round.not_cancellable", round=round_id, round_status=allocation_round.status)
        )
    allocation_round.status = "cancelled"
    session.add(allocation_round)
    audit.record(
        session,
        actor=actor,
        action="round.cancel",
        entity_type="round",
        entity_id=round_id,
        detail={"reason": why} if why else None,
    )


def get_round_row(session: Session, round_id: int) -> AllocationRound:
    allocation_round = session.get(AllocationRound, round_id)
    if allocation_round is None:
        raise NotFound(f"round {round_id} not found")
    return allocation_round


def _store(
    session: Session,
    *,
    actor: str,
    params: RoundParams,
    solved: UnreportedPool,
    instance: dict[str, object],
    customers: dict[int, int],
    progress: Progress,
) -> int:
    plan = solved.plan
    assigned = sum(o.branch_id is not None for o in solved.outcomes)
    allocation_round = AllocationRound(
        status="solved",
        balance_weight=params.balance_weight,
        max_distance_km=params.max_distance_km,
        solver_status=plan.status,
        # Counted in leads, followers included, so that assigned + unassigned = pool.
        pool_size=len(solved.outcomes),
        assigned=assigned,
        unassigned=len(solved.outcomes) - assigned,
        objective=plan.objective,
        lower_bound=plan.lower_bound,
        gap=plan.gap,
        solve_seconds=plan.solve_seconds,
        instance=json.dumps(instance),
        created_by=actor,
    )
    session.add(allocation_round)
    session.flush()
    assert allocation_round.id is not None
    # The report (shadow prices, figures) is worked out in a thread beside the storing, so
    # that its numpy work and the database's COPY share the two cores instead of taking
    # turns. 1.3M leads: report 2.8-3.1 s and storing 6.7-7.8 s in turn, 9.3 s side by side
    # (the GIL leaves little more: bench/RESULTS.md, session 18).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="round-report") as beside:
        reported = beside.submit(solved.report)
        store_assignments(
            session, round_id=allocation_round.id, outcomes=solved.outcomes,
            customers=customers, progress=progress,
        )  # fmt: skip
        report = reported.result()
    allocation_round.report = json.dumps(report, ensure_ascii=False)
    session.add(allocation_round)
    refresh_statistics(session, "round_assignment")
    branch_ids = instance["branch_ids"]
    assert isinstance(branch_ids, list)
    store_prices(session, round_id=allocation_round.id, plan=plan, branch_ids=branch_ids)
    audit.record(
        session,
        actor=actor,
        action="round.solve",
        entity_type="round",
        entity_id=allocation_round.id,
        detail={
            "pool": len(solved.outcomes),
            "assigned": plan.assigned,
            "status": plan.status,
            "gap": plan.gap,
            **_room_kept(report),
        },
    )
    return allocation_round.id


def _room_kept(report: dict[str, object]) -> dict[str, object]:
    reserve = report.get("reserve")
    return {"kept_for_arrivals": reserve["kept"]} if isinstance(reserve, dict) else {}
