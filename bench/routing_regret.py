"""Regret of routing between rounds (issue 16.2): a day of arrivals routed one by one at the
last round's branch prices, against one full re-solve of the round's leads and the arrivals.

In memory, on the allocation core (no database, no HTTP): the base round is solved exactly
(its `Plan.branch_price_km` are the prices a committed round stores), each arrival then goes
to the first branch of `allocation.routing.preference` with room left, in arrival order (what
`app/routing/service.py` does per intake). The re-solve places base and arrivals together on
the same capacities. Routing at price 0 (the nearest branch with room) is shown beside it.

`--reserve`: the base round is also solved with a forecast of the arrivals (issue 16.2,
allocation.forecast): `--forecast-scale` x arrivals leads drawn from the same generator law
with another seed (`bench.generate.sample_leads`), never the arrivals themselves; the real
arrivals are then routed into the room it kept, at its prices. The cost of keeping room is
printed too: base leads the reserve left out or sent farther, and their extra km.

    python bench/routing_regret.py --base 200000 --arrivals 10000 --branches 300 --seed 1
    python bench/routing_regret.py --base 200000 --arrivals 10000 --reserve --forecast-scale 0.5
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import numpy as np

from allocation.forecast import Reserved, real_part
from allocation.model import (
    AllocationParams,
    AllocationProblem,
    BranchSpec,
    LeadSpec,
    build_problem,
)
from allocation.plan import Plan
from allocation.routing import Branches, first_with_room, preference
from allocation.solve import solve
from bench.generate import Instance, generate, sample_leads


@dataclass(frozen=True)
class Routed:
    km: float
    placed: int
    first_choice: int  # placed at the branch the prices rank first (it had room)
    seconds: float


def problem_of(
    inst: Instance, leads: np.ndarray, *, params: AllocationParams, forecast: Instance | None = None
) -> AllocationProblem:
    branches = [
        BranchSpec(code=code, name=code, lat=float(inst.branch_lat[j]),
                   lon=float(inst.branch_lon[j]), capacity=int(inst.capacity[j]),
                   tiers=frozenset(t for t in inst.branch_tiers[j].split("|") if t),
                   region_code=inst.branch_region[j])
        for j, code in enumerate(inst.branch_code)
    ]  # fmt: skip
    specs = lead_specs(inst, leads, prefix="L")
    phantoms = () if forecast is None else lead_specs(
        forecast, np.arange(len(forecast.lead_lat)), prefix="F")  # fmt: skip
    return build_problem(branches=branches, leads=specs, params=params, forecast=phantoms)


def lead_specs(inst: Instance, leads: np.ndarray, *, prefix: str) -> list[LeadSpec]:
    tiers = inst.lead_tier or ["mass"] * len(inst.lead_lat)
    return [
        LeadSpec(external_id=f"{prefix}{i}", lat=float(inst.lead_lat[i]),
                 lon=float(inst.lead_lon[i]), tier=tiers[i], region_code=inst.lead_region[i])
        for i in leads.tolist()
    ]  # fmt: skip


def route_arrivals(
    *, base: AllocationProblem, plan: Plan, arrivals: AllocationProblem, prices: np.ndarray
) -> Routed:
    """Each arrival in turn to its first preferred branch with room (the service's rule)."""
    started = time.perf_counter()
    room = base.branches.capacity - plan.loads(problem=base)
    columns = Branches(lat=base.branches.lat, lon=base.branches.lon, price_km=prices)
    eligible = arrivals.eligible_matrix()
    limit = base.params.max_distance_km
    km, placed, first_choice = 0.0, 0, 0
    lat, lon, tier = arrivals.leads.lat.tolist(), arrivals.leads.lon.tolist(), arrivals.leads.tier
    for i in range(arrivals.leads.size):
        preferred = preference(lat=lat[i], lon=lon[i], branches=columns,
                               eligible=eligible[tier[i]], max_distance_km=limit)  # fmt: skip
        found = first_with_room(preferred, room)
        if found is not None:
            first_choice += found[0] == preferred.order[0]
            room[found[0]] -= 1
            km += found[1]
            placed += 1
    return Routed(km=km, placed=placed, first_choice=first_choice,
                  seconds=time.perf_counter() - started)  # fmt: skip


def reserve_round(
    *, inst: Instance, base_ids: np.ndarray, params: AllocationParams, args: argparse.Namespace
) -> Reserved:
    """The base round solved with a forecast of the day's arrivals (another sample, same law)."""
    size = round(args.forecast_scale * args.arrivals)
    forecast = sample_leads(n_leads=size, seed=args.seed, sample_seed=args.forecast_seed,
                            tiers=args.tiers)  # fmt: skip
    problem = problem_of(inst, base_ids, params=params, forecast=forecast)
    started = time.perf_counter()
    plan = solve(problem, time_limit_s=args.time_limit)
    reserved = real_part(problem=problem, plan=plan)
    print(f"base round with a forecast of {size} arrivals (seed {args.forecast_seed}): "
          f"{plan.status}, gap {plan.gap}, {reserved.total_kept} places kept, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    return reserved


def keeping_cost(*, plain: Plan, reserved: Reserved) -> str:
    """What keeping room cost the base round's customers."""
    kept = reserved.plan
    left_out = int(np.count_nonzero((plain.branch >= 0) & (kept.branch < 0)))
    both = (plain.branch >= 0) & (kept.branch >= 0)
    farther = both & (kept.distance_km > plain.distance_km + 1e-6)
    extra = float(np.nansum(kept.distance_km[farther] - plain.distance_km[farther]))
    return (f"cost of keeping room: {left_out} base leads left unassigned, "
            f"{int(np.count_nonzero(farther))} sent farther (+{extra:,.1f} km, "
            f"{kept.objective - plain.objective:+,.1f} km on the base round in all)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=200_000, help="leads of the committed round")
    parser.add_argument("--arrivals", type=int, default=10_000, help="leads arriving after it")
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--capacity-ratio", type=float, default=1.1,
                        help="total capacity / (base + arrivals)")  # fmt: skip
    parser.add_argument("--tiers", action="store_true", help="every 4th branch serves no hnw")
    parser.add_argument("--balance-weight", type=float, default=0.0)
    parser.add_argument("--max-distance-km", type=float, default=None)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument(
        "--reserve",
        action="store_true",
        help="also solve the base round with a forecast of the arrivals",
    )
    parser.add_argument(
        "--forecast-scale",
        type=float,
        default=1.0,
        help="forecast size / real arrivals (--reserve)",
    )
    parser.add_argument(
        "--forecast-seed",
        type=int,
        default=None,
        help="the forecast's sample seed (default: seed + 1000)",
    )
    args = parser.parse_args()
    if args.forecast_seed is None:
        args.forecast_seed = args.seed + 1000
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    total = args.base + args.arrivals
    inst = generate(n_leads=total, n_branches=args.branches, seed=args.seed,
                    capacity_ratio=args.capacity_ratio, tiers=args.tiers)  # fmt: skip
    order = np.random.default_rng(args.seed + 1).permutation(total)  # arrival order: random
    base_ids, arrival_ids = np.sort(order[: args.base]), order[args.base :]
    params = AllocationParams(balance_weight=args.balance_weight,
                              max_distance_km=args.max_distance_km)  # fmt: skip
    base = problem_of(inst, base_ids, params=params)
    arrivals = problem_of(inst, arrival_ids, params=params)
    started = time.perf_counter()
    plan = solve(base, time_limit_s=args.time_limit)
    print(f"base round: {base.leads.size} leads, {plan.assigned} assigned, {plan.status}, "
          f"gap {plan.gap}, {plan.objective:,.1f} km, {time.perf_counter() - started:.1f} s")  # fmt: skip
    if plan.branch_price_km is None:
        raise SystemExit("the base round has no exact prices (not proven optimal): raise the limit")
    priced = route_arrivals(base=base, plan=plan, arrivals=arrivals, prices=plan.branch_price_km)
    nearest = route_arrivals(base=base, plan=plan, arrivals=arrivals,
                             prices=np.zeros(base.branches.size))  # fmt: skip
    runs = [("at the round's prices", plan, priced), ("at price 0 (nearest)", plan, nearest)]
    if args.reserve:
        reserved = reserve_round(inst=inst, base_ids=base_ids, params=params, args=args)
        if reserved.plan.branch_price_km is None:
            raise SystemExit("the reserve round has no exact prices: raise the limit")
        routed = route_arrivals(base=base, plan=reserved.plan, arrivals=arrivals,
                                prices=reserved.plan.branch_price_km)  # fmt: skip
        runs.append((f"into the room kept (forecast x{args.forecast_scale:g})", reserved.plan,
                     routed))  # fmt: skip
        print(keeping_cost(plain=plan, reserved=reserved))
    started = time.perf_counter()
    both = problem_of(inst, np.sort(order), params=params)
    resolved = solve(both, time_limit_s=args.time_limit)
    print(f"re-solve: {both.leads.size} leads, {resolved.assigned} assigned, {resolved.status}, "
          f"gap {resolved.gap}, {resolved.objective:,.1f} km, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    day = resolved.objective - plan.objective  # what the arrivals cost the re-solve
    for name, round_plan, routed in runs:
        km = round_plan.objective + routed.km
        print(f"routed {name}: {routed.placed}/{arrivals.leads.size} placed, base round "
              f"{round_plan.assigned} (re-solve {resolved.assigned} in all; "
              f"{routed.first_choice} at their "
              f"first-ranked branch, the others' was full), arrivals {routed.km:,.1f} km "
              f"({routed.seconds / max(1, arrivals.leads.size) * 1e6:.0f} us each); "
              f"total {km:,.1f} km = {100 * (km / resolved.objective - 1):+.3f}% vs re-solve; "
              f"arrivals' km {100 * (routed.km / day - 1):+.2f}% vs their re-solve cost "
              f"{day:,.1f} km")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
