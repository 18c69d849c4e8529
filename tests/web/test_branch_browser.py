"""Branch management in a real Chromium: a capacity below the customers held is refused
beside the field with the typed number kept; a new branch is created after a refused try."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import LiveServer, screenshot, sign_in
from tests.web.helpers import add_lead
from tests.web.test_accessibility import _blocking

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime


def test_hq_changes_a_capacity_and_creates_a_branch(new_page: Any, live_server: LiveServer) -> None:
    engine = live_server.engine
    for i in range(2):
        add_lead(engine, external_id=f"H-{i}", branch_id=live_server.branch_ids["SZ-FT"])
    engine.dispose()
    page = new_page()
    sign_in(page, "hq1")
    page.click("nav >> text=营业部网点")
    cell = page.locator('td[data-branch="SZ-FT"]')
    cell.locator("summary").click()
    cell.locator("input[name=capacity]").fill("1")
    cell.get_by_role("button", name="修改容量").click()
    page.wait_for_load_state()
    cell = page.locator('td[data-branch="SZ-FT"]')
    assert "正在跟进的 2 位客户" in cell.get_by_test_id("row-error").inner_text()
    assert cell.locator("input[name=capacity]").input_value() == "1"
    assert _blocking(page) == []
    screenshot(page, "hq-branches-capacity-refused")
    cell.locator("input[name=capacity]").fill("3")
    cell.get_by_role("button", name="修改容量").click()
    page.wait_for_url("**/hq/branches?done=capacity")
    page.fill("#branch-code", "GZ-TH")
    page.fill("#branch-name", "广州天河营业部")
    page.fill("#branch-lat", "123")
    page.fill("#branch-lon", "113.33")
    page.fill("#branch-capacity", "40")
    page.get_by_role("button", name="创建营业部").click()
    page.wait_for_load_state()
    assert "超出范围" in page.get_by_test_id("error-lat").inner_text()
    assert page.input_value("#branch-name") == "广州天河营业部"
    page.fill("#branch-lat", "23.13")
    page.get_by_role("button", name="创建营业部").click()
    page.wait_for_url("**/hq/branches?done=created")
    assert "广州天河营业部" in page.get_by_test_id("branch-table").inner_text()
    screenshot(page, "hq-branches")
