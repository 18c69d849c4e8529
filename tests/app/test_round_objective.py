"""Rounds under a value-aware objective (issue 15.4): service, API, replay, exclusion classes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from allocation.value import ObjectiveSpec, RateSpec
from app.cli import cli
from app.config import Settings
from app.db import session_scope
from app.errors import InvalidInput
from app.rounds.objective import RoundObjective, for_classes
from app.rounds.replay import replay_round
from app.rounds.scenario import scenario_from
from app.rounds.service import RoundParams, run_round
from app.rounds.whatif import run_whatif
from app.tables import AllocationRound, RoundAssignment
from tests.app.factories import login
from tests.app.rounds_world import pooled, round_cli

__all__ = ["pooled", "round_cli"]  # fixtures


def _short_of_room(engine: Engine) -> None:
    """SZ-FT has room for two of SZ1, SZ2 and BJ-HNW (the only branch serving hnw, ~1,950 km
    from it); BJ-CY only for BJ1."""
    with session_scope(engine) as session:
        session.execute(text("UPDATE branch SET capacity = 2 WHERE code = 'SZ-FT'"))
        session.execute(text("UPDATE branch SET capacity = 1 WHERE code = 'BJ-CY'"))


def _placed(engine: Engine, round_id: int, pooled: dict[str, int]) -> set[str]:
    names = {v: k for k, v in pooled.items()}
    with session_scope(engine) as session:
        rows = session.exec(select(RoundAssignment).where(RoundAssignment.round_id == round_id))
        return {names[r.lead_id] for r in rows if r.branch_id is not None}


def _round(engine: Engine, settings: Settings, objective: RoundObjective) -> int:
    params = RoundParams(objective=objective)
    return run_round(engine, settings=settings, actor="hq1", params=params, commit=False)


def test_tier_weights_in_km_decide_whether_the_far_hnw_lead_takes_a_place(
    engine: Engine, settings: Settings, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    _short_of_room(engine)
    near = {"SZ1", "SZ2", "BJ1"}
    assert _placed(engine, _round(engine, settings, RoundObjective()), pooled) == near
    # 1,000 km of priority (the default) does not pay for ~1,950 km of travel; 5,000 does.
    default = _round(engine, settings, RoundObjective(mode="tier_priority"))
    assert _placed(engine, default, pooled) == near
    heavy = _round(engine, settings, RoundObjective("tier_priority", {"hnw": 5000.0}))
    placed = _placed(engine, heavy, pooled)
    assert "BJ-HNW" in placed
    assert len(placed & {"SZ1", "SZ2"}) == 1
    with session_scope(engine) as session:
        stored = session.get(AllocationRound, heavy)
        assert stored is not None
        report, snapshot = json.loads(stored.report), json.loads(stored.instance)
        replayed = replay_round(session, round_id=heavy)
    assert report["objective_mode"] == "tier_priority"
    assert report["value"]["tier_weights_km"]["hnw"] == 5000.0
    assert snapshot["objective"]["tier_weights_km"] == {"hnw": 5000.0}
    assert replayed.identical


def test_an_expected_value_round_learns_its_rates_and_replays_with_them(
    engine: Engine,
    settings: Settings,
    pooled: dict[str, int],
    funnel_world: dict[str, int],
) -> None:
    round_id = _round(engine, settings, RoundObjective(mode="expected_value"))
    with session_scope(engine) as session:
        stored = session.get(AllocationRound, round_id)
        assert stored is not None
        report, snapshot = json.loads(stored.report), json.loads(stored.instance)
        # Later history must not change the replay: the rates are in the snapshot.
        session.execute(text("UPDATE lead SET status = 'converted' WHERE status = 'contacted'"))
    with session_scope(engine) as session:
        replayed = replay_round(session, round_id=round_id)
    assert replayed.identical
    assert report["objective_mode"] == "expected_value"
    assert report["value"]["price_per_km_fen"] == 1000
    assert report["value"]["expected_conversions"] > 0
    learned = {(r["branch_code"], r["tier"], r["channel"]) for r in snapshot["objective"]["rates"]}
    assert ("SZ-FT", "mass", "app") in learned
    assert ("*", "hnw", "*") in learned


def test_an_exclusion_class_is_valued_as_its_tier() -> None:
    rate = RateSpec("hnw", 0.3, 100, branch_code="B1")
    spec = ObjectiveSpec(mode="expected_value", rates=(rate,))
    classes = for_classes(spec, {"hnw", "hnw!B3", "mass"})
    assert classes.rates == (rate, RateSpec("hnw!B3", 0.3, 100, branch_code="B1"))
    weights = for_classes(ObjectiveSpec(mode="tier_priority"), {"affluent!B9"}).tier_weights_km
    assert weights is not None
    assert weights["affluent!B9"] == weights["affluent"] == 100.0
    assert for_classes(ObjectiveSpec(), {"hnw!B3"}) == ObjectiveSpec()


def test_the_api_takes_the_objective_and_refuses_bad_ones(
    client: TestClient, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    headers = login(client, "hq1")
    body = {"objective": "tier_priority", "tier_weights_km": {"hnw": 5000}}
    created = client.post("/api/v1/rounds", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["report"]["objective_mode"] == "tier_priority"
    for bad in (
        {"objective": "revenue"},
        {"objective": "tier_priority", "tier_weights_km": {"vip": 1}},
        {"objective": "tier_priority", "tier_weights_km": {"hnw": 1e9}},
        {"objective": "expected_value", "price_per_km_fen": 0},
    ):
        refused = client.post("/api/v1/rounds", json=bad, headers=headers)
        assert refused.status_code == 422, bad


def test_an_objective_out_of_range_is_refused_as_bad_input_not_a_crash(
    engine: Engine, settings: Settings, pooled: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _round(engine, settings, RoundObjective("tier_priority", {"hnw": 1e9}))
    assert refused.value.coded is not None
    assert refused.value.coded.code == "round.objective_out_of_range"
    with session_scope(engine) as session:
        assert session.exec(select(AllocationRound)).first() is None


def test_the_cli_runs_a_round_under_an_objective_and_refuses_an_unknown_one(
    round_cli: Settings, engine: Engine, pooled: dict[str, int]
) -> None:
    result = CliRunner().invoke(cli, ["round", "run", "--objective", "tier_priority"])
    assert result.exit_code == 0, result.output
    with session_scope(engine) as session:
        stored = session.exec(select(AllocationRound)).one()
        assert json.loads(stored.report)["objective_mode"] == "tier_priority"
    refused = CliRunner().invoke(cli, ["round", "run", "--objective", "revenue"])
    assert refused.exit_code == 2
    assert "--objective must be one of" in refused.output


def test_a_what_if_solves_the_scenario_under_its_objective_and_scores_both_plans(
    engine: Engine,
    settings: Settings,
    pooled: dict[str, int],
    funnel_world: dict[str, int],
) -> None:
    _short_of_room(engine)
    scenario = scenario_from({"objective": "tier_priority", "tier_weights_km": {"hnw": 5000}})
    result = run_whatif(engine, settings=settings, actor="hq1", scenario=scenario)
    assert result["current"]["objective_mode"] == "distance"
    assert result["current"]["value"] is None
    proposed = result["scenario_plan"]
    assert proposed["objective_mode"] == "tier_priority"
    assert proposed["assigned_by_tier"]["hnw"] == result["current"]["assigned_by_tier"]["hnw"] + 1
    # The current (distance) plan, credited by the scenario's weights: 5,000 km less.
    assert result["current_value"]["value_km"] == proposed["value"]["value_km"] - 5000.0
    valued = run_whatif(
        engine,
        settings=settings,
        actor="hq1",
        scenario=scenario_from({"objective": "expected_value"}),
    )
    assert (
        valued["scenario_plan"]["value"]["expected_revenue_fen"]
        >= (valued["current_value"]["expected_revenue_fen"])
    )
    for bad in ({"objective": "revenue"}, {"tier_weights_km": {"vip": 1}}, {"price_per_km_fen": 0}):
        with pytest.raises(InvalidInput):
            scenario_from(bad)
