"""HQ imports in a real Chromium: a GBK CSV with a bad row, then an Excel workbook, a template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app.workbooks import LEAD_ROWS, workbook_bytes
from tests.web.browser import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime

BAD_GBK = "external_id,channel,name,mobile,lat,lon\nB1,app,张三,13800138000,95,114\n"


def test_hq_uploads_a_gbk_file_fixes_it_as_a_workbook_and_gets_a_template(
    new_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    bad, good = tmp_path / "线索.csv", tmp_path / "线索.xlsx"
    bad.write_bytes(BAD_GBK.encode("gbk"))
    good.write_bytes(workbook_bytes(LEAD_ROWS))
    page = new_page()
    sign_in(page, "hq1")
    page.click("nav >> text=导入线索与网点")
    page.set_input_files("#leads-file", str(bad))
    page.get_by_test_id("upload-leads-button").click()
    page.wait_for_load_state()
    errors = page.get_by_test_id("import-errors").inner_text()
    assert "纬度 95 超出范围" in errors
    assert page.get_by_test_id("row-error").count() == 1
    screenshot(page, "hq-import-rejected")
    page.set_input_files("#leads-file", str(good))
    page.get_by_test_id("upload-leads-button").click()
    page.wait_for_load_state()
    result = page.get_by_test_id("import-result").inner_text()
    assert "Excel 工作簿（工作表“Sheet1”）" in result
    assert page.get_by_test_id("inserted").inner_text() == "3"
    screenshot(page, "hq-imports")
    with page.expect_download() as info:
        page.get_by_test_id("leads-template").click()
    template = Path(info.value.path()).read_bytes()
    assert template.startswith("\ufeffexternal_id,".encode())
