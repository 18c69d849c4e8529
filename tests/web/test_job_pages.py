"""The job page: HQ starts a round, watches its job (phase, progress, elapsed), is taken to the
round when it is done; a queued job is cancelled from its page; a failed one says why in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.main import create_app
from app.rounds.lock import round_lock
from app.web import install_web
from tests.web.helpers import run_job_here, sign_in
from tests.web.round_data import import_pool


@pytest.fixture
def pooled(engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path) -> None:
    import_pool(engine, settings, tmp_path)


def _queue(web: TestClient, token: str, mode: str = "preview") -> tuple[int, str]:
    form = {"csrf_token": token, "balance_weight": "0", "max_distance_km": "", "mode": mode}
    response = web.post("/hq/rounds", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    match = re.fullmatch(r"/hq/jobs/(\d+)\?follow=1", location)
    assert match, location
    return int(match.group(1)), location


def test_hq_watches_a_round_job_and_is_taken_to_the_round_when_it_is_done(
    web: TestClient, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    job_id, location = _queue(web, token, mode="commit")
    waiting = web.get(location).text
    assert "分配轮次 · 任务" in waiting
    assert "排队中" in waiting
    assert "等待开始" in waiting
    assert f'data-follow="/hq/jobs/{job_id}?follow=1"' in waiting
    assert "job.js" in waiting
    assert 'data-testid="cancel-job"' in waiting
    listing = web.get("/hq/rounds").text
    assert f'href="/hq/jobs/{job_id}?follow=1"' in listing
    assert re.search(r'data-testid="start-button" disabled', listing)
    run_job_here(web, job_id)
    followed = web.get(location, follow_redirects=False)
    assert followed.status_code == 303
    assert re.fullmatch(r"/hq/rounds/\d+\?done=committed", followed.headers["location"])
    done = web.get(f"/hq/jobs/{job_id}").text
    assert "已完成" in done
    assert "第 4 / 4 步：提交" in done
    assert 'data-testid="job-percent">100%' in done
    assert "data-follow" not in done
    assert 'data-testid="cancel-job"' not in done
    assert 'data-testid="job-round"' in done
    assert 'data-testid="active-job"' not in web.get("/hq/rounds").text


def test_hq_cancels_a_queued_job_and_auditors_only_read_it(web: TestClient, pooled: None) -> None:
    token = sign_in(web, "hq1")
    job_id, _ = _queue(web, token)
    cancelled = web.post(f"/hq/jobs/{job_id}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 200
    assert "已取消" in cancelled.text
    assert 'data-testid="cancel-job"' not in cancelled.text
    again = web.post(f"/hq/jobs/{job_id}/cancel", data={"csrf_token": token})
    assert again.status_code == 409
    assert "不能再取消" in again.text
    sign_in(web, "aud1")
    assert "已取消" in web.get(f"/hq/jobs/{job_id}").text
    assert web.get("/hq/jobs/999999").status_code == 404


def test_a_job_that_failed_says_why_in_chinese(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    job_id, location = _queue(web, token)
    with round_lock(engine, actor="cli:ops"):  # a round from the command line got there first
        run_job_here(web, job_id)
    page = web.get(location).text
    assert "失败" in page
    assert "另一轮分配正在求解或提交" in page
    assert "another round" not in page


@pytest.fixture
def big_files_web(settings: Settings) -> Iterator[TestClient]:
    """The import page with every lead file counted as big (a job), and no worker threads."""
    quiet = settings.model_copy(update={"job_workers_in_process": 0, "import_job_min_bytes": 0})
    app = create_app(quiet)
    install_web(app, quiet)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _upload(web: TestClient, token: str, content: str) -> str:
    files = {"file": ("大文件.csv", content.encode(), "text/csv")}
    queued = web.post("/hq/imports/leads", data={"csrf_token": token, "encoding": "auto"},
                      files=files, follow_redirects=False)  # fmt: skip
    assert queued.status_code == 303, queued.text
    location = queued.headers["location"]
    assert re.fullmatch(r"/hq/jobs/\d+", location), location
    run_job_here(web, int(location.rsplit("/", 1)[1]))
    return web.get(location).text


def test_a_big_lead_file_from_the_import_page_is_imported_by_a_job_with_its_report(
    big_files_web: TestClient, branch_ids: dict[str, int]
) -> None:
    token = sign_in(big_files_web, "hq1")
    page = _upload(big_files_web, token, "external_id,channel,mobile\nJ1,app,13800138000\n")
    assert "导入线索 · 任务" in page
    assert "已完成" in page
    assert "导入完成：大文件.csv" in page
    assert 'data-testid="inserted">1<' in page


def test_a_rejected_big_file_shows_every_bad_row_in_chinese_on_the_job_page(
    big_files_web: TestClient, branch_ids: dict[str, int]
) -> None:
    token = sign_in(big_files_web, "hq1")
    page = _upload(big_files_web, token, "external_id,channel,tier\nJ1,app,platinum\n")
    assert "失败" in page
    assert "文件被拒绝：大文件.csv" in page
    assert page.count('data-testid="row-error"') == 1
    assert "“platinum”不是客户层级" in page  # said in Chinese from the stored code
