"""Random small rounds: the optimizer vs the dense reference of the tests (count and value).

PYTHONPATH=. python bench/allocation_fuzz.py --seeds 0 500
"""

from __future__ import annotations

import argparse

import numpy as np

from allocation.model import AllocationProblem
from allocation.solve import solve
from allocation.validate import validate_plan
from tests.allocation.factories import branch, dense_flow, lead, problem

TIERS = [frozenset(), frozenset({"mass"}), frozenset({"hnw", "affluent"})]


def instance(seed: int) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    nb, nl = int(rng.integers(1, 12)), int(rng.integers(0, 300))
    span = float(rng.choice([0.05, 0.3, 1.0, 3.0]))
    branches = [
        branch(
            f"B{j}",
            30 + rng.uniform(0, span),
            120 + rng.uniform(0, span),
            int(rng.integers(0, max(2, 2 * nl // nb + 1))),
            tiers=TIERS[int(rng.integers(0, 3))],
            active=bool(rng.random() > 0.1),
        )
        for j in range(nb)
    ]
    leads = []
    for i in range(nl):
        located = rng.random() > 0.05
        lat, lon = 30 + rng.uniform(0, span), 120 + rng.uniform(0, span)
        tier = ["mass", "affluent", "hnw"][int(rng.integers(0, 3))]
        leads.append(lead(f"L{i}", lat if located else None, lon if located else None, tier))
    limit = rng.choice([0.0, 0.0, span * 30, span * 60])
    return problem(
        branches,
        leads,
        max_distance_km=float(limit) or None,
        balance_weight=float(rng.choice([0, 0, 1, 10])),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs=2, default=[0, 500])
    args = parser.parse_args()
    bad = 0
    for seed in range(*args.seeds):
        p = instance(seed)
        plan = solve(p)
        assigned, value = dense_flow(p)
        ok = (
            validate_plan(problem=p, plan=plan).ok
            and plan.assigned == assigned
            and abs(plan.total - value) <= 1e-6 * max(1, value) + 1e-3 * max(1, assigned)
        )
        if not ok:
            bad += 1
            print(f"seed {seed}: ours {plan.assigned} / {plan.total}, dense {assigned} / {value}")
    print(f"{args.seeds[1] - args.seeds[0]} rounds, {bad} mismatches")


if __name__ == "__main__":
    main()
