"""Benchmark: the value-aware objectives (issue 15.4) against the distance-only plan.

    python -m bench.value_objective --leads 200000 --branches 300 --capacity-ratio 0.9
    python -m bench.value_objective --leads 1300000 --modes expected_value

A China-wide instance (bench/generate.py, tiers on, capacity short of demand) gets a channel
per lead and a synthetic year of history per (branch, tier, channel): leads assigned, drawn
from "true" rates (tier base x branch skill x channel quality), conversions ~ binomial, revenue
~ lognormal per conversion. The shell's `app.analytics.rates.learned_rates` shrinks that
history into the RATES table the expected_value mode uses. Each mode is solved exactly and
validated; every plan is then scored the same ways: assigned per tier, total km, and the
expected conversions and revenue under the learned rates and under the true ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from allocation.model import AllocationParams, AllocationProblem
from allocation.plan import Plan
from allocation.solve import solve
from allocation.validate import assert_valid
from allocation.value import (
    OBJECTIVES,
    LeadValues,
    ObjectiveSpec,
    RateSpec,
    lead_values,
    plan_totals,
)
from allocation_files.problem_files import load_problem
from app.analytics.rates import HistoryCell, learned_rates
from bench.generate import generate, write

CHANNELS = ("douyin", "wechat", "baidu", "web", "offline")
CHANNEL_SHARE = (0.35, 0.25, 0.15, 0.15, 0.10)
CHANNEL_QUALITY = (0.7, 1.2, 0.9, 1.0, 1.6)
TIER_RATE = {"mass": 0.02, "affluent": 0.06, "hnw": 0.12}
TIER_REVENUE_FEN = {"mass": 300_000, "affluent": 1_500_000, "hnw": 8_000_000}
HISTORY_FACTOR = 1.0  # a year of history holds about as many leads as the round


def build(args: argparse.Namespace) -> tuple[AllocationProblem, list[str]]:
    instance = generate(n_leads=args.leads, n_branches=args.branches, seed=args.seed,
                        capacity_ratio=args.capacity_ratio, tiers=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        write(instance, Path(tmp))
        problem = load_problem(branches=Path(tmp) / "BRANCHES.csv", leads=Path(tmp) / "LEADS.csv",
                               pairs=None, params=AllocationParams())  # fmt: skip
    rng = np.random.default_rng(args.seed + 1)
    channel = rng.choice(len(CHANNELS), size=args.leads, p=CHANNEL_SHARE)
    return problem, [CHANNELS[c] for c in channel]


def true_rates(problem: AllocationProblem, seed: int) -> tuple[RateSpec, ...]:
    """The rates history is drawn from: tier base x branch skill x channel quality."""
    rng = np.random.default_rng(seed + 2)
    skill = rng.lognormal(0.0, 0.35, problem.branches.size)
    rows = []
    for j, code in enumerate(problem.branches.codes):
        for tier in problem.tiers:
            for c, channel in enumerate(CHANNELS):
                p = min(1.0, TIER_RATE[tier] * skill[j] * CHANNEL_QUALITY[c])
                rows.append(RateSpec(tier, p, TIER_REVENUE_FEN[tier], code, channel))
    return tuple(rows)


def history(
    problem: AllocationProblem, truth: tuple[RateSpec, ...], seed: int
) -> list[HistoryCell]:
    """A year of leads per cell, in proportion to the branch's capacity and the mixes."""
    rng = np.random.default_rng(seed + 3)
    tier_share = np.bincount(problem.leads.tier, minlength=len(problem.tiers)) / problem.leads.size
    share = {t: float(tier_share[k]) for k, t in enumerate(problem.tiers)}
    capacity = dict(zip(problem.branches.codes, problem.branches.capacity.tolist(), strict=True))
    cells = []
    for rate in truth:
        c = CHANNELS.index(rate.channel)
        mean = HISTORY_FACTOR * capacity[rate.branch_code] * share[rate.tier] * CHANNEL_SHARE[c]
        assigned = int(rng.poisson(mean))
        converted = int(rng.binomial(assigned, rate.conversion_rate))
        each = rng.lognormal(np.log(rate.mean_revenue_fen) - 0.5, 1.0, converted)
        cells.append(HistoryCell(rate.branch_code, rate.tier, rate.channel, assigned, converted,
                                 int(each.sum())))  # fmt: skip
    return cells


def scored(
    problem: AllocationProblem, plan: Plan, learned: LeadValues, truth: LeadValues
) -> dict[str, Any]:
    tiers = np.bincount(problem.leads.tier[plan.branch >= 0], minlength=len(problem.tiers))
    est, real = (
        plan_totals(values=learned, branch=plan.branch),
        plan_totals(values=truth, branch=plan.branch),
    )
    return {
        "assigned": plan.assigned,
        "assigned_by_tier": {t: int(tiers[k]) for k, t in enumerate(problem.tiers)},
        "total_km": round(float(np.nansum(plan.distance_km)), 1),
        "expected_conversions_learned": round(est.expected_conversions, 1),
        "expected_revenue_yuan_learned": round(est.expected_revenue_fen / 100),
        "expected_conversions_true": round(real.expected_conversions, 1),
        "expected_revenue_yuan_true": round(real.expected_revenue_fen / 100),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--capacity-ratio", type=float, default=0.9)
    parser.add_argument("--price-per-km-fen", type=int, default=1000)
    parser.add_argument("--modes", default=",".join(OBJECTIVES))
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    base, channel = build(args)
    truth_rates = true_rates(base, args.seed)
    rates = learned_rates(history(base, truth_rates, args.seed))
    tables = {}
    for name, rows in (("learned", rates), ("true", truth_rates)):
        spec = ObjectiveSpec(
            mode="expected_value", price_per_km_fen=args.price_per_km_fen, rates=rows
        )
        tables[name] = _values(base, spec, channel)
    print(f"built {args.leads} leads, {args.branches} branches, {len(rates)} learned rates in "
          f"{time.monotonic() - started:.1f} s; load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    for mode in args.modes.split(","):
        spec = ObjectiveSpec(mode=mode, price_per_km_fen=args.price_per_km_fen, rates=rates)
        problem = dataclasses.replace(base, value=_values(base, spec, channel))
        plan = solve(problem, time_limit_s=args.time_limit)
        assert_valid(problem=problem, plan=plan)
        figures = {"mode": mode, "status": plan.status, "gap": plan.gap,
                   "solve_seconds": round(plan.solve_seconds, 1), "iterations": plan.iterations}  # fmt: skip
        figures |= scored(problem, plan, tables["learned"], tables["true"])
        print(json.dumps(figures), flush=True)


def _values(
    problem: AllocationProblem, spec: ObjectiveSpec, channel: list[str]
) -> LeadValues | None:
    return lead_values(spec=spec, tiers=problem.tiers, branch_codes=problem.branches.codes,
                       lead_tier=problem.leads.tier, lead_channel=channel)  # fmt: skip


if __name__ == "__main__":
    main()
