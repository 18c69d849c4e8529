"""Rounds as jobs over the API: 202 at once, the job at Location, the round when it is done."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.main import create_app
from app.rounds.job import start_round_job
from app.rounds.service import RoundParams
from tests.app.factories import login
from tests.app.jobs_world import wait_for_job
from tests.app.rounds_world import pooled

__all__ = ["pooled"]  # a fixture
pytestmark = pytest.mark.real_clock  # a real worker thread runs the job; the test waits for it


def test_an_async_round_answers_202_with_its_job_and_the_job_leads_to_the_round(
    client: TestClient, engine: Engine, pooled: dict[str, int]
) -> None:
    hq = login(client, "hq1")
    queued = client.post("/api/v1/rounds?async=true", json={"commit": True}, headers=hq)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["id"]
    assert queued.headers["location"] == f"/api/v1/jobs/{job_id}"
    assert queued.json()["status"] in ("queued", "running")
    wait_for_job(engine, job_id)
    job = client.get(queued.headers["location"], headers=hq).json()
    assert (job["status"], job["percent"], job["steps"]) == ("succeeded", 100.0, 4)
    assert job["phase"] == "commit"
    assert job["elapsed_seconds"] >= 0
    round_ = client.get(f"/api/v1/rounds/{job['result']['round_id']}", headers=hq).json()
    assert (round_["status"], round_["assigned"]) == ("committed", 4)
    listed = client.get("/api/v1/jobs", headers=login(client, "aud1")).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == job_id


def test_an_async_round_is_solved_under_the_objective_it_was_asked_for(
    client: TestClient, engine: Engine, pooled: dict[str, int]
) -> None:
    hq = login(client, "hq1")
    body = {"commit": False, "objective": "tier_priority", "tier_weights_km": {"hnw": 5000}}
    queued = client.post("/api/v1/rounds?async=true", json=body, headers=hq)
    assert queued.status_code == 202, queued.text
    wait_for_job(engine, queued.json()["id"])
    job = client.get(queued.headers["location"], headers=hq).json()
    report = client.get(f"/api/v1/rounds/{job['result']['round_id']}", headers=hq).json()["report"]
    assert report["objective_mode"] == "tier_priority"
    assert report["value"]["tier_weights_km"]["hnw"] == 5000


def test_without_async_a_round_still_answers_201_with_the_round(
    client: TestClient, pooled: dict[str, int]
) -> None:
    created = client.post("/api/v1/rounds", json={"commit": False}, headers=login(client, "hq1"))
    assert created.status_code == 201
    assert created.json()["status"] == "solved"


def test_branch_users_cannot_see_or_cancel_jobs(client: TestClient, pooled: dict[str, int]) -> None:
    branch = login(client, "sz1")
    assert client.get("/api/v1/jobs", headers=branch).status_code == 403
    assert client.get("/api/v1/jobs/1", headers=branch).status_code == 403
    assert client.post("/api/v1/jobs/1/cancel", headers=branch).status_code == 403
    assert client.get("/api/v1/jobs/999", headers=login(client, "hq1")).status_code == 404


def test_an_async_commit_answers_202_and_a_round_that_cannot_commit_is_refused_at_once(
    client: TestClient, engine: Engine, pooled: dict[str, int]
) -> None:
    hq = login(client, "hq1")
    preview = client.post("/api/v1/rounds", json={"commit": False}, headers=hq).json()["id"]
    queued = client.post(f"/api/v1/rounds/{preview}/commit?async=true", headers=hq)
    assert queued.status_code == 202, queued.text
    job = wait_for_job(engine, queued.json()["id"])
    assert (job.status, job.steps, job.result) == ("succeeded", 1, {"round_id": preview})
    assert client.get(f"/api/v1/rounds/{preview}", headers=hq).json()["status"] == "committed"
    again = client.post(f"/api/v1/rounds/{preview}/commit?async=true", headers=hq)
    assert again.status_code == 409
    assert "only a solved round can be committed" in again.json()["detail"]
    assert client.post("/api/v1/rounds/999999/commit?async=true", headers=hq).status_code == 404


def test_a_job_left_queued_when_the_server_stopped_runs_when_it_starts_again(
    settings: Settings, engine: Engine, pooled: dict[str, int]
) -> None:
    """No worker ran while the server was down; the restarted server's own worker takes it."""
    stopped = settings.model_copy(update={"job_workers_in_process": 0})
    job_id = start_round_job(
        engine, settings=stopped, actor="hq1", params=RoundParams(), commit=False
    )
    app = create_app(settings)  # O2O_JOB_WORKERS_IN_PROCESS=1, the default
    with TestClient(app):
        job = wait_for_job(engine, job_id)
    app.state.engine.dispose()
    assert (job.status, job.result["round_id"] > 0) == ("succeeded", True)
