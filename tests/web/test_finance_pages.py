"""Finance pages: import with reconciliation, rejected files, close, statements, exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.journal import service
from ledger.export import CSV_BOM, EXPORT_COLUMNS
from tests.app.ledger_world import close_is_sealed
from tests.web.finance_data import BAD, HEADER, OCTOBER, count, own_leads, this_month
from tests.web.helpers import sign_in

UPLOAD_OK = 'data-testid="import-result"'


@pytest.fixture
def owned(engine: Engine, branch_ids: dict[str, int]) -> None:
    own_leads(engine, branch_ids)


def upload(web: TestClient, token: str, body: str, name: str = "october.csv") -> str:
    files = {"file": (name, body.encode("utf-8"), "text/csv")}
    response = web.post("/finance/imports", data={"csrf_token": token}, files=files)
    assert response.status_code in (200, 422), response.text
    return response.text


def import_file(engine: Engine, tmp_path: Path, body: str) -> None:
    path = tmp_path / "revenue.csv"
    path.write_text(body, encoding="utf-8")
    with session_scope(engine) as session:
        service.import_revenue(session, path=path, actor="test")


def test_finance_imports_a_file_and_sees_the_reconciliation(
    web: TestClient, engine: Engine, owned: None
) -> None:
    token = sign_in(web, "fin1")
    assert 'data-testid="upload"' in web.get("/finance/imports").text
    page = upload(web, token, OCTOBER)
    assert UPLOAD_OK in page
    result = page[page.index(UPLOAD_OK) : page.index('data-testid="upload"')]
    for figure in ("¥123.75", "¥120.50", "¥0.00", "¥3.25", "✓ 已平衡", "october.csv"):
        assert figure in result, figure
    assert '<strong data-testid="new-events">3</strong>' in result
    assert "挂账" in result
    assert page.count("data-batch-id=") == 1
    replay = upload(web, token, OCTOBER)
    assert "无新事件，未生成批次" in replay
    assert '<strong data-testid="new-events">0</strong>' in replay
    assert count(engine, "revenue_batch") == 1
    assert count(engine, "revenue_event") == 3


def test_a_bad_file_lists_lines_and_columns_and_writes_nothing(
    web: TestClient, engine: Engine, owned: None
) -> None:
    files = {"file": ("bad.csv", BAD.encode("utf-8"), "text/csv")}
    token = sign_in(web, "fin1")
    response = web.post("/finance/imports", data={"csrf_token": token}, files=files)
    assert response.status_code == 422
    page = response.text
    assert "文件被拒绝：bad.csv" in page
    assert UPLOAD_OK not in page
    assert page.count('data-testid="row-error"') == 2
    assert '<td>bad.csv</td><td class="num">2</td><td class="mono">amount</td>' in page
    assert '<td class="num">3</td><td class="mono">external_id</td>' in page
    assert "金额 1.001 超过两位小数" in page  # the reason in Chinese, the original beneath
    assert "渠道 app 中没有 external_id 为 ZZ 的线索" in page
    for table in ("revenue_batch", "revenue_event", "ledger_entry", "ledger_posting"):
        assert count(engine, table) == 0, table


def test_every_kind_of_bad_cell_reads_in_chinese_with_the_english_beneath(
    web: TestClient, engine: Engine, owned: None
) -> None:
    body = HEADER + (
        "E1,A1,royalty,10.00,2026-10-05T10:00:00,app\n"
        "E2,A1,product_fee,0,2026-10-06T10:00:00,app\n"
        "E3,A1,product_fee,1e3,someday,app\n"
    )
    files = {"file": ("worse.csv", body.encode("utf-8"), "text/csv")}
    response = web.post("/finance/imports", data={"csrf_token": sign_in(web, "fin1")}, files=files)
    assert response.status_code == 422
    reasons = re.findall(r'data-testid="row-error">.*?</td><td>(.*?)</td></tr>', response.text)
    chinese = [reason.split('<span class="sub">')[0] for reason in reasons]
    assert chinese == [
        "未知的收入类型 royalty（应为 brokerage_commission, product_fee, margin_interest, "
        "advisory_fee, other 之一）",
        "金额为零",
        "金额 1e3 使用了科学计数法",
        "时间 someday 不是 ISO 8601 格式",
    ]
    assert all('<span class="sub">' in reason for reason in reasons)  # the English beneath


def test_the_ledger_shows_a_month_by_branch_with_suspense(
    web: TestClient, engine: Engine, owned: None, tmp_path: Path
) -> None:
    import_file(engine, tmp_path, OCTOBER)
    sign_in(web, "aud1")
    page = web.get("/finance/ledger").text  # the latest month with entries
    assert "台账 · 2026-10" in page
    branches = page[page.index('data-testid="branch-table"') : page.index("</table>")]
    assert branches.index("SZ-FT") < branches.index("BJ-CY")  # biggest first
    assert "深圳福田营业部" in branches
    assert "¥100.50" in branches
    at = page.index('data-testid="stat-suspense"')
    assert page[at - 30 : at].endswith('class="stat alert" ')  # shown as an alert
    assert "¥3.25" in page[at : at + 300]
    assert "suspense:unowned" in page
    assert 'data-testid="close-period"' not in page  # auditors read only
    assert "未结账" in page


def test_finance_closes_a_period_and_reads_its_statements(
    web: TestClient, engine: Engine, owned: None, tmp_path: Path
) -> None:
    import_file(engine, tmp_path, OCTOBER)
    token = sign_in(web, "fin1")
    ledger = web.get("/finance/ledger").text
    assert 'value="2026-10"' in ledger  # the month to close next is suggested
    unconfirmed = web.post("/finance/close", data={"csrf_token": token, "period": "2026-10"})
    assert unconfirmed.status_code == 422
    form = {"csrf_token": token, "period": "2026-10", "confirm": "yes"}
    closed = web.post("/finance/close", data=form, follow_redirects=False)
    assert closed.status_code == 303
    assert close_is_sealed(engine)  # linked into the audit chain after the commit
    assert closed.headers["location"] == "/finance/ledger?period=2026-10&done=closed"
    page = web.get(closed.headers["location"]).text
    assert "2026-10 已结账" in page
    assert 'data-testid="period-status">已结账' in page
    assert 'id="period" name="period" value=""' in page  # nothing else has ended yet
    again = web.post("/finance/close", data=form)
    assert again.status_code == 409
    assert "该月份已经结账" in again.text
    with session_scope(engine) as session:
        stored = {s.branch_code: s.sha256 for s in service.list_statements(session).items}
    assert set(stored) == {"SZ-FT", "BJ-CY"}
    listing = web.get("/finance/statements?period=2026-10").text
    for code, sha in stored.items():
        assert f'data-statement="2026-10/{code}"' in listing
        assert sha in listing
    download = web.get("/finance/statements/2026-10/SZ-FT")
    assert download.headers["x-content-sha256"] == stored["SZ-FT"]
    assert "attachment" in download.headers["content-disposition"]


def test_the_current_month_cannot_be_closed(web: TestClient, owned: None) -> None:
    token = sign_in(web, "fin1")
    period = this_month().splitlines()[1].split(",")[4][:7]
    form = {"csrf_token": token, "period": period, "confirm": "yes"}
    response = web.post("/finance/close", data=form)
    assert response.status_code == 422
    assert "当月及未来月份不能结账" in response.text


def test_exports_download_with_the_bom_and_the_spec_header(
    web: TestClient, engine: Engine, owned: None, tmp_path: Path
) -> None:
    import_file(engine, tmp_path, OCTOBER)
    sign_in(web, "aud1")
    csv = web.get("/finance/export?period=2026-10&format=csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="ledger-2026-10.csv"' in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8").splitlines()
    assert lines[0] == CSV_BOM + ",".join(EXPORT_COLUMNS)
    assert lines[0].startswith("\ufeffentry_id,event_id,occurred_at,posted_at,period,account,")
    assert len(lines) == 1 + 6  # three events, two postings each
    xlsx = web.get("/finance/export?period=2026-10&format=xlsx")
    assert xlsx.content[:2] == b"PK"
    assert count(engine, "audit_log WHERE action = 'ledger.export'") == 2
    assert web.get("/finance/export?period=2026-13").status_code == 422


def test_a_branch_sees_its_own_revenue_this_month_only(
    web: TestClient, engine: Engine, owned: None, tmp_path: Path
) -> None:
    import_file(engine, tmp_path, this_month())
    sign_in(web, "sz1")
    home = web.get("/").text
    figure = home[home.index('data-testid="stat-revenue"') :][:300]
    assert "¥500.00" in figure
    assert "¥77.77" not in home
    web.cookies.clear()
    sign_in(web, "bj1")
    home = web.get("/").text
    assert "¥77.77" in home[home.index('data-testid="stat-revenue"') :][:300]
    assert "¥500.00" not in home


def test_finance_home_has_the_ledger_card(
    web: TestClient, engine: Engine, owned: None, tmp_path: Path
) -> None:
    import_file(engine, tmp_path, this_month())
    sign_in(web, "fin1")
    home = web.get("/").text
    assert 'data-testid="finance-card"' in home
    assert "¥577.77" in home
    assert 'href="/finance/imports"' in home


@pytest.mark.parametrize("username", ["hq1", "sz1", "aud1"])
def test_only_finance_may_import_or_close(
    web: TestClient, engine: Engine, owned: None, username: str
) -> None:
    token = sign_in(web, username)
    files = {"file": ("x.csv", OCTOBER.encode("utf-8"), "text/csv")}
    assert web.post("/finance/imports", data={"csrf_token": token}, files=files).status_code == 403
    form = {"csrf_token": token, "period": "2026-10", "confirm": "yes"}
    assert web.post("/finance/close", data=form).status_code == 403
    expected = 200 if username == "aud1" else 403
    assert web.get("/finance/export?period=2026-10").status_code == expected
    assert count(engine, "revenue_event") == 0


def test_a_form_without_the_session_token_is_refused(web: TestClient, owned: None) -> None:
    sign_in(web, "fin1")
    files = {"file": ("x.csv", OCTOBER.encode("utf-8"), "text/csv")}
    assert web.post("/finance/imports", files=files).status_code == 403
    assert web.post("/finance/imports", data={"csrf_token": "x"}, files=files).status_code == 403
