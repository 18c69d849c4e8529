"""HQ's import page: upload lead and branch files as Excel saves them, read the report in Chinese."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.db import session_scope
from app.tables import Branch, Lead
from tests.app.factories import BRANCHES_CSV
from tests.app.workbooks import BRANCH_ROWS, workbook_bytes
from tests.web.helpers import sign_in

RESULT = 'data-testid="import-result"'
LEADS_CSV = "external_id,channel,name,mobile\nP1,app,张三,13800138000\nP2,app,李四,13912345678\n"


def upload(
    web: TestClient, token: str, kind: str, name: str, data: bytes, **form: str
) -> tuple[int, str]:
    files = {"file": (name, data, "application/octet-stream")}
    response = web.post(f"/hq/imports/{kind}", data={"csrf_token": token, **form}, files=files)
    return response.status_code, response.text


def _leads(engine: Engine) -> dict[str, Lead]:
    with session_scope(engine) as session:
        return {lead.external_id: lead for lead in session.exec(select(Lead))}


@pytest.fixture
def hq(web: TestClient, branch_ids: dict[str, int]) -> str:
    return sign_in(web, "hq1")


def test_hq_finds_the_page_with_both_forms_and_the_templates(web: TestClient, hq: str) -> None:
    assert 'href="/hq/imports"' in web.get("/").text
    page = web.get("/hq/imports").text
    for testid in ("upload-leads", "upload-branches", "leads-template", "branches-template"):
        assert f'data-testid="{testid}"' in page, testid
    assert "自动识别（推荐）" in page
    assert page.count('data-testid="past-import"') == 1  # the fixture's branches.csv


def test_a_gbk_lead_file_is_imported_and_the_report_names_its_encoding(
    web: TestClient, hq: str, engine: Engine
) -> None:
    status, page = upload(web, hq, "leads", "线索.csv", LEADS_CSV.encode("gbk"))
    assert status == 200, page
    assert RESULT in page
    assert "导入完成：线索.csv" in page
    assert "CSV（GBK/GB18030 编码）" in page
    assert '新增 <strong data-testid="inserted">2</strong>' in page
    recent = page[page.index('data-testid="recent-imports"') :]
    assert recent.count('data-testid="past-import"') == 2
    assert recent.index("线索.csv") < recent.index("branches.csv")  # newest first
    assert _leads(engine)["P1"].name == "张三"


def test_a_branch_workbook_updates_and_adds_branches(
    web: TestClient, hq: str, engine: Engine
) -> None:
    header, shenzhen = BRANCH_ROWS[:2]
    shenzhen = (*shenzhen[:4], 120, *shenzhen[5:])  # SZ-FT's capacity changes
    rows = [header, shenzhen, ("GZ-TH", "广州天河营业部", 23.13, 113.33, 60, None, 440106, True)]
    status, page = upload(web, hq, "branches", "网点.xlsx", workbook_bytes(rows))
    assert status == 200, page
    assert "Excel 工作簿（工作表“Sheet1”）" in page
    assert '新增 <strong data-testid="inserted">1</strong>' in page
    assert '更新 <strong data-testid="updated">1</strong>' in page
    with session_scope(engine) as session:
        capacities = {b.code: b.capacity for b in session.exec(select(Branch))}
    assert (capacities["SZ-FT"], capacities["GZ-TH"]) == (120, 60)


def test_a_rejected_file_lists_every_bad_cell_in_chinese_and_writes_nothing(
    web: TestClient, hq: str, engine: Engine
) -> None:
    bad = BRANCHES_CSV.replace("22.541,114.055,100", "95,114.055,100").replace(",80,", ",x,")
    status, page = upload(web, hq, "branches", "网点.csv", bad.encode("gbk"))
    assert status == 422
    assert RESULT not in page
    assert "文件被拒绝：网点.csv" in page
    assert page.count('data-testid="row-error"') == 2
    assert "纬度 95 超出范围" in page
    assert "“x”不是整数" in page
    with session_scope(engine) as session:
        assert session.exec(select(Branch).where(Branch.code == "SZ-FT")).one().capacity == 100


def test_reasons_the_old_translation_table_missed_read_in_chinese_too(
    web: TestClient, hq: str, engine: Engine
) -> None:
    bad = BRANCHES_CSV.replace(",80,", ",-5,").replace("SH-PD,", "SH PD,")
    status, page = upload(web, hq, "branches", "网点.csv", bad.encode("utf-8"))
    assert status == 422
    assert "容量须不小于 0（现为 -5）" in page
    assert "“SH PD”不是由 1-32 个字母、数字、_ 或 - 组成的代码" in page
    assert "capacity must be &gt;= 0, got -5" in page  # the English beneath, as the API says it


def test_an_undecodable_file_is_explained_with_its_line(
    web: TestClient, hq: str, engine: Engine
) -> None:
    status, page = upload(web, hq, "leads", "坏.csv", LEADS_CSV.encode() + b"P3,app,\xff\n")
    assert status == 422
    assert "既不是 UTF-8 也不是 GBK/GB18030 编码（本行第 8 个字节 0xFF 无法识别）" in page
    assert '<td class="num">4</td>' in page
    assert _leads(engine) == {}


def test_a_downloaded_template_uploads_as_it_is(web: TestClient, hq: str, engine: Engine) -> None:
    for kind, header in (("leads", "external_id,channel,name"), ("branches", "code,name,lat")):
        response = web.get(f"/hq/imports/templates/{kind}.csv")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert f'filename="{kind}-template.csv"' in response.headers["content-disposition"]
        assert response.content.startswith("\ufeff".encode() + header.encode())
        status, page = upload(web, hq, kind, f"{kind}-template.csv", response.content)
        assert status == 200, page
        assert "CSV（UTF-8 编码）" in page
    assert set(_leads(engine)) == {"A0001"}


def test_a_lead_file_without_channels_takes_the_default_channel(
    web: TestClient, hq: str, engine: Engine
) -> None:
    body = "external_id,mobile\nC1,13800138000\n".encode("gbk")
    status, page = upload(web, hq, "leads", "c.csv", body, channel="wechat", encoding="gbk")
    assert status == 200, page
    assert _leads(engine)["C1"].channel == "wechat"


def test_branch_staff_and_auditors_cannot_upload_or_open_the_page(
    web: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    for username in ("sz1", "aud1", "fin1"):
        web.cookies.clear()
        token = sign_in(web, username)
        assert web.get("/hq/imports").status_code == 403
        status, _ = upload(web, token, "leads", "l.csv", LEADS_CSV.encode())
        assert status == 403, username
    assert _leads(engine) == {}
