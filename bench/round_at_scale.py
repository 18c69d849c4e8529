"""Benchmark: import leads, then run and commit one allocation round, on the real database.

    python -m bench.round_at_scale --leads 1300000 --branches 300 \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_round_bench

Prints the time of each phase (import, pool and capacities, solve, store, commit) and the
round's figures. The target (contract §8) is import + round + commit under 3 minutes on PostgreSQL.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import time
from contextlib import nullcontext
from pathlib import Path

from allocation.locality import prefecture_cities
from app.branches.importer import import_branches
from app.config import Settings
from app.db import make_engine, session_scope
from app.demo import BRANCH_HEADER, LEAD_HEADER, branch_rows, lead_rows
from app.imports.parallel import workers_for
from app.leads.importer import import_leads
from app.migrations import upgrade
from app.rounds.queries import read_round
from app.rounds.service import RoundParams, commit_round, run_round
from bench.import_leads import fresh_database
from bench.statement_times import slow_statements


def write_inputs(folder: Path, *, leads: int, branches: int) -> tuple[Path, Path]:
    rng = random.Random(11)
    cities = prefecture_cities()
    branch_csv, lead_csv = folder / f"branches-{branches}.csv", folder / f"leads-{leads}.csv"
    with branch_csv.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(BRANCH_HEADER)
        writer.writerows(branch_rows(cities, count=branches, total_leads=leads, rng=rng))
    if not lead_csv.exists():
        with lead_csv.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(LEAD_HEADER)
            writer.writerows(lead_rows(cities, count=leads, rng=rng))
    return branch_csv, lead_csv


def timed(label: str, action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_300_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/o2o_round_bench"
    )
    parser.add_argument("--folder", type=Path, default=Path("/tmp"))
    parser.add_argument(
        "--slow-sql", type=float, default=None, metavar="SECONDS",
        help="also print every SQL statement that takes at least this long",
    )  # fmt: skip
    args = parser.parse_args()
    started = time.perf_counter()
    round_id = build_world(
        args.database_url, leads=args.leads, branches=args.branches, folder=args.folder,
        slow_sql=args.slow_sql,
    )  # fmt: skip
    total = time.perf_counter() - started
    settings = Settings(database_url=args.database_url, _env_file=None)  # type: ignore[call-arg]
    with session_scope(make_engine(settings)) as session:
        r = read_round(session, round_id=round_id)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"leads={args.leads} branches={args.branches} assigned={r.assigned} unassigned={r.unassigned} "
        f"gap={r.gap} solve_seconds={r.solve_seconds:.1f} total_seconds={total:.1f} peak_rss_mb={peak:.0f}"
    )


def build_world(
    database_url: str, *, leads: int, branches: int, folder: Path, slow_sql: float | None = None
) -> int:
    """A fresh database with the branches, the leads and one committed round; its id.

    Also used by bench/staff_load.py. Drops and recreates the database first.
    """
    branch_csv, lead_csv = write_inputs(folder, leads=leads, branches=branches)
    fresh_database(database_url)
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings)
    upgrade(engine)
    with session_scope(engine) as session:
        import_branches(session, path=branch_csv, actor="bench")
    with slow_statements(engine, seconds=slow_sql) if slow_sql else nullcontext():
        round_id = _import_round_commit(engine, settings, lead_csv)
    engine.dispose()
    return round_id


def _import_round_commit(engine, settings: Settings, lead_csv: Path) -> int:  # type: ignore[no-untyped-def]
    timed("import leads", lambda: _import(engine, settings, lead_csv))
    round_id = timed(
        "round (pool, solve, validate, store)",
        lambda: run_round(
            engine, settings=settings, actor="bench", params=RoundParams(), commit=False
        ),
    )
    timed(
        "commit (assignments + ownership, one transaction)",
        lambda: commit_round(engine, settings=settings, actor="bench", round_id=round_id),
    )
    return int(round_id)


def _import(engine, settings: Settings, path: Path) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:  # with the workers `o2o import leads` would use
        import_leads(session, path=path, actor="bench", secret=settings.customer_key, channel="app",
                     parse_workers=workers_for(path))  # fmt: skip


if __name__ == "__main__":
    main()
