"""Routing one lead between rounds at the last round's branch prices (issue 16.2).

An optimal round proves itself with branch prices (`Plan.branch_price_km`): every assigned lead
sits at a branch that minimises distance + price among the branches it may go to. A price is
what a place at that branch is worth to the leads competing for it (0 where the round left
room; inf where no place could be freed at any cost). A lead arriving after the round is sent
by the same rule: the eligible branch with room where distance + price is least, so the
arrivals of a day land where the round would have put them, without solving again.

Eligibility is the caller's (tier, active, a branch the customer gave up); the distance and the
limit are the solver's (haversine km, `max_distance_km`). Room is the caller's too: it walks the
order and takes the first branch that still has a place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import haversine_km_np
from allocation.model import Reason

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Branches:
    """The branches routing chooses from, as columns (price inf: never freed; 0: no price)."""

    lat: FloatArray
    lon: FloatArray
    price_km: FloatArray


@dataclass(frozen=True, slots=True)
class Preference:
    """Branch indices a lead may go to, best first, with their distances; empty with a reason
    when it may go nowhere (the round's reasons: no location, none eligible, too far)."""

    order: IntArray
    distance_km: FloatArray
    reason: Reason | None


def preference(
    *,
    lat: float | None,
    lon: float | None,
    branches: Branches,
    eligible: BoolArray,
    max_distance_km: float | None,
) -> Preference:
    """Eligible branches within the distance limit by distance + price, then distance, then
    index (deterministic); branches priced inf come last, nearest first."""
    none = np.zeros(0, np.int64)
    if lat is None or lon is None or math.isnan(lat) or math.isnan(lon):
        return Preference(order=none, distance_km=np.zeros(0), reason=Reason.NO_LOCATION)
    candidates = np.flatnonzero(eligible)
    if len(candidates) == 0:
        return Preference(order=none, distance_km=np.zeros(0), reason=Reason.NO_ELIGIBLE_BRANCH)
    dist = haversine_km_np(lat, lon, branches.lat[candidates], branches.lon[candidates])
    if max_distance_km is not None:
        near = dist <= max_distance_km
        if not near.any():
            return Preference(
                order=none, distance_km=np.zeros(0), reason=Reason.BEYOND_MAX_DISTANCE
            )
        candidates, dist = candidates[near], dist[near]
    price = branches.price_km[candidates]
    priced = np.isfinite(price)
    total = np.where(priced, dist + np.where(priced, price, 0.0), dist)
    order = np.lexsort((candidates, dist, total, ~priced))
    return Preference(order=candidates[order], distance_km=dist[order], reason=None)


def first_with_room(preferred: Preference, room: IntArray) -> tuple[int, float] | None:
    """(branch index, distance) of the first preferred branch with a place left, or None."""
    has_room = room[preferred.order] > 0
    if not has_room.any():
        return None
    k = int(np.argmax(has_room))
    return int(preferred.order[k]), float(preferred.distance_km[k])
