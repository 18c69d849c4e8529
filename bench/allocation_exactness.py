"""Exactness: the optimizer vs an independent dense min-cost flow (every lead to every branch).

The reference builds its own network from `haversine_km_np` distances (integer metres, one node
per lead, one arc per eligible lead-branch pair, unassignment at a huge penalty) and shares no
code with `allocation.solvers`. Both plans are re-costed on true coordinates by the validator.

    python bench/allocation_exactness.py --sizes 1000x50 20000x200 50000x300 --seed 1
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time

import numpy as np
from ortools.graph.python import min_cost_flow

from allocation.geo import haversine_km_np
from allocation.model import (
    AllocationParams,
    AllocationProblem,
    BranchSpec,
    LeadSpec,
    build_problem,
)
from allocation.solve import solve
from allocation.validate import validate_plan
from bench.generate import Instance, generate


def to_problem(inst: Instance, *, balance_weight: float) -> AllocationProblem:
    branches = [
        BranchSpec(
            code=c,
            name=c,
            lat=float(inst.branch_lat[j]),
            lon=float(inst.branch_lon[j]),
            capacity=int(inst.capacity[j]),
            region_code=inst.branch_region[j],
        )
        for j, c in enumerate(inst.branch_code)
    ]
    leads = [
        LeadSpec(
            external_id=f"L{i}",
            lat=float(inst.lead_lat[i]),
            lon=float(inst.lead_lon[i]),
            region_code=inst.lead_region[i],
        )
        for i in range(len(inst.lead_lat))
    ]
    return build_problem(
        branches=branches, leads=leads, params=AllocationParams(balance_weight=balance_weight)
    )


def dense_reference(p: AllocationProblem) -> tuple[np.ndarray, float]:
    """Optimal branch per lead of the dense network (balance weight 0 only) and its seconds."""
    started = time.monotonic()
    n, m = p.leads.size, p.branches.size
    flow = min_cost_flow.SimpleMinCostFlow()
    cap = p.branches.capacity
    tails, heads, costs = [], [], []
    for lo in range(0, n, 4096):
        i = np.arange(lo, min(n, lo + 4096))
        d = haversine_km_np(
            p.leads.lat[i, None],
            p.leads.lon[i, None],
            p.branches.lat[None, :],
            p.branches.lon[None, :],
        )
        tails.append(np.repeat(i, m))
        heads.append(np.tile(np.arange(m), len(i)) + n)
        costs.append(np.round(d * 1000).astype(np.int64).ravel())
    tail, head, cost = np.concatenate(tails), np.concatenate(heads), np.concatenate(costs)
    big = (m + 1) * int(cost.max() + 1) + 1
    sink = n + m
    flow.add_arcs_with_capacity_and_unit_cost(tail, head, np.ones(len(tail), np.int64), cost)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n), np.full(n, sink), np.ones(n, np.int64), np.full(n, big)
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n, n + m), np.full(m, sink), cap, np.zeros(m, np.int64)
    )
    supplies = np.r_[np.ones(n, np.int64), np.zeros(m, np.int64), -n]
    flow.set_nodes_supplies(np.arange(n + m + 1), supplies)
    assert flow.solve() == flow.OPTIMAL
    f = np.asarray(flow.flows(np.arange(len(tail))))
    branch = np.full(n, -1, np.int64)
    branch[tail[f > 0]] = head[f > 0] - n
    return branch, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["1000x50", "20000x200", "50000x300"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        "| leads x branches | ours: cost km | dense: cost km | rel. diff | proven gap "
        "| ours s | dense s |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes:
        n, m = (int(x) for x in size.split("x"))
        p = to_problem(generate(n_leads=n, n_branches=m, seed=args.seed), balance_weight=0.0)
        started = time.monotonic()
        plan = solve(p, time_limit_s=600)
        ours_s = time.monotonic() - started
        report = validate_plan(problem=p, plan=plan)
        assert report.ok, report.violations[:5]
        ref_branch, ref_s = dense_reference(p)
        ref_plan = dataclasses.replace(plan, branch=ref_branch)
        ref_cost = validate_plan(problem=p, plan=ref_plan).objective
        assert int((ref_branch >= 0).sum()) == plan.assigned
        rel = (report.objective - ref_cost) / ref_cost
        print(
            f"| {n} x {m} | {report.objective:.3f} | {ref_cost:.3f} | {rel:.2e} "
            f"| {plan.gap:.2e} | {ours_s:.2f} | {ref_s:.1f} |",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
