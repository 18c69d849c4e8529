"""The value-aware objectives on the demo's own history (issue 15.4), through the round's path.

    python -m bench.value_demo --leads 20000 --branches 200 --new-leads 6000

Loads `o2o demo` into a fresh SQLite database (branches, leads, one committed round, follow-ups
with conversions, revenue through the real importer), then imports a new batch of leads that
the remaining capacity cannot all take. The pool, capacities and rates are read as a round
reads them (app.rounds.pool, app.analytics.rates); each objective's instance is solved and
validated like a round's (app.rounds.solving.solve_instance), and every plan is scored with the
rates learned from the demo's history. The demo's follow-ups are random (no branch converts
better than another), so what expected_value gains here is mostly what it believes from noise:
the synthetic benchmark (bench/value_objective.py) has a ground truth to check against.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlmodel import col, select

from allocation.locality import prefecture_cities
from allocation.model import AllocationParams
from allocation.value import OBJECTIVES, plan_totals
from app.analytics.rates import history_cells, learned_rates
from app.config import Settings
from app.db import make_engine, session_scope
from app.demo import LEAD_HEADER, lead_rows, load_demo
from app.leads.importer import import_leads
from app.migrations import upgrade
from app.ownership.deadline import followup_rule
from app.rounds.objective import RoundObjective, objective_spec
from app.rounds.pool import load_pool, remaining_capacity
from app.rounds.solving import build_instance, solve_instance
from app.tables import Branch
from app.tables.base import utcnow
from bench.import_leads import fresh_database


def new_batch(folder: Path, *, count: int, seed: int) -> Path:
    """Leads the demo has not seen (their own ids), from the demo's generator."""
    path = folder / "new_leads.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LEAD_HEADER)
        for row in lead_rows(prefecture_cities(), count=count, rng=random.Random(seed)):
            writer.writerow(["NEW-" + row[0], *row[1:]])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--branches", type=int, default=200)
    parser.add_argument("--new-leads", type=int, default=6_000)
    parser.add_argument("--price-per-km-fen", type=int, default=1000)
    parser.add_argument("--database", type=Path, default=Path("/tmp/value_demo.sqlite"))
    args = parser.parse_args()
    url = f"sqlite:///{args.database}"
    fresh_database(url)
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings)
    upgrade(engine)
    started = time.monotonic()
    load_demo(engine, settings, leads=args.leads, branches=args.branches)
    with tempfile.TemporaryDirectory() as folder, session_scope(engine) as session:
        path = new_batch(Path(folder), count=args.new_leads, seed=7)
        import_leads(session, path=path, actor="bench", secret=settings.customer_key)
    lapsed = followup_rule(settings).cutoff(utcnow())
    with session_scope(engine) as session:
        branches = list(session.exec(select(Branch).order_by(col(Branch.id))))
        pool = load_pool(session, lapsed_before=lapsed)
        capacities = remaining_capacity(session, lapsed_before=lapsed)
        cells = history_cells(session)
        specs = {
            mode: objective_spec(session, RoundObjective(mode, None, args.price_per_km_fen))
            for mode in OBJECTIVES
        }
    converted = sum(c.converted for c in cells)
    print(f"demo + new batch in {time.monotonic() - started:.0f} s: pool {len(pool)}, room "
          f"{sum(capacities.values())}, history {len(cells)} cells, {converted} conversions, "
          f"{len(learned_rates(cells))} rates; load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    instances = {
        mode: build_instance(
            branches=branches,
            capacities=capacities,
            pool=pool,
            params=AllocationParams(),
            objective=spec,
        )
        for mode, spec in specs.items()
    }
    scoring = instances["expected_value"].problem().value
    assert scoring is not None
    for mode, instance in instances.items():
        solved = solve_instance(instance, time_limit_s=120.0, baseline_max_leads=0)
        plan, problem = solved.plan, instance.problem()
        totals = plan_totals(values=scoring, branch=plan.branch)
        tiers: dict[str, int] = {}  # a returned lead's class ("hnw!B3") counts as its tier
        for t in problem.leads.tier[plan.branch >= 0].tolist():
            name = problem.tiers[t].split("!")[0]
            tiers[name] = tiers.get(name, 0) + 1
        print(json.dumps({
            "mode": mode, "status": plan.status, "gap": plan.gap,
            "solve_seconds": round(plan.solve_seconds, 2), "assigned": plan.assigned,
            "assigned_by_tier": tiers,
            "total_km": round(float(np.nansum(plan.distance_km)), 1),
            "expected_conversions": round(totals.expected_conversions, 2),
            "expected_revenue_yuan": round(totals.expected_revenue_fen / 100),
        }), flush=True)  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
