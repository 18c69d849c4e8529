"""A round job in a real Chromium: the job page refreshes itself while the job waits, and HQ
cancels it (after confirming); a round started from the form ends on its round page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.db import make_engine
from app.rounds.job import start_round_job
from app.rounds.service import RoundParams
from tests.web.browser import LiveServer, screenshot, sign_in
from tests.web.round_data import import_demo_pool
from tests.web.test_accessibility import WCAG_21_AA
from tests.web.test_narrow_screens import SIDEWAYS

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime


def test_hq_watches_a_queued_job_refresh_and_cancels_it(
    new_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    settings = live_server.settings.model_copy(update={"job_workers_in_process": 0})
    engine = make_engine(settings)
    import_demo_pool(engine, settings, tmp_path, leads=200, branches=30)
    # Queued from outside the server, whose worker has not started: the job waits.
    job_id = start_round_job(
        engine, settings=settings, actor="hq1", params=RoundParams(), commit=False
    )
    engine.dispose()
    page = new_page()
    sign_in(page, "hq1")
    page.goto(f"/hq/jobs/{job_id}")
    assert "排队中" in page.get_by_test_id("job-status").inner_text()
    assert "等待开始" in page.get_by_test_id("job-phase").inner_text()
    page.wait_for_url(re.compile(rf"/hq/jobs/{job_id}\?follow=1$"))  # it refreshed itself
    screenshot(page, "hq-job-queued")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_test_id("cancel-job").click()
    page.wait_for_url(re.compile(rf"/hq/jobs/{job_id}$"))
    assert "已取消" in page.get_by_test_id("job-status").inner_text()
    assert "已保存的预览会保留" in questions[0]
    assert page.get_by_test_id("cancel-job").count() == 0
    screenshot(page, "hq-job-cancelled")
    violations = Axe().run(page, options=WCAG_21_AA).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    phone = new_page(width=390, height=844)
    sign_in(phone, "hq1")
    phone.goto(f"/hq/jobs/{job_id}")
    assert phone.evaluate(SIDEWAYS) <= 0  # no sideways scrolling on a phone
    screenshot(phone, "hq-job-390")


def test_a_round_started_from_the_form_runs_as_a_job_and_ends_on_its_round(
    new_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    engine = live_server.engine
    import_demo_pool(engine, live_server.settings, tmp_path, leads=300, branches=40)
    engine.dispose()
    page = new_page()
    sign_in(page, "hq1")
    page.goto("/hq/rounds")
    page.check("input[name=mode][value=commit]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("start-button").click()
    page.wait_for_url(re.compile(r"/hq/rounds/\d+\?done=committed$"))
    assert "本轮已提交" in page.get_by_test_id("flash").inner_text()
