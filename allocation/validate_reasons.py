"""Part of the validator: is each unassigned lead's reason true? (recomputed from the data)"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from allocation.geo import haversine_km_np
from allocation.model import AllocationProblem, Reason, reason_code

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
CHUNK = 4096


def false_reasons(
    *, problem: AllocationProblem, reason: NDArray[np.int8], branch: IntArray, room: FloatArray
) -> IntArray:
    """Indices of unassigned leads whose stated reason does not hold."""
    unassigned = branch < 0
    wrong = np.zeros(problem.leads.size, np.bool_)
    located = problem.leads.located
    claims = {r: unassigned & (reason == reason_code(r)) for r in Reason}
    wrong |= (
        claims[Reason.NO_LOCATION]
        & located
        & (problem.pairs is None or problem.params.max_distance_km is not None)
    )
    if problem.pairs is None:  # contract §4.1: an unlocated lead is `no_location`, nothing else
        wrong |= unassigned & ~located & (reason != reason_code(Reason.NO_LOCATION))
    options = _option_flags(problem=problem, room=room, claimed=unassigned & (reason > 0))
    eligible, near, free = options
    wrong |= claims[Reason.NO_ELIGIBLE_BRANCH] & eligible & (located | (problem.pairs is not None))
    wrong |= claims[Reason.BEYOND_MAX_DISTANCE] & (near | ~eligible)
    wrong |= claims[Reason.CAPACITY_EXHAUSTED] & free
    return np.flatnonzero(wrong)


def _option_flags(
    *, problem: AllocationProblem, room: FloatArray, claimed: BoolArray
) -> tuple[BoolArray, BoolArray, BoolArray]:
    """Per lead: has an eligible branch; has one within the distance limit; has one with room."""
    if problem.pairs is not None:
        return _pair_flags(problem=problem, room=room, claimed=claimed)
    n = problem.leads.size
    eligible, near, free = (np.zeros(n, np.bool_) for _ in range(3))
    serves = problem.eligible_matrix()
    leads, branches = problem.leads, problem.branches
    idx = np.flatnonzero(claimed & leads.located)
    limit = problem.params.max_distance_km
    for lo in range(0, len(idx), CHUNK):
        i = idx[lo : lo + CHUNK]
        ok = serves[leads.tier[i]]
        dist = haversine_km_np(
            leads.lat[i, None], leads.lon[i, None], branches.lat[None, :], branches.lon[None, :]
        )
        within = ok & (dist <= limit) if limit is not None else ok
        eligible[i] = ok.any(axis=1)
        near[i] = within.any(axis=1)
        free[i] = (within & (room[None, :] >= 1)).any(axis=1)
    return eligible, near, free


def _pair_flags(
    *, problem: AllocationProblem, room: FloatArray, claimed: BoolArray
) -> tuple[BoolArray, BoolArray, BoolArray]:
    pairs = problem.pairs
    assert pairs is not None
    leads, branches = problem.leads, problem.branches
    n = leads.size
    k = np.flatnonzero(claimed[pairs.lead])
    lead, j = pairs.lead[k], pairs.branch[k]
    ok = branches.active[j] & branches.serves[j, leads.tier[lead]]
    limit = problem.params.max_distance_km
    within = ok.copy()
    if limit is not None:
        dist = haversine_km_np(leads.lat[lead], leads.lon[lead], branches.lat[j], branches.lon[j])
        within &= dist <= limit  # NaN (no location) compares False
    fits = within & (room[j] >= pairs.workload[k])
    flags = []
    for mask in (ok, within, fits):
        flag = np.zeros(n, np.bool_)
        flag[lead[mask]] = True
        flags.append(flag)
    return flags[0], flags[1], flags[2]
