"""Rounds that keep room for the day's arrivals (issue 16.2): the forecast comes from the recent
channel intake, the round keeps the places it takes, and routing gives them to the arrivals."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from app.clock import pinned_at, utcnow
from app.config import Settings
from app.db import session_scope
from app.errors import InvalidInput
from app.intake.keys import issue_key
from app.intake.schemas import IntakeBatch, IntakeLead, IntakeResult
from app.intake.service import take_leads
from app.rounds.queries import read_round
from app.rounds.replay import replay_round
from app.rounds.reserve import ReserveAsked, parse_reserve
from app.rounds.scenario import scenario_from
from app.rounds.service import RoundParams, run_round
from app.rounds.whatif import run_whatif, summary_lines
from app.tables import AuditRecord
from tests.app.factories import add_user, login
from tests.app.holdings_world import World
from tests.app.rounds_world import round_cli

__all__ = ["round_cli"]  # fixture

# WEST is nearest to every lead below; it has three places, EAST (20.5 km east) has ten.
BRANCHES = """code,name,lat,lon,capacity,tiers
WEST,西区,22.500,114.000,3,mass|affluent
EAST,东区,22.500,114.200,10,mass|affluent
"""
PUSHING = "wechat"  # the channel with an intake key; the file leads come through "app"


@pytest.fixture
def world(engine: Engine, settings: Settings, tmp_path: Path) -> World:
    """Two customers imported from a file just east of WEST, and one that arrived through the
    intake at WEST before any round (so it waited in the pool): the last week's intake."""
    w = World(engine, settings, tmp_path)
    w.branches(BRANCHES)
    w.leads("R1,22.500,114.010,mass,\nR2,22.500,114.010,mass,\n")
    with session_scope(engine) as session:
        issue_key(session, channel=PUSHING, actor="hq1")
    assert _intake(w, "H1").routed == 0  # no committed round yet: it waits
    return w


def _intake(world: World, external_id: str) -> IntakeResult:
    batch = IntakeBatch(leads=[IntakeLead(external_id=external_id, lat=22.5, lon=114.0)])
    with session_scope(world.engine) as session:
        return take_leads(session, channel=PUSHING, key_id="k1", batch=batch,
                          secret=world.settings.customer_key)  # fmt: skip


def _round(world: World, reserve: ReserveAsked) -> int:
    return run_round(world.engine, settings=world.settings, actor="hq1", commit=True,
                     params=RoundParams(reserve_for_arrivals=reserve))  # fmt: skip


def _report(world: World, round_id: int) -> dict[str, object]:
    with session_scope(world.engine) as session:
        return read_round(session, round_id=round_id).report


@pytest.mark.parametrize(
    ("reserve", "kept", "arrival_goes_to"),
    [(None, 0, "EAST"), (0, 0, "EAST"), ("auto", 1, "WEST"), (1, 1, "WEST")],
)
def test_a_round_that_keeps_room_lets_routing_place_the_arrival_near(
    world: World, reserve: ReserveAsked, kept: int, arrival_goes_to: str
) -> None:
    round_id = _round(world, reserve)
    holders = world.holders()
    assert {holders[x][0] for x in ("R1", "R2", "H1")} == {"assigned"}
    # Keeping WEST's third place sends one customer 20 km east: the cost of keeping room.
    assert world.loads() == ({"WEST": 3} if kept == 0 else {"WEST": 2, "EAST": 1})
    routed = _intake(world, "N1")
    assert routed.routed == 1
    assert routed.leads[0].branch_code == arrival_goes_to
    report = _report(world, round_id)
    with session_scope(world.engine) as session:
        branches = {b.code: b for b in read_round(session, round_id=round_id).branches}
        solved = session.exec(select(AuditRecord).where(AuditRecord.action == "round.solve")).one()
    if reserve is None:
        assert "reserve" not in report
        assert branches["WEST"].kept_for_arrivals is None
        return
    assert report["reserve"] == {
        "asked": reserve, "expected": 1 if reserve == "auto" else reserve, "spare_room": 10,
        "forecast_leads": kept, "recent_arrivals": 1, "window_days": 7,
        "horizon_days": 1.0 if reserve == "auto" else None, "kept": kept,
    }  # fmt: skip
    assert (branches["WEST"].kept_for_arrivals, branches["EAST"].kept_for_arrivals) == (kept, 0)
    assert branches["WEST"].capacity == 3  # the branch's capacity, not what the customers saw
    assert json.loads(solved.detail or "{}")["kept_for_arrivals"] == kept


