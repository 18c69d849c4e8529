"""Finance in a real Chromium: import revenue, read the ledger, download the export, close."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ledger.export import CSV_BOM, EXPORT_COLUMNS
from tests.web.browser import LiveServer, screenshot, sign_in
from tests.web.finance_data import BAD, OCTOBER, own_leads

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime


def test_finance_imports_revenue_downloads_the_export_and_closes_the_month(
    new_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    engine = live_server.engine
    own_leads(engine, live_server.branch_ids)
    engine.dispose()
    bad, good = tmp_path / "bad.csv", tmp_path / "october.csv"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text(OCTOBER, encoding="utf-8")
    page = new_page()
    sign_in(page, "fin1")
    assert page.get_by_test_id("finance-card").is_visible()
    page.click("nav >> text=收入导入")
    page.set_input_files("#file", str(bad))
    page.get_by_test_id("upload-button").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("row-error").count() == 2
    assert "amount" in page.get_by_test_id("import-errors").inner_text()
    screenshot(page, "finance-import-rejected")
    page.set_input_files("#file", str(good))
    page.get_by_test_id("upload-button").click()
    page.wait_for_load_state()
    reconciliation = page.get_by_test_id("reconciliation").inner_text()
    assert "¥123.75" in reconciliation
    assert "已平衡" in reconciliation
    assert page.locator("[data-batch-id]").count() == 1
    screenshot(page, "finance-imports")
    page.click("nav >> text=台账与结账")
    assert "2026-10" in page.locator("h1").inner_text()
    assert "¥3.25" in page.get_by_test_id("stat-suspense").inner_text()
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    download = info.value
    assert download.suggested_filename == "ledger-2026-10.csv"
    text = Path(download.path()).read_bytes().decode("utf-8")
    assert text.startswith(CSV_BOM + ",".join(EXPORT_COLUMNS) + "\r\n")
    assert text.count("\r\n") == 7
    screenshot(page, "finance-ledger")
    page.check("input[name=confirm]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("close-button").click()
    page.wait_for_url(re.compile(r"/finance/ledger\?period=2026-10&done=closed$"))
    assert "已结账" in page.get_by_test_id("period-status").inner_text()
    page.click("nav >> text=对账单")
    statements = page.get_by_test_id("statement-table").inner_text()
    assert "SZ-FT" in statements
    assert "BJ-CY" in statements
    screenshot(page, "finance-statements")
    page.click("nav >> text=工作台")
    screenshot(page, "finance-home")
