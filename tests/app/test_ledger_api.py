"""Finance API: revenue upload, export download, period close, statements; auditors read only."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.main import create_app
from app.tables.base import utcnow
from tests.app.ledger_world import HEADER, NOW, auth, close_is_sealed, import_csv

ROWS = HEADER + "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"


def test_finance_uploads_revenue_and_a_replay_changes_nothing(api: TestClient) -> None:
    headers = auth(api, "fin1")
    files = {"file": ("october.csv", ROWS.encode("utf-8"), "text/csv")}
    first = api.post("/api/v1/ledger/revenue-imports", files=files, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["new_events"] == 1
    assert first.json()["branches_fen"] == 10050
    again = api.post("/api/v1/ledger/revenue-imports", files=files, headers=headers)
    assert again.json()["new_events"] == 0


def test_a_bad_upload_is_rejected_with_every_row(api: TestClient) -> None:
    body = HEADER + "E1,ZZ,other,1.001,2026-10-05,app\n"
    files = {"file": ("bad.csv", body.encode("utf-8"), "text/csv")}
    response = api.post("/api/v1/ledger/revenue-imports", files=files, headers=auth(api, "fin1"))
    assert response.status_code == 422
    assert [e["column"] for e in response.json()["errors"]] == ["amount"]
    assert response.json()["errors"][0]["file"] == "bad.csv"


def test_auditors_and_hq_cannot_import_or_close(api: TestClient) -> None:
    files = {"file": ("x.csv", ROWS.encode("utf-8"), "text/csv")}
    for user in ("aud1", "hq1"):
        headers = auth(api, user)
        assert api.post("/api/v1/ledger/revenue-imports", files=files,
                        headers=headers).status_code == 403  # fmt: skip
        assert api.post("/api/v1/ledger/periods/2026-10/close", headers=headers).status_code == 403
    assert api.get("/api/v1/ledger/statements", headers=auth(api, "hq1")).status_code == 403
    assert api.get("/api/v1/ledger/statements").status_code == 401


def test_close_then_statements_and_export_for_finance_and_auditors(
    api: TestClient, ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, ROWS, now=utcnow())
    closed = api.post("/api/v1/ledger/periods/2026-10/close", headers=auth(api, "fin1"))
    assert closed.status_code == 200, closed.text
    assert close_is_sealed(ledger_engine)  # linked into the audit chain after the commit
    [statement] = closed.json()["statements"]
    assert statement["branch_code"] == "SZ-FT"
    auditor = auth(api, "aud1")
    listed = api.get("/api/v1/ledger/statements?period=2026-10", headers=auditor).json()
    assert listed["items"] == [statement]
    text = api.get("/api/v1/ledger/statements/2026-10/SZ-FT", headers=auditor)
    assert text.headers["x-content-sha256"] == statement["sha256"]
    download = api.get("/api/v1/ledger/export?period=2026-10&format=csv", headers=auditor)
    assert download.status_code == 200
    assert download.content.startswith("\ufeffentry_id,".encode())
    assert download.headers["x-row-count"] == "2"
    xlsx = api.get("/api/v1/ledger/export?period=2026-10&format=xlsx", headers=auditor)
    assert xlsx.content[:2] == b"PK"
    again = api.post("/api/v1/ledger/periods/2026-10/close", headers=auth(api, "fin1"))
    assert again.status_code == 409
    assert api.get("/api/v1/ledger/verify", headers=auditor).json() == {"ok": True, "findings": []}


def test_an_export_over_the_download_limit_is_refused_before_anything_is_written(
    api: TestClient, settings: Settings, ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, ROWS, now=NOW)
    small = create_app(settings.model_copy(update={"max_export_rows": 1}))
    with TestClient(small) as client:
        refused = client.get("/api/v1/ledger/export?period=2026-10", headers=auth(client, "aud1"))
    small.state.engine.dispose()
    assert refused.status_code == 422
    assert refused.json()["error"] == "export_too_large"
    assert "o2o ledger export" in refused.json()["detail"]
