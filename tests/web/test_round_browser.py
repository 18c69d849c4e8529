"""HQ runs a round in a real Chromium: start a preview, read it, commit it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import LiveServer, screenshot, sign_in
from tests.web.round_data import import_demo_pool

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime


def test_hq_starts_a_round_previews_it_and_commits_it(
    new_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    engine = live_server.engine
    import_demo_pool(engine, live_server.settings, tmp_path, leads=300, branches=40)
    engine.dispose()
    page = new_page()
    sign_in(page, "hq1")
    page.click("nav >> text=分配轮次")
    assert "发起新一轮分配" in page.get_by_test_id("start-round").inner_text()
    page.fill("#balance_weight", "0")
    page.check("input[name=mode][value=preview]")
    page.get_by_test_id("start-button").click()
    page.wait_for_url(re.compile(r"/hq/rounds/\d+\?done=previewed$"))
    assert "预览已生成" in page.get_by_test_id("flash").inner_text()
    comparison = page.get_by_test_id("comparison").inner_text()
    assert "贪心" in comparison
    assert "加权随机" in comparison
    assert "已证明" in page.get_by_test_id("stat-gap").inner_text()
    assert page.locator("[data-testid=round-map] rect.site").count() > 10
    assert page.locator("[data-testid=round-map] line").count() >= 10
    screenshot(page, "hq-round-preview")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_test_id("commit-button").click()
    page.wait_for_url(re.compile(r"/hq/rounds/\d+\?done=committed$"))
    assert "本轮已提交" in page.get_by_test_id("flash").inner_text()
    assert "提交后不可撤销" in questions[0]
    assert page.get_by_test_id("commit-button").count() == 0
    screenshot(page, "hq-round")
    page.click("text=仅未分配")
    assert "show=unassigned" in page.url
    page.click("nav >> text=分配轮次")
    rows = page.get_by_test_id("round-table").inner_text()
    assert "已提交" in rows
    assert "hq1" in rows
    screenshot(page, "hq-rounds")


def test_solve_and_commit_asks_first_and_a_no_leaves_everything_as_it_was(
    new_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    import_demo_pool(live_server.engine, live_server.settings, tmp_path, leads=60, branches=10)
    live_server.engine.dispose()
    page = new_page()
    sign_in(page, "hq1")
    page.click("nav >> text=分配轮次")
    page.check("input[name=mode][value=commit]")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_test_id("start-button").click()
    assert "提交后不可撤销" in questions[0]
    assert page.url.endswith("/hq/rounds")  # nothing was sent
    assert page.get_by_test_id("start-button").is_enabled()
    page.check("input[name=mode][value=preview]")  # a preview does not ask
    page.get_by_test_id("start-button").click()
    page.wait_for_url(re.compile(r"/hq/rounds/\d+\?done=previewed$"))
    assert len(questions) == 1
