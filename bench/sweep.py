"""Benchmark: a capacity sweep (issue 15.2) on local processes and on a local Ray instance.

    python -m bench.sweep --leads 100000 --branches 300 --scenarios 100 --workers 2

Generates a China-wide instance (bench/generate.py, capacity 0.95 x leads so places matter),
picks the branches with the most demand per place, and solves the base plus `--scenarios`
variations "k more places at branch j" three ways: one after another, on `--workers` local
processes, and on a throw-away local Ray instance with as many CPUs. Prints each wall time and
checks that all three gave the same answers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from allocation.model import AllocationParams, AllocationProblem
from allocation.sweep import SweepPoint, capacity_steps
from allocation_files.problem_files import load_problem
from app.solve_pool import run_variations
from bench.generate import generate, write


def build(leads: int, branches: int, seed: int) -> AllocationProblem:
    instance = generate(n_leads=leads, n_branches=branches, seed=seed, capacity_ratio=0.95,
                        tiers=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        write(instance, Path(tmp))
        return load_problem(branches=Path(tmp) / "BRANCHES.csv", leads=Path(tmp) / "LEADS.csv",
                            pairs=None, params=AllocationParams())  # fmt: skip


def timed(label: str, run):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    points: list[SweepPoint] = run()
    seconds = time.perf_counter() - started
    solving = sum(p.solve_seconds for p in points)
    print(f"{label}: wall {seconds:.1f} s, solving {solving:.1f} s", flush=True)
    return [(p.branch, p.added, p.assigned, round(p.total_km, 3)) for p in points]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--steps", type=int, default=5, help="places added: 1..steps per branch")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args()
    problem = build(args.leads, args.branches, args.seed)
    order = sorted(range(problem.branches.size), key=lambda j: problem.branches.capacity[j])
    chosen = order[: max(1, args.scenarios // args.steps)]
    variations = capacity_steps(problem, branches=chosen, steps=range(1, args.steps + 1))
    variations = variations[: args.scenarios + 1]
    print(f"leads={args.leads} branches={args.branches} scenarios={len(variations) - 1} "
          f"workers={args.workers}", flush=True)  # fmt: skip
    limit = args.time_limit
    answers = {}
    if not args.skip_sequential:
        answers["sequential"] = timed("sequential", lambda: run_variations(
            problem, variations, time_limit_s=limit, workers=1))  # fmt: skip
    answers["processes"] = timed(f"{args.workers} local processes", lambda: run_variations(
        problem, variations, time_limit_s=limit, workers=args.workers))  # fmt: skip
    import ray

    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    try:
        answers["ray"] = timed(f"local Ray, {args.workers} CPUs", lambda: run_variations(
            problem, variations, time_limit_s=limit, workers=1, ray_address="local"))  # fmt: skip
    finally:
        ray.shutdown()
    same = all(a == answers["processes"] for a in answers.values())
    print(f"same answers on every engine: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