def test_auto_counts_only_channels_that_push_and_scales_to_the_horizon(
    world: World, settings: Settings
) -> None:
    # A week of intake at 3 a day, two days to the next round: 6 places (one arrival here).
    slower = settings.model_copy(update={"reserve_horizon_days": 14.0})
    round_id = run_round(world.engine, settings=slower, actor="hq1", commit=False,
                         params=RoundParams(reserve_for_arrivals="auto"))  # fmt: skip
    reserve = _report(world, round_id)["reserve"]
    assert isinstance(reserve, dict)
    assert (reserve["recent_arrivals"], reserve["expected"], reserve["kept"]) == (1, 2, 2)


def test_with_no_recent_intake_auto_keeps_nothing_and_says_so(
    world: World, settings: Settings
) -> None:
    with pinned_at(utcnow() + timedelta(days=2)):  # the intake lead is older than the window
        round_id = run_round(world.engine, commit=False, actor="hq1",
                             settings=settings.model_copy(update={"reserve_window_days": 1}),
                             params=RoundParams(reserve_for_arrivals="auto"))  # fmt: skip
    reserve = _report(world, round_id)["reserve"]
    assert isinstance(reserve, dict)
    assert (reserve["recent_arrivals"], reserve["forecast_leads"], reserve["kept"]) == (0, 0, 0)
    assert world.holders()["H1"][0] == "new"  # a preview: nothing committed


def test_the_room_kept_never_exceeds_the_spare_room(world: World) -> None:
    round_id = _round(world, 1000)
    report = _report(world, round_id)
    reserve = report["reserve"]
    assert isinstance(reserve, dict)
    assert (reserve["expected"], reserve["spare_room"], reserve["kept"]) == (1000, 10, 10)
    assert report["assigned"] == 3  # every customer placed all the same
    assert sum(world.loads().values()) == 3


def test_a_round_that_kept_room_replays_to_the_same_plan(world: World) -> None:
    round_id = run_round(world.engine, settings=world.settings, actor="hq1", commit=False,
                         params=RoundParams(reserve_for_arrivals="auto"))  # fmt: skip
    with session_scope(world.engine) as session:
        replayed = replay_round(session, round_id=round_id)
    assert replayed.identical
    assert replayed.objective == pytest.approx(replayed.stored_objective or 0.0)


def test_the_option_is_refused_when_it_is_not_auto_or_a_count(
    world: World, client: TestClient, round_cli: Settings
) -> None:
    for text, expected in (("", None), (" AUTO ", "auto"), ("12", 12), ("0", 0)):
        assert parse_reserve(text) == expected
    for bad in ("soon", "-1", "1.5", "1000001"):
        with pytest.raises(ValueError, match="'auto' or a whole number"):
            parse_reserve(bad)
    add_user(world.engine, "hq1", "hq")
    headers = login(client, "hq1")
    for bad in ("soon", -1, 1.5, True, "7", 1_000_001):
        refused = client.post("/api/v1/rounds", json={"reserve_for_arrivals": bad},
                              headers=headers)  # fmt: skip
        assert refused.status_code == 422, bad
    created = client.post("/api/v1/rounds", json={"reserve_for_arrivals": "auto"},
                          headers=headers)  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["report"]["reserve"]["kept"] == 1
    assert {b["code"]: b["kept_for_arrivals"] for b in created.json()["branches"]} == {
        "WEST": 1, "EAST": 0
    }  # fmt: skip
    refused = CliRunner().invoke(cli, ["round", "run", "--reserve-for-arrivals", "soon"])
    assert refused.exit_code == 2
    assert "--reserve-for-arrivals" in refused.output
    ran = CliRunner().invoke(cli, ["round", "run", "--reserve-for-arrivals", "1"])
    assert ran.exit_code == 0, ran.output
    assert "kept 1 places for arrivals (asked 1, 1 arrived by intake in 7 days)" in ran.output


def test_a_what_if_can_keep_room_and_says_where(world: World) -> None:
    scenario = scenario_from({"reserve_for_arrivals": 1})
    result = run_whatif(world.engine, settings=world.settings, actor="hq1", scenario=scenario)
    assert result["scenario_plan"]["reserve"]["kept"] == 1
    assert result["scenario_plan"]["assigned"] == result["current"]["assigned"] == 3
    kept = {b["code"]: b["kept_for_arrivals"] for b in result["branches"]}
    assert kept == {"WEST": 1, "EAST": 0}
    assert "places kept for arrivals: 1" in summary_lines(result)
    assert "reserve" not in result["current"]
    for bad in ("soon", -1, True):
        with pytest.raises(InvalidInput):
            scenario_from({"reserve_for_arrivals": bad})
