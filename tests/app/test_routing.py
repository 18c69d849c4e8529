"""Routing between rounds (issue 16.2): a new lead goes at once where the last round's prices
send it, through the capacity and eligibility rules every path shares."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from allocation.geo import haversine_km
from app.cli import cli
from app.config import Settings, get_settings
from app.db import session_scope
from app.intake.schemas import IntakeBatch, IntakeLead, IntakeResult
from app.intake.service import take_leads
from app.routing.service import route_new_leads
from app.routing.switch import routing_enabled, switch_routing
from app.tables import (
    AuditRecord,
    Branch,
    Lead,
    Notification,
    NotificationOutbox,
    Ownership,
    RoundBranchPrice,
)
from tests.app.factories import add_user, login
from tests.app.holdings_world import World
from tests.web.helpers import sign_in

# WEST is nearer to everything west of the midpoint (114.1); the round leaves it full.
BRANCHES = """code,name,lat,lon,capacity,tiers
WEST,西区,22.500,114.000,2,mass|affluent
EAST,东区,22.500,114.200,10,mass|affluent
"""
AT_WEST = "22.500,114.000"


@pytest.fixture
def world(engine: Engine, settings: Settings, tmp_path: Path) -> World:
    w = World(engine, settings, tmp_path)
    w.branches(BRANCHES)
    return w


def _round(world: World, **params: float) -> int:
    """A committed round: three customers at WEST, which has two places (one goes EAST)."""
    world.leads(f"R1,{AT_WEST},mass,\nR2,{AT_WEST},mass,\nR3,{AT_WEST},mass,\n")
    if params:
        from app.rounds.service import RoundParams, run_round

        return run_round(world.engine, settings=world.settings, actor="test",
                         params=RoundParams(**params), commit=True)  # fmt: skip
    return world.solve(commit=True)


def _intake(world: World, *leads: dict[str, object]) -> IntakeResult:
    with session_scope(world.engine) as session:
        return _take(session, world, *leads)


def _lead(world: World, external_id: str) -> Lead:
    with session_scope(world.engine) as session:
        lead = session.exec(select(Lead).where(Lead.external_id == external_id)).one()
        session.expunge(lead)
        return lead


def test_a_round_stores_its_branch_prices_and_a_full_branch_is_priced(world: World) -> None:
    round_id = _round(world)
    with session_scope(world.engine) as session:
        rows = session.exec(
            select(RoundBranchPrice.round_id, Branch.code, RoundBranchPrice.price_km).join(
                Branch, col(Branch.id) == col(RoundBranchPrice.branch_id)
            )
        ).all()
    prices = {code: price for _, code, price in rows}
    assert {r[0] for r in rows} == {round_id}
    # A place at WEST saves the 20.5 km a customer there travels to EAST; EAST has room.
    assert prices["WEST"] == pytest.approx(haversine_km(22.5, 114.0, 22.5, 114.2), abs=0.01)
    assert prices["EAST"] == 0.0


def test_the_price_sends_a_lead_past_a_nearer_branch_with_room(world: World) -> None:
    _round(world)
    world.set_branch("WEST", capacity=3)  # a place frees up at WEST, worth 20.5 km
    lat, lon = 22.5, 114.08  # WEST 8.2 km, EAST 12.3 km: EAST by distance + price
    assert haversine_km(lat, lon, 22.5, 114.0) < haversine_km(lat, lon, 22.5, 114.2)
    result = _intake(world, {"external_id": "N1", "lat": lat, "lon": lon})
    assert (result.routed, result.leads[0].routed) == (1, True)
    assert (result.leads[0].status, result.leads[0].branch_code) == ("assigned", "EAST")


def test_a_round_without_prices_routes_to_the_nearest_branch_with_room(world: World) -> None:
    _round(world)
    world.set_branch("WEST", capacity=3)
    with session_scope(world.engine) as session:
        session.execute(delete(RoundBranchPrice))  # as a round solved before prices were kept
    result = _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.08})
    assert result.leads[0].branch_code == "WEST"


def test_a_full_branch_is_skipped(world: World) -> None:
    _round(world)
    assert world.loads()["WEST"] == 2
    result = _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.0})
    assert result.leads[0].branch_code == "EAST"
    assert world.loads() == {"WEST": 2, "EAST": 2}


def test_a_routed_lead_is_assigned_owned_and_audited_like_a_round_assignment(
    world: World,
) -> None:
    round_id = _round(world)
    _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.19})
    lead = _lead(world, "N1")
    assert (lead.status, lead.contacted_at) == ("assigned", None)
    with session_scope(world.engine) as session:
        owner = session.exec(select(Ownership).where(Ownership.lead_id == lead.id)).one()
        record = session.exec(select(AuditRecord).where(AuditRecord.action == "lead.routed")).one()
    assert (owner.opened_by, owner.round_id, owner.valid_to) == ("routed", round_id, None)
    assert lead.assigned_at == owner.valid_from  # the follow-up deadline counts from here
    assert record.entity_id == str(lead.id)
    assert json.loads(record.detail)["branch"] == "EAST"
    assert json.loads(record.detail)["round"] == round_id


def test_a_batch_routed_to_a_branch_tells_it_once_in_the_same_transaction(world: World) -> None:
    _round(world)
    with session_scope(world.engine) as session:
        told_by_round = len(session.exec(select(Notification)).all())
    _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.19},
            {"external_id": "N2", "lat": 22.5, "lon": 114.18})  # fmt: skip
    ids = {_lead(world, "N1").id, _lead(world, "N2").id}
    with session_scope(world.engine) as session:
        told = session.exec(select(Notification).order_by(col(Notification.id))).all()[
            told_by_round:
        ]
        east = session.exec(select(Branch).where(Branch.code == "EAST")).one()
        queued = session.exec(
            select(NotificationOutbox).where(NotificationOutbox.notification_id == told[0].id)
        ).all()
    assert [(n.branch_id, n.kind, n.source, n.lead_count) for n in told] == [
        (east.id, "assigned", "routing", 2)
    ]
    assert set(json.loads(told[0].lead_ids)) == ids
    assert len(queued) == 1  # its delivery row, written with it


def test_the_lead_api_says_a_routed_lead_was_routed(
    world: World, client: TestClient, engine: Engine
) -> None:
    _round(world)
    _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.19})
    add_user(engine, "hq1", "hq")
    read = client.get(f"/api/v1/leads/{world.lead_id('N1')}", headers=login(client, "hq1"))
    assert (read.json()["assigned_by"], read.json()["branch_code"]) == ("routed", "EAST")
    round_lead = client.get(f"/api/v1/leads/{world.lead_id('R1')}", headers=login(client, "hq1"))
    assert round_lead.json()["assigned_by"] == "round"
    sign_in(client, "hq1")
    page = client.get(f"/leads/{world.lead_id('N1')}")
    assert "实时分配（按上一轮价格）" in page.text  # the timeline, in Chinese


@pytest.mark.parametrize(
    "lead",
    [
        {"external_id": "N1"},  # no location
        {"external_id": "N1", "lat": 22.5, "lon": 114.1, "tier": "hnw"},  # no branch serves it
    ],
    ids=["no_location", "no_eligible_branch"],
)
def test_a_lead_that_fits_nowhere_waits_for_the_next_round(
    world: World, lead: dict[str, object]
) -> None:
    _round(world)
    result = _intake(world, lead)
    assert (result.routed, result.leads[0].status, result.leads[0].branch_code) == (0, "new", None)


def test_a_lead_beyond_the_rounds_distance_limit_waits(world: World) -> None:
    _round(world, max_distance_km=50.0)
    result = _intake(world, {"external_id": "N1", "lat": 39.9, "lon": 116.4})
    assert result.leads[0].status == "new"
    near = _intake(world, {"external_id": "N2", "lat": 22.6, "lon": 114.2})
    assert near.leads[0].branch_code == "EAST"


def test_no_branch_with_room_leaves_the_lead_waiting(world: World) -> None:
    _round(world)
    world.set_branch("EAST", capacity=1)
    result = _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.2})
    assert result.leads[0].status == "new"


def test_before_the_first_committed_round_new_leads_wait(world: World) -> None:
    world.leads(f"R1,{AT_WEST},mass,\n")
    world.solve(commit=False)  # a preview only
    result = _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.0})
    assert result.leads[0].status == "new"


def test_a_customer_with_a_lead_already_waiting_waits_with_it(world: World) -> None:
    _round(world)
    world.leads(f"P1,{AT_WEST},mass,13800138009\n", name="pool.csv")  # waits in the pool
    result = _intake(
        world, {"external_id": "N1", "lat": 22.5, "lon": 114.2, "mobile": "13800138009"}
    )
    assert result.leads[0].status == "new"


def test_a_returning_customer_joins_its_owner_instead_of_being_routed(world: World) -> None:
    world.leads(f"R1,{AT_WEST},mass,13800138001\n")
    world.solve(commit=True)
    result = _intake(
        world, {"external_id": "N1", "lat": 22.5, "lon": 114.2, "mobile": "13800138001"}
    )
    outcome = result.leads[0]
    assert (outcome.status, outcome.branch_code, outcome.routed) == ("assigned", "WEST", False)
    assert result.linked == 1


def test_a_resent_lead_is_not_routed_twice(world: World) -> None:
    _round(world)
    lead = {"external_id": "N1", "lat": 22.5, "lon": 114.2}
    first, again = _intake(world, lead), _intake(world, lead)
    assert (first.routed, again.routed, again.leads[0].outcome) == (1, 0, "unchanged")
    with session_scope(world.engine) as session:
        n1 = world.lead_id("N1")
        intervals = session.exec(select(Ownership).where(Ownership.lead_id == n1)).all()
        records = session.exec(select(AuditRecord).where(AuditRecord.action == "lead.routed"))
        assert (len(intervals), len(records.all())) == (1, 1)


def test_two_leads_of_one_new_customer_are_routed_together(world: World) -> None:
    _round(world)
    same = {"lat": 22.5, "lon": 114.2, "mobile": "13800138021"}
    result = _intake(world, {"external_id": "N1", **same}, {"external_id": "N2", **same})
    assert [(x.status, x.branch_code, x.routed) for x in result.leads] == [
        ("assigned", "EAST", True), ("assigned", "EAST", True)
    ]  # fmt: skip
    assert (result.routed, world.loads()["EAST"]) == (2, 2)  # one customer, one place
    with session_scope(world.engine) as session:
        n1 = world.lead_id("N1")
        customer = session.exec(select(Lead.customer_id).where(Lead.id == n1)).one()
        intervals = session.exec(select(Ownership).where(Ownership.customer_id == customer))
        assert [(x.lead_id, x.opened_by) for x in intervals] == [(n1, "routed")]


def test_a_customer_whose_leads_are_not_all_new_is_left_to_the_round(world: World) -> None:
    """A lead given back by a branch must not go back there: only a round knows that."""
    _round(world)
    world.leads(f"P1,{AT_WEST},mass,13800138022\nP2,{AT_WEST},mass,13800138022\n", name="p.csv")
    p1, p2 = world.lead_id("P1"), world.lead_id("P2")
    with session_scope(world.engine) as session:
        session.execute(update(Lead).where(col(Lead.id) == p2).values(status="returned"))
    with session_scope(world.engine) as session:
        assert route_new_leads(session, lead_ids=[p1, p2], actor="test") == []
    assert [_lead(world, x).status for x in ("P1", "P2")] == ["new", "returned"]


def test_a_batch_fills_a_branch_one_place_at_a_time(world: World) -> None:
    _round(world)
    world.set_branch("EAST", capacity=2)  # one place left
    result = _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.2},
                     {"external_id": "N2", "lat": 22.5, "lon": 114.2})  # fmt: skip
    assert [x.status for x in result.leads] == ["assigned", "new"]
    assert world.loads()["EAST"] == 2


def test_hq_switches_routing_off_and_on_over_the_api(
    world: World, client: TestClient, engine: Engine
) -> None:
    _round(world)
    add_user(engine, "hq1", "hq")
    add_user(engine, "sz1", "branch", "WEST")
    hq = login(client, "hq1")
    assert client.post("/api/v1/routing", json={"enabled": False},
                       headers=login(client, "sz1")).status_code == 403  # fmt: skip
    off = client.post("/api/v1/routing", json={"enabled": False}, headers=hq)
    assert off.status_code == 200, off.text
    assert (off.json()["enabled"], off.json()["changed_by"]) == (False, "hq1")
    waited = _intake(world, {"external_id": "N1", "lat": 22.5, "lon": 114.2})
    assert (waited.routed, waited.leads[0].status) == (0, "new")
    assert client.post("/api/v1/routing", json={"enabled": True}, headers=hq).status_code == 200
    assert client.get("/api/v1/routing", headers=hq).json()["enabled"] is True
    routed = _intake(world, {"external_id": "N2", "lat": 22.5, "lon": 114.2})
    assert routed.routed == 1
    assert _lead(world, "N1").status == "new"  # a waiting lead waits for the round, not a switch
    with session_scope(engine) as session:
        switches = session.exec(
            select(AuditRecord).where(AuditRecord.action == "routing.switch")
        ).all()
    assert [json.loads(r.detail)["enabled"] for r in switches] == [False, True]


def test_the_command_line_switches_routing(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        off = runner.invoke(cli, ["routing", "off"])
        assert off.exit_code == 0, off.output
        assert off.output.startswith("routing off (since ")
        with session_scope(engine) as session:
            assert routing_enabled(session) is False
        assert runner.invoke(cli, ["routing", "status"]).output.startswith("routing off")
        assert runner.invoke(cli, ["routing", "on"]).output.startswith("routing on")
    finally:
        get_settings.cache_clear()


def test_two_intakes_racing_for_a_branchs_last_place_cannot_both_take_it(
    world: World, settings: Settings
) -> None:
    """T1 routes into EAST's last place and keeps its transaction open; T2 must wait on the
    branch lock (seen in pg_locks), then find EAST full once T1 commits."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time; the race is PostgreSQL's")
    _round(world)
    world.set_branch("EAST", capacity=2)  # holds one customer: one place left
    world.set_branch("WEST", active=False)  # nowhere else to go
    batch = {"external_id": "T2", "lat": 22.5, "lon": 114.2}
    backend: list[int] = []
    second: list[IntakeResult] = []

    def racer() -> None:
        with session_scope(world.engine) as session:
            backend.append(_pid(session))
            second.append(_take(session, world, batch))

    with session_scope(world.engine) as session:
        first = _take(session, world, {"external_id": "T1", "lat": 22.5, "lon": 114.2})
        thread = threading.Thread(target=racer)
        thread.start()
        _wait_until_blocked(world.engine, backend, thread)
    thread.join(timeout=30)
    assert first.leads[0].branch_code == "EAST"
    assert second[0].leads[0].status == "new"
    assert world.loads()["EAST"] == 2


