"""Split policies in a real Chromium: a refused version says why beside the field and keeps
what was typed; the corrected one is saved after a confirmation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import LiveServer, screenshot, sign_in
from tests.web.test_accessibility import _blocking

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime


def test_finance_corrects_a_refused_version_and_saves_it(
    new_page: Any, live_server: LiveServer
) -> None:
    page = new_page()
    sign_in(page, "fin1")
    page.click("nav >> text=分成政策")
    page.fill("#policy_id", "PF-2027")
    page.select_option("#revenue_type", "advisory_fee")
    page.fill("#valid_from", "2027-01-01")
    page.fill("#branch_bps", "7000")
    page.fill("#hq_online_bps", "3500")
    page.fill("#reason", "投顾线上分成")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="保存新版本").click()
    page.wait_for_load_state()
    assert "合计 10500 基点" in page.get_by_test_id("error-all").inner_text()
    assert page.input_value("#hq_online_bps") == "3500"
    assert page.input_value("#revenue_type") == "advisory_fee"
    assert page.input_value("#reason") == "投顾线上分成"
    assert _blocking(page) == []
    screenshot(page, "finance-policies-refused")
    page.fill("#hq_online_bps", "3000")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="保存新版本").click()
    page.wait_for_url("**/finance/policies?done=added")
    row = page.locator('tr[data-policy="PF-2027"]').inner_text()
    assert "投顾费" in row
    assert "70%" in row
    screenshot(page, "finance-policies")
