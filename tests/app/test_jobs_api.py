"""Rounds as jobs over the API: 202 at once, the job at Location, the round when it is done."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

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
