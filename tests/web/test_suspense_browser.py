"""The suspense workbench in a real Chromium: a refused reclassification keeps what was typed,
a small one is posted, a large one waits for a second finance user who approves it; the page
passes axe-core and fits a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.db import session_scope
from app.journal import service
from tests.app.factories import add_user
from tests.web.browser import LiveServer, screenshot, sign_in
from tests.web.finance_data import HEADER, own_leads
from tests.web.test_accessibility import _blocking
from tests.web.test_narrow_screens import SIDEWAYS

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime

# C1 never had an owner. S-BIG is above the default approval threshold (50,000 yuan).
SUSPENSE = HEADER + (
    "S-SMALL,C1,other,3.25,2026-10-07T10:00:00,app\n"
    "S-BIG,C1,product_fee,60000.00,2026-10-08T10:00:00,app\n"
)


@pytest.fixture
def parked(live_server: LiveServer, tmp_path: Path) -> None:
    engine = live_server.engine
    own_leads(engine, live_server.branch_ids)
    add_user(engine, "fin2", "finance")
    path = tmp_path / "suspense.csv"
    path.write_text(SUSPENSE, encoding="utf-8")
    with session_scope(engine) as session:
        service.import_revenue(session, path=path, actor="test")
    engine.dispose()


def _open_row(page: Any, event: str) -> Any:
    row = page.locator(f'tr[data-event="{event}"]')
    row.locator("summary").click()
    return row


def test_finance_reclassifies_and_a_second_finance_user_approves_the_large_one(
    new_page: Any, parked: None
) -> None:
    page = new_page()
    sign_in(page, "fin1")
    page.click("nav >> text=待认领收入")
    assert "¥60,003.25" in page.get_by_test_id("suspense-total").inner_text()
    assert _blocking(page) == []
    screenshot(page, "finance-suspense")
    row = _open_row(page, "S-SMALL")
    row.locator("input[name=branch]").fill("NOPE")
    row.locator("[data-testid=reclassify-form] input[name=reason]").fill("客户属于福田")
    row.get_by_role("button", name="重分类").click()
    page.wait_for_load_state()
    row = page.locator('tr[data-event="S-SMALL"]')
    assert "没有代码为 NOPE 的营业部" in row.get_by_test_id("row-error").inner_text()
    assert row.locator("input[name=branch]").input_value() == "NOPE"
    assert (
        row.locator("[data-testid=reclassify-form] input[name=reason]").input_value()
        == "客户属于福田"
    )
    screenshot(page, "finance-suspense-refused")
    row.locator("input[name=branch]").fill("SZ-FT")
    row.get_by_role("button", name="重分类").click()
    page.wait_for_url("**/finance/suspense?done=reclassified")
    assert page.locator('tr[data-event="S-SMALL"]').count() == 0
    row = _open_row(page, "S-BIG")
    row.locator("input[name=branch]").fill("BJ-CY")
    row.locator("[data-testid=reclassify-form] input[name=reason]").fill("客户属于朝阳")
    row.get_by_role("button", name="重分类").click()
    page.wait_for_url("**/finance/suspense?done=requested")
    assert "待复核 #1" in page.locator('tr[data-event="S-BIG"]').inner_text()
    assert "等待另一位财务人员复核" in page.get_by_test_id("pending-requests").inner_text()
    second = new_page()
    sign_in(second, "fin2")
    second.goto("/finance/suspense")
    screenshot(second, "finance-suspense-approval")
    second.once("dialog", lambda dialog: dialog.accept())
    second.get_by_role("button", name="批准并入账").click()
    second.wait_for_url("**/finance/suspense?done=approved")
    assert second.locator('tr[data-event="S-BIG"]').count() == 0
    assert second.get_by_test_id("pending-requests").count() == 0


@pytest.mark.parametrize("width", [390])
def test_the_workbench_fits_a_phone(new_page: Any, parked: None, width: int) -> None:
    page = new_page(width=width, height=844)
    sign_in(page, "fin1")
    page.goto("/finance/suspense")
    _open_row(page, "S-BIG")
    assert page.evaluate(SIDEWAYS) <= 0
    screenshot(page, f"narrow-{width}-finance-suspense-open")
