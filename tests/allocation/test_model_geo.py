"""Problem model validation and distances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.errors import DuplicateKeyError, InvalidValueError, UnknownReferenceError
from allocation.geo import (
    EARTH_RADIUS_KM,
    haversine_km,
    haversine_km_np,
    haversine_matrix_km,
    paired_metres,
    unit_vectors,
)
from allocation.model import AllocationParams, PairSpec
from tests.allocation.factories import branch, lead, problem


def test_haversine_uses_the_mean_earth_radius() -> None:
    assert EARTH_RADIUS_KM == 6371.0088
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * 6371.0088)
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067.3, abs=0.5)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(-89, 89), st.floats(-180, 180), st.floats(-89, 89), st.floats(-180, 180))
def test_the_three_distance_forms_agree(a: float, b: float, c: float, d: float) -> None:
    scalar = haversine_km(a, b, c, d)
    vector = float(haversine_km_np(np.array([a]), np.array([b]), np.array([c]), np.array([d]))[0])
    units = (
        float(
            paired_metres(
                unit_vectors(np.array([a]), np.array([b])),
                unit_vectors(np.array([c]), np.array([d])),
            )[0]
        )
        / 1000
    )
    assert vector == pytest.approx(scalar, abs=1e-9)
    assert units == pytest.approx(scalar, abs=1e-5)  # within a centimetre


def test_a_problem_rejects_bad_data_with_named_errors() -> None:
    ok_branch, ok_lead = branch("B0", 30, 120, 1), lead("L0", 30, 120)
    with pytest.raises(DuplicateKeyError):
        problem([ok_branch, branch("B0", 31, 121, 1)], [ok_lead])
    with pytest.raises(DuplicateKeyError):
        problem([ok_branch], [ok_lead, lead("L0", 31, 121)])
    with pytest.raises(InvalidValueError):
        problem([branch("B 0", 30, 120, 1)], [ok_lead])
    with pytest.raises(InvalidValueError):
        problem([branch("B0", 95, 120, 1)], [ok_lead])
    with pytest.raises(InvalidValueError):
        problem([branch("B0", 30, 120, -1)], [ok_lead])
    with pytest.raises(InvalidValueError):
        problem([ok_branch], [lead("L1", 30, None)])
    with pytest.raises(UnknownReferenceError):
        problem([ok_branch], [ok_lead], pairs=[PairSpec("L9", "B0", 1.0)])
    with pytest.raises(InvalidValueError):
        problem([ok_branch], [ok_lead], pairs=[PairSpec("L0", "B0", 1.0, workload=0)])
    with pytest.raises(InvalidValueError):
        problem([ok_branch], [ok_lead], pairs=[PairSpec("L0", "B0", -1.0)])
    with pytest.raises(DuplicateKeyError):
        problem([ok_branch], [ok_lead], pairs=[PairSpec("L0", "B0", 1.0)] * 2)
    with pytest.raises(InvalidValueError):
        AllocationParams(balance_weight=-1)
    with pytest.raises(InvalidValueError):
        AllocationParams(max_distance_km=float("nan"))


def test_problem_columns_are_read_only() -> None:
    p = problem([branch("B0", 30, 120, 1)], [lead("L0", 30, 120)])
    with pytest.raises(ValueError, match="read-only"):
        p.branches.capacity[0] = 5


def test_the_in_place_distance_matrix_gives_the_very_same_bits() -> None:
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-89, 89, 40), rng.uniform(-180, 180, 40)
    lat[:3], lon[:3] = 0.0, (0.0, 180.0, -180.0)  # antipodes and the date line
    blat, blon = np.r_[lat[:5], rng.uniform(-89, 89, 7)], np.r_[lon[:5], rng.uniform(-180, 180, 7)]
    expected = haversine_km_np(lat[:, None], lon[:, None], blat[None, :], blon[None, :])
    assert np.array_equal(haversine_matrix_km(lat, lon, blat, blon), expected)
