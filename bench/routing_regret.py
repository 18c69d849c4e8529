"""Regret of routing between rounds (issue 16.2): a day of arrivals routed one by one at the
last round's branch prices, against one full re-solve of the round's leads and the arrivals.

In memory, on the allocation core (no database, no HTTP): the base round is solved exactly
(its `Plan.branch_price_km` are the prices a committed round stores), each arrival then goes
to the first branch of `allocation.routing.preference` with room left, in arrival order (what
`app/routing/service.py` does per intake). The re-solve places base and arrivals together on
the same capacities. Routing at price 0 (the nearest branch with room) is shown beside it.

    python bench/routing_regret.py --base 200000 --arrivals 10000 --branches 300 --seed 1
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import numpy as np

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
from bench.generate import Instance, generate


@dataclass(frozen=True)
class Routed:
    km: float
    placed: int
    first_choice: int  # placed at the branch the prices rank first (it had room)
    seconds: float


def problem_of(inst: Instance, leads: np.ndarray, *, params: AllocationParams) -> AllocationProblem:
    tiers = inst.lead_tier or ["mass"] * len(inst.lead_lat)
    branches = [
        BranchSpec(code=code, name=code, lat=float(inst.branch_lat[j]),
                   lon=float(inst.branch_lon[j]), capacity=int(inst.capacity[j]),
                   tiers=frozenset(t for t in inst.branch_tiers[j].split("|") if t),
                   region_code=inst.branch_region[j])
        for j, code in enumerate(inst.branch_code)
    ]  # fmt: skip
    specs = [
        LeadSpec(external_id=f"L{i}", lat=float(inst.lead_lat[i]), lon=float(inst.lead_lon[i]),
                 tier=tiers[i], region_code=inst.lead_region[i])
        for i in leads.tolist()
    ]  # fmt: skip
    return build_problem(branches=branches, leads=specs, params=params)


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
    args = parser.parse_args()
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
    started = time.perf_counter()
    both = problem_of(inst, np.sort(order), params=params)
    resolved = solve(both, time_limit_s=args.time_limit)
    print(f"re-solve: {both.leads.size} leads, {resolved.assigned} assigned, {resolved.status}, "
          f"gap {resolved.gap}, {resolved.objective:,.1f} km, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    day = resolved.objective - plan.objective  # what the arrivals cost the re-solve
    for name, routed in (("at the round's prices", priced), ("at price 0 (nearest)", nearest)):
        km = plan.objective + routed.km
        print(f"routed {name}: {routed.placed}/{arrivals.leads.size} placed "
              f"(re-solve {resolved.assigned - plan.assigned}; {routed.first_choice} at their "
              f"first-ranked branch, the others' was full), arrivals {routed.km:,.1f} km "
              f"({routed.seconds / max(1, arrivals.leads.size) * 1e6:.0f} us each); "
              f"total {km:,.1f} km = {100 * (km / resolved.objective - 1):+.3f}% vs re-solve; "
              f"arrivals' km {100 * (routed.km / day - 1):+.2f}% vs their re-solve cost "
              f"{day:,.1f} km")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
