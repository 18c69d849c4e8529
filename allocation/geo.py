"""Great-circle distances (contract §4.1: haversine, Earth radius 6371.0088 km).

Two forms: the textbook haversine (scalar and numpy, used by the validator and the reports) and
unit vectors, whose dot products turn "every lead to every branch" into one matrix product on
the solver's hot path. Both give the same great-circle distance (they differ by < 1 mm).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0088
EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000.0

FloatArray = NDArray[np.float64]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two WGS84 points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_km_np(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Vectorised haversine in km; arguments broadcast like numpy operands."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.subtract(lon2, lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))), np.float64)


def haversine_matrix_km(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """(len(lat1), len(lat2)) haversine km from every point 1 to every point 2.

    The same operations in the same order as `haversine_km_np` on (n, 1) x (1, b) operands, so
    the very same bits, but in place: the full-size temporaries (a dozen per call) cost ~40% of
    the time on the million-pair blocks of the shadow prices.
    """
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    return _haversine_in_place(p1, p2, np.subtract(lon2[None, :], lon1[:, None]))


def haversine_pairs_km(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Haversine km from point 1[k] to point 2[k] for each k: `haversine_matrix_km`'s operations
    in the same order, element by element, so the very same bits for the pairs it is given
    (the pruned shadow prices price a few pairs where the dense pass priced every one)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    return _haversine_in_place(p1, p2, np.subtract(lon2, lon1))


def _haversine_in_place(p1: FloatArray, p2: FloatArray, dl: FloatArray) -> FloatArray:
    """Km between latitudes p1 and p2 (radians) whose longitudes differ by dl (degrees, a
    temporary overwritten here); the operands broadcast as they are given."""
    dp = np.subtract(p2, p1)
    np.radians(dl, out=dl)
    _sin_half_squared(dp)
    _sin_half_squared(dl)
    np.multiply(np.cos(p1) * np.cos(p2), dl, out=dl)
    h = np.add(dp, dl, out=dp)
    np.sqrt(h, out=h)
    np.minimum(1.0, h, out=h)
    np.arcsin(h, out=h)
    return np.multiply(2 * EARTH_RADIUS_KM, h, out=h)


def _sin_half_squared(angle: FloatArray) -> None:
    np.divide(angle, 2, out=angle)
    np.sin(angle, out=angle)
    np.square(angle, out=angle)


def unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """(n, 3) points on the unit sphere; NaN rows stay NaN."""
    phi, lam = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=1)


def chord_to_metres(dot: FloatArray) -> FloatArray:
    """In place: dot product of unit vectors -> great-circle distance in metres.

    chord^2 = 2 - 2 cos(angle); distance = 2 R asin(chord / 2).
    """
    np.subtract(1.0, dot, out=dot)
    np.multiply(dot, 2.0, out=dot)
    np.maximum(dot, 0.0, out=dot)
    np.sqrt(dot, out=dot)
    np.multiply(dot, 0.5, out=dot)
    np.minimum(dot, 1.0, out=dot)
    np.arcsin(dot, out=dot)
    np.multiply(dot, 2.0 * EARTH_RADIUS_M, out=dot)
    return dot


def matrix_metres(rows: FloatArray, cols: FloatArray) -> FloatArray:
    """Distances in metres between every row point and every column point (unit vectors).

    The dot-product form loses precision only below ~1 m (error up to ~0.1 m at distance 0);
    callers that compare these values use tolerances of a metre.
    """
    return chord_to_metres(rows @ cols.T)


def paired_metres(a: FloatArray, b: FloatArray) -> FloatArray:
    """Distances in metres between a[k] and b[k] for each k (unit vectors).

    Uses the chord |a - b| directly, which stays exact near zero where 1 - a.b cancels.
    """
    diff = a - b
    chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    np.multiply(chord, 0.5, out=chord)
    np.minimum(chord, 1.0, out=chord)
    np.arcsin(chord, out=chord)
    np.multiply(chord, 2.0 * EARTH_RADIUS_M, out=chord)
    return np.asarray(chord, np.float64)
