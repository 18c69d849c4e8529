"""Pair mode with workloads > 1 goes through CP-SAT and reaches published GAP optima."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from allocation.gap_instances import parse_gap
from allocation.model import AllocationParams, BranchSpec, LeadSpec, PairSpec, build_problem
from allocation.solve import solve
from allocation.validate import validate_plan

GAP = Path("/work/shared/benchmarks/gap")


def _optimum(name: str) -> int:
    with (GAP / "optima.csv").open(encoding="utf-8") as handle:
        return next(int(r["Optimum"]) for r in csv.DictReader(handle) if r["Path"] == name)


@pytest.mark.skipif(not GAP.exists(), reason="shared GAP benchmark files not present")
@pytest.mark.parametrize("name", ["cattrysse1994/gap1-0", "cattrysse1994/gap2-3"])
def test_published_gap_instances_reach_their_optimum(name: str) -> None:
    inst = parse_gap((GAP / name).read_text(), source=name)
    branches = [
        BranchSpec(
            code=f"A{i}", name=f"agent {i}", lat=30.0, lon=120.0, capacity=inst.capacities[i]
        )
        for i in range(inst.n_agents)
    ]
    leads = [LeadSpec(external_id=f"J{j}") for j in range(inst.n_jobs)]
    pairs = [
        PairSpec(external_id=f"J{j}", branch_code=f"A{i}", cost=float(c), workload=w)
        for j, i, c, w in inst.pairs()
    ]
    p = build_problem(branches=branches, leads=leads, pairs=pairs, params=AllocationParams())
    plan = solve(p, time_limit_s=120)  # generous: proven well before; must not flip under load
    assert validate_plan(problem=p, plan=plan).ok
    assert plan.assigned == inst.n_jobs
    assert plan.objective == _optimum(name)
    assert plan.status == "optimal"
    assert plan.lower_bound == pytest.approx(plan.objective)


def test_a_gap_search_stopped_early_still_gives_a_valid_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from allocation.solvers import gap_cpsat

    def nothing_found(**kwargs: object) -> gap_cpsat.GapResult:
        n = kwargs["n_leads"]
        assert isinstance(n, int)
        return gap_cpsat.GapResult(
            assignment=[-1] * n, objective=0, bound=1e9, status="feasible", solve_seconds=0.0
        )

    monkeypatch.setattr(gap_cpsat, "solve_gap", nothing_found)
    branches = [BranchSpec(code="A", name="a", lat=30.0, lon=120.0, capacity=3)]
    leads = [LeadSpec(external_id=f"J{j}") for j in range(3)]
    pairs = [
        PairSpec(external_id=f"J{j}", branch_code="A", cost=1.0 + j, workload=2) for j in range(3)
    ]
    p = build_problem(branches=branches, leads=leads, pairs=pairs, params=AllocationParams())
    plan = solve(p, time_limit_s=1)
    assert validate_plan(problem=p, plan=plan).ok
    assert plan.assigned == 1
    assert plan.lower_bound is None
    assert plan.status == "feasible"
