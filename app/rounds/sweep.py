"""Capacity sweeps on the live pool (issue 15.2): where do more places help, and how much?

The current plan (what a round would do now, as in the what-if) is re-solved once per
variation "k more places at branch X", on local processes or a Ray cluster
(`O2O_RAY_ADDRESS`, app/solve_pool.py). Nothing is written but an audit record.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from allocation.sweep import SweepPoint, capacity_steps
from app import audit
from app.config import Settings
from app.db import session_scope
from app.errors import InvalidInput
from app.rounds.scenario import Scenario
from app.rounds.whatif import current_instance, read_live
from app.solve_pool import run_variations

MAX_STEP = 1_000


@dataclass(frozen=True, slots=True)
class SweepRequest:
    branches: tuple[str, ...]  # branch codes; empty: every active branch
    steps: tuple[int, ...]  # places added, e.g. 1..20
    workers: int
    time_limit_s: float


def run_sweep(
    engine: Engine, *, settings: Settings, actor: str, request: SweepRequest
) -> dict[str, Any]:
    started = time.perf_counter()
    live = read_live(engine, settings=settings, scenario=Scenario())
    problem = current_instance(live).problem()
    codes = problem.branches.codes
    chosen = _branch_indexes(codes, problem.branches.active.tolist(), request.branches)
    if any(not 0 < k <= MAX_STEP for k in request.steps):
        raise InvalidInput(f"steps: each must be 1..{MAX_STEP}")
    variations = capacity_steps(problem, branches=chosen, steps=request.steps)
    points = run_variations(
        problem, variations, time_limit_s=request.time_limit_s, workers=request.workers,
        ray_address=settings.ray_address,
    )  # fmt: skip
    result = _result(points, codes=codes, engine="ray" if settings.ray_address else "processes")
    result["wall_seconds"] = round(time.perf_counter() - started, 3)
    with session_scope(engine) as session:
        audit.record(session, actor=actor, action="round.sweep", entity_type="round",
                     detail={"branches": len(chosen), "steps": list(request.steps),
                             "variations": len(points) - 1})  # fmt: skip
    return result


def _branch_indexes(
    codes: Sequence[str], active: Sequence[bool], wanted: Sequence[str]
) -> list[int]:
    if not wanted:
        return [j for j, on in enumerate(active) if on]
    index = {code: j for j, code in enumerate(codes)}
    unknown = [code for code in wanted if code not in index]
    if unknown:
        raise InvalidInput(f"branches: no branch has the code {', '.join(unknown)}")
    return [index[code] for code in dict.fromkeys(wanted)]


def _result(points: list[SweepPoint], *, codes: Sequence[str], engine: str) -> dict[str, Any]:
    base, rest = points[0], points[1:]
    rows = [_row(p, base, codes) for p in rest]
    return {
        "engine": engine,
        "variations": len(rest),
        "base": {"assigned": base.assigned, "total_km": round(base.total_km, 3),
                 "objective": round(base.objective, 3), "optimal": base.optimal},
        "rows": rows,
        "solve_seconds_total": round(sum(p.solve_seconds for p in points), 3),
    }  # fmt: skip


def _row(p: SweepPoint, base: SweepPoint, codes: Sequence[str]) -> dict[str, Any]:
    # km saved is comparable only when the same number of leads is assigned.
    same = p.assigned == base.assigned
    return {
        "branch": codes[p.branch], "added": p.added, "assigned": p.assigned,
        "leads_gained": p.assigned - base.assigned,
        "km_saved": round(base.total_km - p.total_km, 3) if same else None,
        "objective_saved": round(base.objective - p.objective, 3),
        "optimal": p.optimal, "solve_seconds": round(p.solve_seconds, 3),
    }  # fmt: skip


def summary_lines(result: dict[str, Any], *, top: int = 10) -> list[str]:
    """The base, then the variations that help most (leads gained, then objective saved)."""
    base = result["base"]
    lines = [
        f"base: {base['assigned']} assigned, {base['total_km']:.1f} km "
        f"({result['variations']} variations on {result['engine']}, "
        f"{result['wall_seconds']:.1f} s wall, {result['solve_seconds_total']:.1f} s solving)"
    ]
    best = sorted(result["rows"], key=lambda r: (-r["leads_gained"], -r["objective_saved"]))
    for row in best[:top]:
        lines.append(
            f"{row['branch']} +{row['added']}: {row['leads_gained']:+d} leads, "
            f"{row['objective_saved']:.1f} saved"
        )
    return lines
