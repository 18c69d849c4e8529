"""The HQ round form's objective select (issue 15.4): Chinese labels, passed to the round."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.tables import AllocationRound
from tests.web.helpers import run_job_here, sign_in
from tests.web.round_data import import_pool


@pytest.fixture
def pooled(engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path) -> None:
    import_pool(engine, settings, tmp_path)


def test_the_form_offers_the_objectives_and_the_round_uses_the_chosen_one(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    page = web.get("/hq/rounds").text
    assert '<option value="tier_priority">客户等级优先' in page
    assert '<option value="expected_value">期望成交价值' in page
    form = {"csrf_token": token, "balance_weight": "0", "max_distance_km": "", "mode": "preview"}
    form |= {"objective": "expected_value", "price_per_km_fen": "500"}
    response = web.post("/hq/rounds", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    job = re.fullmatch(r"/hq/jobs/(\d+)\?follow=1", response.headers["location"])
    assert job, response.headers["location"]
    run_job_here(web, int(job.group(1)))  # the round runs as a job (issue 17.2)
    followed = web.get(response.headers["location"], follow_redirects=False)
    match = re.search(r"/hq/rounds/(\d+)", followed.headers["location"])
    assert match, followed.headers["location"]
    with session_scope(engine) as session:
        stored = session.get(AllocationRound, int(match.group(1)))
        assert stored is not None
        report = json.loads(stored.report)
    assert report["objective_mode"] == "expected_value"
    assert report["value"]["price_per_km_fen"] == 500
    for bad in ({"objective": "revenue"}, {"price_per_km_fen": "0"}):
        refused = web.post("/hq/rounds", data={**form, **bad})
        assert refused.status_code == 422, bad
    shown = web.get(f"/hq/rounds/{match.group(1)}").text
    assert '<span data-testid="objective">期望成交价值</span>' in shown
    assert "期望收入 ¥" in shown