def _take(session: Session, world: World, *leads: dict[str, object]) -> IntakeResult:
    batch = IntakeBatch(leads=[IntakeLead.model_validate(x) for x in leads])
    return take_leads(session, channel="app", key_id="k1", batch=batch,
                      secret=world.settings.customer_key)  # fmt: skip


def _pid(session: Session) -> int:
    return int(session.connection().execute(text("SELECT pg_backend_pid()")).scalar_one())


def _wait_until_blocked(engine: Engine, backend: list[int], racer: threading.Thread) -> None:
    """Poll until the racer waits for a lock (no sleeps: libfaketime breaks them), for at most
    a minute of the monotonic clock (never faked): a loaded machine may take seconds to get
    the racer there."""
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while time.monotonic() < deadline and racer.is_alive():
            if (
                backend
                and conn.execute(
                    text("SELECT COUNT(*) FROM pg_locks WHERE pid = :p AND NOT granted"),
                    {"p": backend[0]},
                ).scalar_one()
            ):
                return
            conn.rollback()
    raise AssertionError("the second intake never waited for the branch lock")


def test_the_switch_is_on_unless_hq_turned_it_off(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert routing_enabled(session) is True
        state = switch_routing(session, enabled=False, actor="hq-test")
    assert state.enabled is False
    with session_scope(engine) as session:
        records = session.exec(
            select(AuditRecord).where(col(AuditRecord.action) == "routing.switch")
        )
        assert json.loads(records.one().detail) == {"enabled": False, "was": True}
