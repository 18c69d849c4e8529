"""Routing one lead at a round's branch prices (issue 16.2): the prices prove the plan, and the
order they give a new lead."""

from __future__ import annotations

import numpy as np
import pytest

from allocation.model import Reason
from allocation.routing import Branches, first_with_room, preference
from allocation.solve import solve
from tests.allocation.factories import branch, lead, problem

TIE_KM = 0.01  # the solver's arc costs are whole metres


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("balance_weight", [0.0, 3.0])
def test_every_assigned_lead_sits_where_distance_plus_price_is_least(
    seed: int, balance_weight: float
) -> None:
    rng = np.random.default_rng(seed)
    caps = rng.integers(1, 8, 12)
    specs = [
        branch(f"B{j}", 30 + rng.random(), 120 + rng.random(), int(caps[j])) for j in range(12)
    ]
    leads = [lead(f"L{i}", 30 + rng.random(), 120 + rng.random()) for i in range(60)]
    p = problem(specs, leads, balance_weight=balance_weight)
    plan = solve(p, gap_tolerance=0.0)
    assert plan.status == "optimal"
    assert plan.branch_price_km is not None
    columns = Branches(lat=p.branches.lat, lon=p.branches.lon, price_km=plan.branch_price_km)
    for i in np.flatnonzero(plan.branch >= 0).tolist():
        ranked = preference(lat=float(p.leads.lat[i]), lon=float(p.leads.lon[i]),
                            branches=columns, eligible=np.ones(12, np.bool_),
                            max_distance_km=None)  # fmt: skip
        best = ranked.distance_km[0] + plan.branch_price_km[ranked.order[0]]
        mine = plan.distance_km[i] + plan.branch_price_km[plan.branch[i]]
        assert mine <= best + TIE_KM


def test_a_branch_left_with_room_is_priced_zero_and_a_full_one_above() -> None:
    p = problem(
        [branch("W", 22.5, 114.0, 2), branch("E", 22.5, 114.2, 10)],
        [lead(f"L{i}", 22.5, 114.0) for i in range(3)],
    )
    plan = solve(p)
    assert plan.branch_price_km is not None
    west, east = plan.branch_price_km.tolist()
    assert east == 0.0
    assert west == pytest.approx(20.5, abs=0.1)  # one customer at W would travel to E


def test_the_baselines_have_no_prices() -> None:
    p = problem([branch("W", 22.5, 114.0, 2)], [lead("L1", 22.5, 114.0)])
    assert solve(p, method="greedy").branch_price_km is None


def _columns(price: list[float]) -> Branches:
    return Branches(lat=np.array([22.5, 22.5, 22.5]), lon=np.array([114.0, 114.1, 114.2]),
                    price_km=np.array(price))  # fmt: skip


def test_the_order_is_distance_plus_price_and_unfreeable_branches_come_last() -> None:
    ranked = preference(lat=22.5, lon=114.0, branches=_columns([np.inf, 15.0, 0.0]),
                        eligible=np.ones(3, np.bool_), max_distance_km=None)  # fmt: skip
    assert ranked.order.tolist() == [2, 1, 0]  # 20.5 + 0 < 10.3 + 15 < never freed
    room = np.array([1, 0, 0])
    assert first_with_room(ranked, room) == (0, pytest.approx(0.0))
    assert first_with_room(ranked, np.zeros(3, np.int64)) is None


@pytest.mark.parametrize(
    ("lat", "lon", "eligible", "limit", "reason"),
    [
        (None, None, [True] * 3, None, Reason.NO_LOCATION),
        (22.5, 114.0, [False] * 3, None, Reason.NO_ELIGIBLE_BRANCH),
        (39.9, 116.4, [True] * 3, 50.0, Reason.BEYOND_MAX_DISTANCE),
    ],
)
def test_a_lead_that_may_go_nowhere_says_why(
    lat: float | None, lon: float | None, eligible: list[bool], limit: float | None, reason: Reason
) -> None:
    ranked = preference(lat=lat, lon=lon, branches=_columns([0.0, 0.0, 0.0]),
                        eligible=np.array(eligible), max_distance_km=limit)  # fmt: skip
    assert (len(ranked.order), ranked.reason) == (0, reason)


def test_the_distance_limit_drops_far_branches_only() -> None:
    ranked = preference(lat=22.5, lon=114.0, branches=_columns([50.0, 0.0, 0.0]),
                        eligible=np.ones(3, np.bool_), max_distance_km=15.0)  # fmt: skip
    assert ranked.order.tolist() == [1, 0]
