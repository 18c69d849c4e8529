"""Who can be allocated at all, and each lead's nearest eligible branch (or cheapest pair).

Leads that cannot go anywhere get their reason here (contract §5): `no_location` (no point and a
rule needs one), `no_eligible_branch` (no active branch serves the tier, or no listed pair),
`beyond_max_distance` (eligible branches exist but all are too far). The rest are `active`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import haversine_km_np, unit_vectors
from allocation.model import ASSIGNED, AllocationProblem, PairTable, Reason, reason_code
from allocation.solvers.groups import cell_groups, with_tiers
from allocation.solvers.pricing import Geometry, best_branch

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
SCREEN_CELL_DEGREES = 0.05


@dataclass(frozen=True)
class Screened:
    """reason[i]: 0 when lead i takes part, else a reason code; nearest[i]: branch or -1.

    In pair mode `pairs` keeps only the eligible pairs.
    """

    reason: NDArray[np.int8]
    nearest: IntArray
    pairs: PairTable | None

    @property
    def active(self) -> BoolArray:
        return np.asarray(self.reason == ASSIGNED)


def screen(problem: AllocationProblem) -> Screened:
    if problem.pairs is not None:
        return _screen_pairs(problem=problem, pairs=problem.pairs)
    return _screen_locations(problem)


def geometry(problem: AllocationProblem, *, leads: IntArray) -> Geometry:
    """Unit vectors of the given leads and of all branches, with the round's rules."""
    limit = problem.params.max_distance_km
    return Geometry(
        leads=unit_vectors(problem.leads.lat[leads], problem.leads.lon[leads]),
        branches=unit_vectors(problem.branches.lat, problem.branches.lon),
        eligible=problem.eligible_matrix(),
        limit_m=np.inf if limit is None else limit * 1000.0,
    )


def _screen_locations(problem: AllocationProblem) -> Screened:
    leads = problem.leads
    reason = np.full(leads.size, ASSIGNED, np.int8)
    reason[~leads.located] = reason_code(Reason.NO_LOCATION)
    serves = np.asarray(problem.eligible_matrix().any(axis=1))[leads.tier]
    reason[leads.located & ~serves] = reason_code(Reason.NO_ELIGIBLE_BRANCH)
    nearest = np.full(leads.size, -1, np.int64)
    idx = np.flatnonzero(reason == ASSIGNED)
    if len(idx):
        near, dist_m = _nearest(problem=problem, idx=idx)
        nearest[idx] = near
        limit = problem.params.max_distance_km
        if limit is not None:
            too_far = dist_m > limit * 1000.0
            reason[idx[too_far]] = reason_code(Reason.BEYOND_MAX_DISTANCE)
    return Screened(reason=reason, nearest=nearest, pairs=None)


def _nearest(*, problem: AllocationProblem, idx: IntArray) -> tuple[IntArray, FloatArray]:
    """Nearest tier-eligible active branch of each lead, ignoring the distance limit."""
    geo = geometry(problem, leads=idx)
    geo = Geometry(leads=geo.leads, branches=geo.branches, eligible=geo.eligible, limit_m=np.inf)
    lat, lon = problem.leads.lat[idx], problem.leads.lon[idx]
    tier = problem.leads.tier[idx]
    groups = with_tiers(
        groups=cell_groups(
            units=geo.leads, lat=lat, lon=lon, tier=tier, cell_deg=SCREEN_CELL_DEGREES
        ),
        lead_tier=tier,
    )
    best = best_branch(geo=geo, groups=groups, offset=np.zeros(len(geo.branches)), cap=np.inf)
    return best.branch, best.value


def _screen_pairs(*, problem: AllocationProblem, pairs: PairTable) -> Screened:
    leads, branches = problem.leads, problem.branches
    reason = np.full(leads.size, reason_code(Reason.NO_ELIGIBLE_BRANCH), np.int8)
    ok = branches.active[pairs.branch] & branches.serves[pairs.branch, leads.tier[pairs.lead]]
    limit = problem.params.max_distance_km
    if limit is not None:
        located = leads.located[pairs.lead]
        reason[np.unique(pairs.lead[ok & ~located])] = reason_code(Reason.NO_LOCATION)
        dist = np.full(len(pairs.lead), np.inf)
        dist[located] = haversine_km_np(
            leads.lat[pairs.lead[located]],
            leads.lon[pairs.lead[located]],
            branches.lat[pairs.branch[located]],
            branches.lon[pairs.branch[located]],
        )
        reason[np.unique(pairs.lead[ok & located])] = reason_code(Reason.BEYOND_MAX_DISTANCE)
        ok &= dist <= limit
    reason[np.unique(pairs.lead[ok])] = ASSIGNED
    kept = PairTable(
        lead=pairs.lead[ok],
        branch=pairs.branch[ok],
        cost=pairs.cost[ok],
        workload=pairs.workload[ok],
    )
    return Screened(reason=reason, nearest=_cheapest(kept, n_leads=leads.size), pairs=kept)


def _cheapest(pairs: PairTable, *, n_leads: int) -> IntArray:
    """Cheapest pair's branch per lead (ties: lower branch index), -1 without pairs."""
    out = np.full(n_leads, -1, np.int64)
    order = np.lexsort((pairs.branch, pairs.cost, pairs.lead))
    lead = pairs.lead[order]
    first = np.flatnonzero(np.r_[True, lead[1:] != lead[:-1]]) if len(lead) else lead
    out[lead[first]] = pairs.branch[order][first]
    return out
