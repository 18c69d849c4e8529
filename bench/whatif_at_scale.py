"""Benchmark: a what-if on a pool of 1.3M leads (issue 15.1), and several side by side.

    python -m bench.whatif_at_scale --leads 1300000 --branches 300 \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_whatif_bench

Builds a fresh database with the branches and the leads (all in the pool: no round), then
times `run_whatif` with one scenario (three branches closed, 30 branches at +20% capacity, two
new branches) and `run_side_by_side` with that scenario and a second one (a 300 km limit).
Prints each run's wall time, both sides' solve times and figures. `--reuse` skips the build
when the database already holds the leads.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.branches.importer import import_branches
from app.config import Settings
from app.db import make_engine, session_scope
from app.leads.importer import import_leads
from app.migrations import upgrade
from app.rounds.scenario import Scenario, scenario_from
from app.rounds.whatif import run_side_by_side, run_whatif
from app.tables import Branch, Lead
from bench.import_leads import fresh_database
from bench.round_at_scale import write_inputs


def build(settings: Settings, *, leads: int, branches: int, folder: Path) -> None:
    branch_csv, lead_csv = write_inputs(folder, leads=leads, branches=branches)
    fresh_database(settings.database_url)
    engine = make_engine(settings)
    upgrade(engine)
    started = time.perf_counter()
    with session_scope(engine) as session:
        import_branches(session, path=branch_csv, actor="bench")
    with session_scope(engine) as session:
        import_leads(session, path=lead_csv, actor="bench", secret=settings.customer_key,
                     channel="app")  # fmt: skip
    print(f"build: {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()


def pooled_leads(settings: Settings) -> int:
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            return int(session.execute(select(func.count()).select_from(Lead)).scalar_one())
    except OperationalError:
        return 0
    finally:
        engine.dispose()


def scenarios(settings: Settings) -> list[tuple[str, Scenario]]:
    engine = make_engine(settings)
    with session_scope(engine) as session:
        rows = session.execute(select(Branch.code, Branch.capacity).order_by(Branch.id)).all()
    engine.dispose()
    codes = [code for code, _ in rows]
    grown = {code: int(capacity * 1.2) + 1 for code, capacity in rows[3:33]}
    opened = [
        {"code": "NEW-SH", "name": "上海新网点", "lat": 31.23, "lon": 121.47, "capacity": 3000},
        {"code": "NEW-CD", "name": "成都新网点", "lat": 30.66, "lon": 104.07, "capacity": 3000},
    ]
    reshaped = scenario_from({"close": codes[:3], "capacity": grown, "open": opened})
    limited = scenario_from({"max_distance_km": 300})
    return [("reshaped", reshaped), ("within 300 km", limited)]


def side_line(label: str, figures: dict[str, Any]) -> str:
    return (
        f"  {label}: pool={figures['pool']:,} assigned={figures['assigned']:,} "
        f"status={figures['status']} solve={figures['solve_seconds']:.1f} s "
        f"total_km={figures['total_km']:,.0f} p95_km={figures['p95_km']:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_300_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/o2o_whatif_bench"
    )
    parser.add_argument("--folder", type=Path, default=Path("/tmp"))
    parser.add_argument("--reuse", action="store_true", help="keep the database if it has leads")
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, _env_file=None)  # type: ignore[call-arg]
    if not (args.reuse and pooled_leads(settings) == args.leads):
        build(settings, leads=args.leads, branches=args.branches, folder=args.folder)
    named = scenarios(settings)
    engine = make_engine(settings)
    started = time.perf_counter()
    one = run_whatif(engine, settings=settings, actor="bench", scenario=named[0][1])
    print(f"what-if, one scenario: {time.perf_counter() - started:.1f} s", flush=True)
    print(side_line("current", one["current"]))
    print(side_line("reshaped", one["scenario_plan"]))
    print(f"  leads that would change branch: {one['changed_branch_total']:,}")
    started = time.perf_counter()
    both = run_side_by_side(engine, settings=settings, actor="bench", scenarios=named)
    print(f"side by side, {len(named)} scenarios: {time.perf_counter() - started:.1f} s")
    print(side_line("current", both["current"]))
    for compared in both["scenarios"]:
        print(side_line(compared["name"], compared["scenario_plan"]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
