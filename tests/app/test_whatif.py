"""What-if scenarios on the live pool (issue 15.1): compared with the current plan, nothing
written but an audit record, capacity counted as holdings count it, errors naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.db import session_scope
from app.rounds.service import RoundParams, run_round
from app.tables import AllocationRound, AuditRecord, Lead, Ownership
from tests.app.factories import login, write
from tests.app.rounds_world import pooled, round_cli

__all__ = ["pooled", "round_cli"]  # fixtures


def _ids(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {x.external_id: x.id or 0 for x in session.exec(select(Lead))}


def _counts(engine: Engine) -> tuple[int, int, int, list[tuple[str, str | None]]]:
    with session_scope(engine) as session:
        rounds = session.exec(select(func.count()).select_from(AllocationRound)).one()
        owners = session.exec(select(func.count()).select_from(Ownership)).one()
        audits = session.exec(
            select(func.count()).where(AuditRecord.action == "round.whatif")
        ).one()
        leads = sorted((x.status, str(x.branch_id)) for x in session.exec(select(Lead)))
        return rounds, owners, audits, leads


def _whatif(client: TestClient, scenario: dict[str, Any], user: str = "hq1") -> Any:
    return client.post("/api/v1/rounds/whatif", json=scenario, headers=login(client, user))


def test_a_new_branch_is_compared_with_the_current_plan_and_nothing_is_written(
    client: TestClient, engine: Engine, pooled: None
) -> None:
    before = _counts(engine)
    response = _whatif(
        client,
        {"open": [{"code": "BJ-NEW", "name": "北京新营业部", "lat": 39.9, "lon": 116.41,
                   "capacity": 5, "tiers": "hnw"}]},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    current, proposed = body["current"], body["scenario_plan"]
    assert (current["assigned"], proposed["assigned"]) == (4, 4)
    assert current["unassigned_by_reason"]["no_location"] == 1
    assert proposed["total_km"] < current["total_km"] - 1500  # the HNW lead stays in Beijing
    assert proposed["p95_km"] < current["p95_km"]
    hnw = _ids(engine)["BJ-HNW"]
    assert body["changed_branch"] == [{"lead_id": hnw, "from": "SZ-FT", "to": "BJ-NEW"}]
    deltas = {b["code"]: b["load_delta"] for b in body["branches"]}
    assert deltas["BJ-NEW"] == 1
    assert deltas["SZ-FT"] == -1
    assert deltas["BJ-CY"] == 0
    rounds, owners, audits, leads = _counts(engine)
    assert (rounds, owners, leads) == (before[0], before[1], before[3])
    assert audits == before[2] + 1
    with session_scope(engine) as session:
        record = session.exec(select(AuditRecord).where(AuditRecord.action == "round.whatif")).one()
        assert record.actor == "hq1"
        assert "BJ-NEW" in record.detail


def test_closing_a_branch_repools_its_open_leads_within_counted_capacity(
    client: TestClient, engine: Engine, settings: Settings, pooled: None
) -> None:
    run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    bj1 = _ids(engine)["BJ1"]
    # SZ-FT holds SZ1, SZ2 and BJ-HNW: capacity 3 leaves no room, 4 leaves one place.
    full = _whatif(client, {"close": ["BJ-CY"], "capacity": {"SZ-FT": 3}}).json()
    assert full["repooled"] == 1
    assert full["scenario_plan"]["unassigned_by_reason"]["capacity_exhausted"] == 1
    assert full["changed_branch"] == [{"lead_id": bj1, "from": "BJ-CY", "to": None}]
    room = _whatif(client, {"close": ["BJ-CY"], "capacity": {"SZ-FT": 4}}).json()
    assert room["changed_branch"] == [{"lead_id": bj1, "from": "BJ-CY", "to": "SZ-FT"}]
    loads = {b["code"]: (b["load_before"], b["load_after"]) for b in room["branches"]}
    assert loads["BJ-CY"] == (1, 0)
    assert loads["SZ-FT"] == (3, 4)


def test_tier_changes_and_a_distance_limit_apply_to_the_scenario_only(
    client: TestClient, pooled: None
) -> None:
    body = _whatif(client, {"tiers": {"SZ-FT": "mass"}, "max_distance_km": 500}).json()
    assert body["current"]["unassigned"] == 1
    reasons = body["scenario_plan"]["unassigned_by_reason"]
    assert reasons["no_eligible_branch"] == 1  # no branch serves hnw any more
    assert reasons["no_location"] == 1


@pytest.mark.parametrize(
    ("scenario", "named"),
    [
        ({"capacity": {"SZ-FT": -1}}, "capacity.SZ-FT"),
        ({"capacity": {"NOPE": 3}}, "capacity.NOPE: no branch has this code"),
        ({"close": ["NOPE"]}, "close.NOPE"),
        ({"open": [{"code": "SZ-FT", "name": "x", "lat": 1, "lon": 1, "capacity": 1}]},
         "open.0.code: branch SZ-FT already exists"),
        ({"open": [{"code": "N1", "name": "x", "lat": 95, "lon": 1, "capacity": 1}]}, "open.0.lat"),
        ({"tiers": {"SZ-FT": "mass|bad tier"}}, "tiers.SZ-FT"),
        ({"balance_weight": -1}, "balance_weight"),
        ({"capcity": {}}, "capcity: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_scenario_is_refused_naming_the_field(
    client: TestClient, pooled: None, scenario: dict[str, Any], named: str
) -> None:
    response = _whatif(client, scenario)
    assert response.status_code == 422, response.text
    assert named in response.text


def test_what_if_is_for_hq_only(client: TestClient, pooled: None) -> None:
    for user in ("sz1", "fin1", "aud1"):
        assert _whatif(client, {}, user=user).status_code == 403


def test_the_cli_prints_the_comparison_and_refuses_a_bad_file(
    round_cli: Settings, pooled: None, tmp_path: Path
) -> None:
    good = write(tmp_path, "s.json", json.dumps({"capacity": {"SZ-FT": 1}}))
    result = CliRunner().invoke(cli, ["round", "whatif", "--scenario", str(good), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    # SZ-FT keeps one place (for the HNW lead only it serves); the two mass leads fly north.
    assert body["scenario_plan"]["assigned"] == 4
    assert body["scenario_plan"]["total_km"] > body["current"]["total_km"] + 3000
    loads = {b["code"]: (b["capacity_after"], b["load_after"]) for b in body["branches"]}
    assert loads["SZ-FT"] == (1, 1)
    assert loads["BJ-CY"] == (80, 3)
    text = CliRunner().invoke(cli, ["round", "whatif", "--scenario", str(good)])
    assert text.exit_code == 0, text.output
    assert "leads that would change branch: 2" in text.output
    bad = write(tmp_path, "bad.json", '{"close": "SZ-FT"}')
    refused = CliRunner().invoke(cli, ["round", "whatif", "--scenario", str(bad)])
    assert refused.exit_code == 2
    assert "close: " in refused.output
