"""A lead import as a job over the API: 202 at once, a real worker imports the file, the job
keeps the report (or every bad row of a rejected file), and the kept upload is removed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import session_scope
from app.imports.job import job_files
from app.tables import Lead
from tests.app.factories import login
from tests.app.jobs_world import wait_for_job

pytestmark = pytest.mark.real_clock  # a real worker thread runs the job; the test waits for it
LEADS_CSV = "external_id,channel,name,mobile\nW1,app,张三,13800138000\nW2,app,李四,13912345678\n"


def _queue(client: TestClient, content: str) -> int:
    files = {"file": ("leads.csv", content.encode(), "text/csv")}
    queued = client.post(
        "/api/v1/imports/leads?async=true", files=files, data={"channel": "app"},
        headers=login(client, "hq1"),
    )  # fmt: skip
    assert queued.status_code == 202, queued.text
    assert queued.headers["location"] == f"/api/v1/jobs/{queued.json()['id']}"
    return int(queued.json()["id"])


def test_an_async_lead_import_runs_as_a_job_and_keeps_its_report(
    client: TestClient, engine: Engine, settings: Settings, branch_ids: dict[str, int]
) -> None:
    job = wait_for_job(engine, _queue(client, LEADS_CSV))
    assert (job.status, job.kind, job.phase, job.percent) == ("succeeded", "import.leads",
                                                              "import", 100.0)  # fmt: skip
    assert (job.result["report"]["rows"], job.result["report"]["inserted"]) == (2, 2)
    with session_scope(engine) as session:
        assert sorted(lead.external_id for lead in session.exec(select(Lead))) == ["W1", "W2"]
    assert list(job_files(settings).iterdir()) == []  # the kept upload is gone


def test_a_rejected_file_fails_its_job_with_every_bad_row_and_writes_nothing(
    client: TestClient, engine: Engine, settings: Settings, branch_ids: dict[str, int]
) -> None:
    bad = LEADS_CSV + "W3,app,王五,not-a-number\n"
    job = wait_for_job(engine, _queue(client, bad))
    assert (job.status, job.error_code, job.result["total_errors"]) == ("failed", "job.refused", 1)
    assert "nothing was written" in (job.error or "")
    [error] = job.result["errors"]
    assert (error["file"], error["line"], error["column"]) == ("leads.csv", 4, "mobile")
    assert error["code"] is not None  # the pages say it in Chinese
    with session_scope(engine) as session:
        assert session.exec(select(Lead)).all() == []
    assert list(job_files(settings).iterdir()) == []
