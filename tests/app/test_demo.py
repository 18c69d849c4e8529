"""`o2o demo`: the one-command tour loads real cities, commits a round and posts revenue."""

from __future__ import annotations

import subprocess
from pathlib import Path

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


def test_make_demo_seals_the_demo_with_the_key_its_server_opens_them_with() -> None:
    """`o2o serve` refuses mobile numbers its key cannot open: `make demo` must load the demo
    and serve it under the same secret (it once loaded under the development key)."""
    root = Path(__file__).resolve().parents[2]
    planned = subprocess.run(
        ["make", "-n", "demo", "BIN=.venv/bin", "DEMO_DB=/nonexistent/demo.db"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    secret = 'O2O_SECRET_KEY="$(cat .demo-secret)"'
    demo = next(line for line in planned.splitlines() if line.rstrip().endswith("o2o demo"))
    served = planned[planned.index("o2o serve") - 200 : planned.index("o2o serve")]
    assert secret in demo
    assert secret in served
    assert planned.index(".demo-secret)") > planned.index("token_urlsafe")  # made first
