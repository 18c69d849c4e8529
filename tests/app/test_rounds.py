"""Allocation rounds: preview, atomic commit, ownership, pool flow, one round at a time."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import session_scope
from app.errors import Conflict
from app.leads.importer import import_leads
from app.rounds.lock import round_lock
from app.rounds.service import RoundParams, commit_round, run_round
from app.tables import AllocationRound, Lead, Ownership, RoundAssignment
from app.tables.base import utcnow
from tests.app.rounds_world import pooled

__all__ = ["pooled"]  # a fixture
from tests.app.factories import login, write


def _leads(engine: Engine) -> dict[str, Lead]:
    with session_scope(engine) as session:
        return {lead.external_id: lead for lead in session.exec(select(Lead))}


def test_a_preview_solves_the_pool_without_changing_any_lead(
    engine: Engine, settings: Settings, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    round_id = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=False)
    with session_scope(engine) as session:
        allocation_round = session.get(AllocationRound, round_id)
        assignments = {a.lead_id: a for a in session.exec(select(RoundAssignment))}
    assert allocation_round is not None
    assert (allocation_round.status, allocation_round.solver_status) == ("solved", "optimal")
    assert (allocation_round.pool_size, allocation_round.assigned) == (5, 4)
    assert assignments[pooled["NOWHERE"]].reason == "no_location"
    assert assignments[pooled["BJ1"]].branch_id == branch_ids["BJ-CY"]
    assert assignments[pooled["BJ-HNW"]].branch_id == branch_ids["SZ-FT"]
    assert allocation_round.gap is not None
    assert allocation_round.gap <= 1e-6
    assert all(lead.status == "new" for lead in _leads(engine).values())


def test_committing_assigns_leads_and_opens_ownership_in_one_go(
    engine: Engine, settings: Settings, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    round_id = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=False)
    commit_round(engine, settings=settings, actor="hq1", round_id=round_id)
    leads = _leads(engine)
    assert leads["SZ1"].status == "assigned"
    assert leads["SZ1"].branch_id == branch_ids["SZ-FT"]
    assert leads["NOWHERE"].status == "new"
    with session_scope(engine) as session:
        intervals = session.exec(select(Ownership)).all()
    assert sorted(i.lead_id for i in intervals) == sorted(
        pooled[k] for k in ("SZ1", "SZ2", "BJ1", "BJ-HNW")
    )
    assert all(i.round_id == round_id and i.valid_to is None for i in intervals)


def test_a_committed_round_is_immutable(
    engine: Engine, settings: Settings, pooled: dict[str, int]
) -> None:
    round_id = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    with pytest.raises(Conflict):
        commit_round(engine, settings=settings, actor="hq1", round_id=round_id)


def test_a_preview_goes_stale_when_the_pool_changes(
    engine: Engine, settings: Settings, pooled: dict[str, int]
) -> None:
    first = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=False)
    run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    with pytest.raises(Conflict, match="left the pool"):
        commit_round(engine, settings=settings, actor="hq1", round_id=first)
    with session_scope(engine) as session:
        assert len(session.exec(select(Ownership)).all()) == 4


def test_a_second_round_while_one_is_running_gets_409(
    engine: Engine, settings: Settings, pooled: dict[str, int]
) -> None:
    with round_lock(engine, actor="hq2"), pytest.raises(Conflict, match="another round"):
        run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=False)


def test_concurrent_round_requests_yield_exactly_one_round(
    engine: Engine, settings: Settings, pooled: dict[str, int]
) -> None:
    results: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        try:
            run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope(engine) as session:
        committed = session.exec(
            select(AllocationRound).where(AllocationRound.status == "committed")
        ).all()
        intervals = session.exec(select(Ownership)).all()
    assert results.count("ok") >= 1
    assert len(committed) == results.count("ok")
    assert len(intervals) == 4  # later rounds found an empty pool (only the unlocatable lead)


def test_returned_and_reclaimed_leads_flow_back_into_the_pool(
    engine: Engine, settings: Settings, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    with session_scope(engine) as session:
        stale = session.get(Lead, pooled["BJ1"])
        assert stale is not None
        stale.assigned_at = utcnow() - timedelta(hours=settings.followup_deadline_hours + 1)
        session.add(stale)
    second = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    with session_scope(engine) as session:
        pool = {
            a.lead_id
            for a in session.exec(select(RoundAssignment).where(RoundAssignment.round_id == second))
        }
        intervals = session.exec(select(Ownership).where(Ownership.lead_id == pooled["BJ1"])).all()
    assert pool == {pooled["BJ1"], pooled["NOWHERE"]}
    assert [i.close_reason for i in intervals] == ["reclaimed", None]
    assert intervals[0].valid_to == intervals[1].valid_from


def test_hq_runs_and_commits_a_round_over_http(
    client: TestClient, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    headers = login(client, "hq1")
    created = client.post(
        "/api/v1/rounds", json={"balance_weight": 0, "commit": False}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "solved"
    for field in (
        "assigned",
        "unassigned",
        "objective",
        "lower_bound",
        "gap",
        "solve_seconds",
        "branches",
    ):
        assert field in body
    committed = client.post(f"/api/v1/rounds/{body['id']}/commit", headers=headers)
    assert committed.json()["status"] == "committed"
    assert client.post(f"/api/v1/rounds/{body['id']}/cancel", headers=headers).status_code == 409
    assignments = client.get(f"/api/v1/rounds/{body['id']}/assignments", headers=headers).json()
    assert assignments["total"] == 5


def test_rounds_are_for_hq_only(client: TestClient, branch_ids: dict[str, int]) -> None:
    for user in ("sz1", "fin1", "aud1"):
        response = client.post("/api/v1/rounds", json={}, headers=login(client, user))
        assert response.status_code == 403
    assert (
        client.post(
            "/api/v1/rounds", json={"balance_weight": -1}, headers=login(client, "hq1")
        ).status_code
        == 422
    )


def test_two_pooled_leads_of_one_customer_go_to_one_branch_under_one_owner(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path
) -> None:
    twice = "external_id,channel,mobile,lat,lon\nA,app,13800138000,22.55,114.06\nW,wechat,13800138000,39.93,116.45\n"
    with session_scope(engine) as session:
        import_leads(
            session,
            path=write(tmp_path, "twice.csv", twice),
            actor="test",
            secret=settings.customer_key,
        )
    run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    leads = _leads(engine)
    with session_scope(engine) as session:
        intervals = session.exec(select(Ownership)).all()
    assert leads["A"].status == leads["W"].status == "assigned"
    assert leads["A"].branch_id == leads["W"].branch_id == branch_ids["SZ-FT"]
    assert [i.lead_id for i in intervals] == [leads["A"].id]


def test_a_returned_lead_is_not_sent_back_to_the_branch_that_returned_it(
    engine: Engine, settings: Settings, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    from app.auth import Principal
    from app.leads.followup import return_lead

    run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    staff = Principal(
        user_id=0, username="sz1", role="branch", branch_id=branch_ids["SZ-FT"], branch_code="SZ-FT"
    )
    with session_scope(engine) as session:
        return_lead(session, principal=staff, lead_id=pooled["SZ1"], reason="客户已移居外地")
    second = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    with session_scope(engine) as session:
        outcome = session.get(RoundAssignment, (second, pooled["SZ1"]))
    assert outcome is not None
    assert outcome.branch_id == branch_ids["BJ-CY"]
    assert _leads(engine)["SZ1"].branch_id == branch_ids["BJ-CY"]


def test_a_round_replays_to_the_same_plan(
    engine: Engine, settings: Settings, pooled: dict[str, int], branch_ids: dict[str, int]
) -> None:
    from app.rounds.replay import replay_round

    round_id = run_round(
        engine, settings=settings, actor="hq1", params=RoundParams(balance_weight=2.0), commit=True
    )
    with session_scope(engine) as session:
        session.execute(text("UPDATE branch SET capacity = 0"))  # later changes must not matter
    with session_scope(engine) as session:
        result = replay_round(session, round_id=round_id)
    assert result.identical
    assert result.leads == 5
    assert result.objective == pytest.approx(result.stored_objective)
