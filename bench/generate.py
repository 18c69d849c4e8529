"""Realistic China-wide allocation instances: leads clustered around prefecture-level cities.

Cities (codes and centroids) come from `allocation.locality.prefecture_cities()` (cpca data);
nothing about cities is hard-coded. City sizes follow a seeded Zipf law over a seeded shuffle of
the cities; leads scatter around their city centre (normal, spread growing with city size);
branches go to cities in proportion to size (at least one per chosen city), and capacities sum
to `capacity_ratio` x leads, split by city demand. Usage:

    python bench/generate.py --leads 1300000 --branches 300 --out /tmp/inst --seed 1
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from allocation.locality import prefecture_cities

TIERS = ("mass", "affluent", "hnw")
TIER_SHARE = (0.85, 0.12, 0.03)


@dataclass(frozen=True)
class Instance:
    branch_code: list[str]
    branch_lat: NDArray[np.float64]
    branch_lon: NDArray[np.float64]
    branch_region: list[str]
    capacity: NDArray[np.int64]
    branch_tiers: list[str]
    lead_lat: NDArray[np.float64]
    lead_lon: NDArray[np.float64]
    lead_region: list[str]
    lead_tier: list[str]


def generate(
    *,
    n_leads: int,
    n_branches: int,
    seed: int,
    capacity_ratio: float = 1.1,
    tiers: bool = False,
    under_served: int = 0,
) -> Instance:
    """`under_served` of the 30 largest cities get a third of their share of capacity (the
    rest goes to the other cities): their leads must travel, the hard case for the solver."""
    rng = np.random.default_rng(seed)
    weight, lat0, lon0, codes, spread = _cities(rng)
    city, lead_lat, lead_lon = _lead_points(rng, weight=weight, lat0=lat0, lon0=lon0,
                                            spread=spread, n_leads=n_leads)  # fmt: skip
    b_city = _branch_cities(rng=rng, weight=weight, n_branches=n_branches)
    b_lat = lat0[b_city] + rng.normal(0, 0.6, n_branches) * spread[b_city]
    b_lon = lon0[b_city] + rng.normal(0, 0.6, n_branches) * spread[b_city] * 1.2
    capacity = _capacities(
        rng=rng, weight=weight, b_city=b_city, total=int(np.ceil(capacity_ratio * n_leads)),
        short=rng.choice(30, size=under_served, replace=False) if under_served else [],
    )  # fmt: skip
    lead_tier = rng.choice(len(TIERS), size=n_leads, p=TIER_SHARE) if tiers else None
    return Instance(
        branch_code=[f"B{j:04d}" for j in range(n_branches)],
        branch_lat=np.round(b_lat, 6),
        branch_lon=np.round(b_lon, 6),
        branch_region=[str(codes[c]) for c in b_city],
        capacity=capacity,
        branch_tiers=[_tiers_of(j, tiers) for j in range(n_branches)],
        lead_lat=np.round(lead_lat, 6),
        lead_lon=np.round(lead_lon, 6),
        lead_region=[str(codes[c]) for c in city],
        lead_tier=[TIERS[t] for t in lead_tier] if lead_tier is not None else [],
    )


def _cities(rng: np.random.Generator) -> tuple[NDArray[np.float64], ...]:
    """The seeded world: city weights (Zipf over a shuffle), centres, codes, spreads."""
    cities = prefecture_cities()
    order = rng.permutation(len(cities))
    weight = np.asarray(1.0 / np.arange(1, len(cities) + 1) ** 1.1, np.float64)
    weight /= weight.sum()
    lat0 = np.array([cities[k].lat for k in order])
    lon0 = np.array([cities[k].lon for k in order])
    codes = np.array([cities[k].code for k in order])
    spread = 0.04 + 0.25 * np.sqrt(weight / weight[0])  # degrees; big cities sprawl
    return weight, lat0, lon0, codes, spread


def _lead_points(
    rng: np.random.Generator, *, weight: NDArray[np.float64], lat0: NDArray[np.float64],
    lon0: NDArray[np.float64], spread: NDArray[np.float64], n_leads: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    city = rng.choice(len(weight), size=n_leads, p=weight)
    lead_lat = lat0[city] + rng.normal(0, 1, n_leads) * spread[city]
    lead_lon = lon0[city] + rng.normal(0, 1, n_leads) * spread[city] * 1.2
    return city, lead_lat, lead_lon


def sample_leads(*, n_leads: int, seed: int, sample_seed: int, tiers: bool = False) -> Instance:
    """More leads of the world `generate(seed=seed)` builds (same cities, same law), drawn with
    their own seed: a forecast of arrivals that shares no draw with the generated leads. Only the
    lead columns are filled."""
    weight, lat0, lon0, codes, spread = _cities(np.random.default_rng(seed))
    rng = np.random.default_rng(sample_seed)
    city, lat, lon = _lead_points(rng, weight=weight, lat0=lat0, lon0=lon0, spread=spread,
                                  n_leads=n_leads)  # fmt: skip
    tier = rng.choice(len(TIERS), size=n_leads, p=TIER_SHARE) if tiers else None
    none = np.zeros(0)
    return Instance(
        branch_code=[], branch_lat=none, branch_lon=none, branch_region=[],
        capacity=np.zeros(0, np.int64), branch_tiers=[],
        lead_lat=np.round(lat, 6), lead_lon=np.round(lon, 6),
        lead_region=[str(codes[c]) for c in city],
        lead_tier=[TIERS[t] for t in tier] if tier is not None else [],
    )  # fmt: skip


def _branch_cities(
    *, rng: np.random.Generator, weight: NDArray[np.float64], n_branches: int
) -> NDArray[np.int64]:
    """Every one of the largest cities gets a branch, the rest go by size."""
    first = np.arange(min(n_branches, len(weight)) // 2)
    rest = rng.choice(len(weight), size=n_branches - len(first), p=weight)
    return np.sort(np.r_[first, rest]).astype(np.int64)


def _capacities(
    *,
    rng: np.random.Generator,
    weight: NDArray[np.float64],
    b_city: NDArray[np.int64],
    total: int,
    short: object = (),
) -> NDArray[np.int64]:
    share = weight[b_city] / np.bincount(b_city, minlength=len(weight))[b_city]
    share *= rng.uniform(0.6, 1.4, len(b_city))
    share[np.isin(b_city, np.asarray(short, dtype=np.int64))] /= 3.0
    share /= share.sum()
    return np.maximum(1, np.round(share * total)).astype(np.int64)


def _tiers_of(j: int, tiers: bool) -> str:
    if not tiers or j % 4:
        return ""
    return "mass|affluent"  # every 4th branch does not serve high-net-worth clients


def write(instance: Instance, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "BRANCHES.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "lat", "lon", "capacity", "tiers", "region_code"])
        for j, code in enumerate(instance.branch_code):
            writer.writerow(
                [
                    code,
                    f"Branch {code}",
                    instance.branch_lat[j],
                    instance.branch_lon[j],
                    int(instance.capacity[j]),
                    instance.branch_tiers[j],
                    instance.branch_region[j],
                ]
            )
    with (out / "LEADS.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write("external_id,lat,lon,region_code,tier\n")
        tiers = instance.lead_tier or ["" for _ in instance.lead_region]
        lat, lon = instance.lead_lat.tolist(), instance.lead_lon.tolist()
        handle.writelines(
            f"L{i:08d},{lat[i]},{lon[i]},{instance.lead_region[i]},{tiers[i]}\n"
            for i in range(len(lat))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, required=True)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--capacity-ratio", type=float, default=1.1)
    parser.add_argument("--tiers", action="store_true")
    parser.add_argument("--under-served", type=int, default=0, help="cities short of capacity")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write(
        generate(
            n_leads=args.leads,
            n_branches=args.branches,
            seed=args.seed,
            capacity_ratio=args.capacity_ratio,
            tiers=args.tiers,
            under_served=args.under_served,
        ),
        args.out,
    )


if __name__ == "__main__":
    main()
