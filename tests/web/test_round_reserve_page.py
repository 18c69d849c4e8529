"""The HQ round form's room for arrivals (issue 16.2): passed to the round, said beside the field
when it is neither empty, `auto` nor a count, and the room kept shown on the round's page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.intake.keys import issue_key
from app.tables import AllocationRound
from tests.web.helpers import run_job_here, sign_in
from tests.web.round_data import import_pool


@pytest.fixture
def pooled(engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path) -> None:
    import_pool(engine, settings, tmp_path)  # channel "app", which now pushes through the API
    with session_scope(engine) as session:
        issue_key(session, channel="app", actor="hq1")


def _started_round(web: TestClient, form: dict[str, str]) -> int:
    response = web.post("/hq/rounds", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    job = re.fullmatch(r"/hq/jobs/(\d+)\?follow=1", response.headers["location"])
    assert job, response.headers["location"]
    run_job_here(web, int(job.group(1)))
    followed = web.get(response.headers["location"], follow_redirects=False)
    match = re.search(r"/hq/rounds/(\d+)", followed.headers["location"])
    assert match, followed.headers["location"]
    return int(match.group(1))


def test_the_form_keeps_room_for_arrivals_and_the_page_shows_it(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    assert 'name="reserve_for_arrivals"' in web.get("/hq/rounds").text
    form = {"csrf_token": token, "balance_weight": "0", "max_distance_km": "", "mode": "preview",
            "objective": "distance", "reserve_for_arrivals": "auto"}  # fmt: skip
    round_id = _started_round(web, form)
    with session_scope(engine) as session:
        stored = session.get(AllocationRound, round_id)
        assert stored is not None
        reserve = json.loads(stored.report)["reserve"]
    assert reserve["asked"] == "auto"
    assert reserve["recent_arrivals"] > 0
    assert reserve["kept"] == reserve["forecast_leads"] > 0
    shown = web.get(f"/hq/rounds/{round_id}").text
    assert 'data-testid="stat-reserve"' in shown
    assert "为新到线索预留" in shown
    assert "按近期接入估算" in shown
    without = _started_round(web, {**form, "reserve_for_arrivals": ""})
    assert 'data-testid="stat-reserve"' not in web.get(f"/hq/rounds/{without}").text


@pytest.mark.parametrize("bad", ["soon", "-3", "2.5", "9999999"])
def test_a_bad_value_is_said_beside_the_field_and_kept(
    web: TestClient, engine: Engine, pooled: None, bad: str
) -> None:
    token = sign_in(web, "hq1")
    form = {"csrf_token": token, "balance_weight": "0", "max_distance_km": "", "mode": "preview",
            "objective": "distance", "reserve_for_arrivals": bad}  # fmt: skip
    refused = web.post("/hq/rounds", data=form)
    assert refused.status_code == 422
    assert 'data-testid="error-reserve_for_arrivals"' in refused.text
    assert "须留空（不预留）、填 auto 或 0 至 1000000 的整数" in refused.text
    assert f'value="{bad}"' in refused.text
    with session_scope(engine) as session:
        assert session.get(AllocationRound, 1) is None
