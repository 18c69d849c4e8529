"""Anytime optimizer (issue 12 item 6): a short `--time-limit` keeps the most leads assigned.

Generates an instance, solves it with the given short limit and with a long one, validates
both plans independently and prints assigned, status, objective, bound, gap and seconds.

    python -m bench.allocation_anytime --leads 60000 --branches 300 --time-limit 1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from allocation.model import AllocationParams
from allocation.solve import solve
from allocation.validate import assert_valid
from allocation_files.problem_files import load_problem
from bench.generate import generate, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=60_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--capacity-ratio", type=float, default=0.9)
    parser.add_argument("--max-distance-km", type=float, default=150.0)
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--reference-limit", type=float, default=600.0)
    args = parser.parse_args()
    instance = generate(
        n_leads=args.leads,
        n_branches=args.branches,
        seed=args.seed,
        capacity_ratio=args.capacity_ratio,
        tiers=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        write(instance, Path(tmp))
        problem = load_problem(
            branches=Path(tmp) / "BRANCHES.csv",
            leads=Path(tmp) / "LEADS.csv",
            pairs=None,
            params=AllocationParams(max_distance_km=args.max_distance_km),
        )
    for limit in (args.time_limit, args.reference_limit):
        started = time.monotonic()
        plan = solve(problem, time_limit_s=limit)
        seconds = time.monotonic() - started
        assert_valid(problem=problem, plan=plan)
        print(
            f"time_limit={limit:g}s assigned={plan.assigned} status={plan.status} "
            f"objective={plan.objective:.1f} lower_bound={plan.lower_bound} gap={plan.gap} "
            f"seconds={seconds:.2f} valid=yes notes={list(plan.notes)}"
        )


if __name__ == "__main__":
    main()
