"""HQ imports lead and branch files over the API: the CLI's importers, reports and audit."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.db import session_scope
from app.tables import AuditRecord, Branch, Lead
from tests.app.factories import BRANCHES_CSV, login
from tests.app.workbooks import BRANCH_ROWS, LEAD_ROWS, workbook_bytes

LEADS_CSV = "external_id,channel,name,mobile\nW1,app,张三,13800138000\nW2,app,李四,13912345678\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _post(client: TestClient, user: str, what: str, name: str, data: bytes, **form: str):  # type: ignore[no-untyped-def]
    files = {"file": (name, data, "application/octet-stream")}
    return client.post(
        f"/api/v1/imports/{what}", files=files, data=form, headers=login(client, user)
    )


def _leads(engine: Engine) -> dict[str, Lead]:
    with session_scope(engine) as session:
        return {lead.external_id: lead for lead in session.exec(select(Lead))}


def test_hq_imports_a_gbk_lead_file_and_gets_the_cli_report(
    client: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    response = _post(client, "hq1", "leads", "线索.csv", LEADS_CSV.encode("gbk"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "file": "线索.csv", "format": "csv", "encoding": "gb18030", "sheet": None, "rows": 2,
        "inserted": 2, "updated": 0, "unchanged": 0, "linked": 0, "repooled": 0,
        "seconds": response.json()["seconds"],
    }  # fmt: skip
    assert _leads(engine)["W1"].name == "张三"
    again = _post(client, "hq1", "leads", "线索.csv", LEADS_CSV.encode("gbk"))
    assert (again.json()["inserted"], again.json()["unchanged"]) == (0, 2)


def test_an_import_over_the_api_is_audited_as_the_user_who_sent_it(
    client: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    assert _post(client, "hq1", "leads", "l.csv", LEADS_CSV.encode()).status_code == 200
    with session_scope(engine) as session:
        [record] = session.exec(select(AuditRecord).where(AuditRecord.action == "import.leads"))
    assert record.actor == "hq1"
    assert json.loads(record.detail)["inserted"] == 2


def test_hq_imports_a_branch_workbook_with_a_channel_free_form(
    client: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    rows = [*BRANCH_ROWS[:2], ["GZ-TH", "广州天河营业部", 23.13, 113.33, 60, None, 440106, True]]
    response = _post(client, "hq1", "branches", "branches.xlsx", workbook_bytes(rows))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["format"], body["sheet"], body["inserted"], body["unchanged"]) == (
        "xlsx", "Sheet1", 1, 1,
    )  # fmt: skip
    with session_scope(engine) as session:
        names = {b.code: b.name for b in session.exec(select(Branch).order_by(col(Branch.code)))}
    assert names["GZ-TH"] == "广州天河营业部"


def test_a_lead_workbook_with_a_default_channel_and_a_declared_format(
    client: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    rows = [[cell for k, cell in enumerate(row) if k != 1] for row in LEAD_ROWS]  # no channel
    response = _post(
        client, "hq1", "leads", "upload.bin", workbook_bytes(rows), channel="wechat", format="xlsx"
    )
    assert response.status_code == 200, response.text
    assert {lead.channel for lead in _leads(engine).values()} == {"wechat"}


def test_a_rejected_file_answers_422_with_its_rows_and_writes_nothing(
    client: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    bad = BRANCHES_CSV.replace("22.541,114.055,100", "95,114.055,100")
    response = _post(client, "hq1", "branches", "b.csv", bad.encode("gbk"), encoding="gbk")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"file": "b.csv", "line": 2, "column": "lat", "reason": "latitude 95 is outside [-90, 90]"}
    ]


def test_an_undecodable_file_is_refused_at_its_line(
    client: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    response = _post(client, "hq1", "leads", "x.csv", LEADS_CSV.encode() + b"W3,app,\xff\n")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["line"], error["column"]) == (4, "*")
    assert _leads(engine) == {}


def test_a_declared_encoding_must_be_one_the_api_knows(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    response = _post(client, "hq1", "leads", "l.csv", LEADS_CSV.encode(), encoding="big5")
    assert response.status_code == 422


def test_branch_staff_finance_and_auditors_may_not_import(
    client: TestClient, branch_ids: dict[str, int], engine: Engine
) -> None:
    for user in ("sz1", "fin1", "aud1"):
        for what in ("leads", "branches"):
            response = _post(client, user, what, "l.csv", LEADS_CSV.encode())
            assert response.status_code == 403, (user, what)
    anonymous = client.post(
        "/api/v1/imports/leads", files={"file": ("l.csv", LEADS_CSV.encode(), "text/csv")}
    )
    assert anonymous.status_code == 401
    assert _leads(engine) == {}
