"""`o2o demo`: the one-command tour loads real cities, commits a round and posts revenue."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from app.config import Settings
from app.db import make_engine, session_scope
from app.demo import load_demo
from app.tables import AllocationRound, Branch, Lead


def test_the_demo_loads_a_working_tour(settings: Settings, client: TestClient) -> None:
    engine = make_engine(settings)
    result = load_demo(engine, settings, leads=400, branches=40)
    with session_scope(engine) as session:
        allocation_round = session.get(AllocationRound, result.round_id)
        branches = session.exec(select(func.count()).select_from(Branch)).one()
        channels = set(session.exec(select(Lead.channel)).all())
        statuses = set(session.exec(select(Lead.status)).all())
    assert allocation_round is not None
    assert allocation_round.status == "committed"
    assert branches == 40
    assert len(channels) >= 3
    assert {"contacted", "converted"} <= statuses
    assert "imported" in result.revenue
    for login in result.logins:
        response = client.post(
            "/api/v1/auth/token", data={"username": login.username, "password": login.password}
        )
        assert response.status_code == 200, login.username
