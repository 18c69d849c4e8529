"""Policies, reversals and reclassification as finance reaches them: CLI and HTTP API."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.app.factories import write
from tests.app.ledger_world import (
    HEADER,
    api,
    auth,
    cli_env,
    import_csv,
    ledger_engine,
    o2o,
    runner,
    scalar,
)

__all__ = ["api", "cli_env", "ledger_engine"]

POLICY = {"policy_id": "PF-1", "revenue_type": "product_fee", "valid_from": "2026-10-01",
          "branch_bps": 7000, "hq_online_bps": 3000, "reason": "O2O pilot"}  # fmt: skip
EVENTS = HEADER + (
    "E1,A1,product_fee,10.01,2026-10-05T10:00:00,app\nE2,C1,other,5,2026-10-11T10:00:00,app\n"
)


def test_finance_runs_policies_reversal_and_reclassification_from_the_command_line(
    cli_env: Engine, tmp_path: Path
) -> None:
    csv = "policy_id,revenue_type,valid_from,branch_bps,hq_online_bps\nPF-1,product_fee,2026-10-01,7000,3000\n"
    added = runner.invoke(
        o2o(), ["ledger", "policy", "add", "--file", str(write(tmp_path, "p.csv", csv))]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(o2o(), ["ledger", "policy", "list"])
    assert "PF-1\tproduct_fee\t2026-10-01T00:00:00+08:00\t-\t7000\t3000\t10000" in listed.output
    bad = write(tmp_path, "bad.json", '[{"policy_id": "X", "revenue_type": "other"}]')
    refused = runner.invoke(o2o(), ["ledger", "policy", "add", "--file", str(bad)])
    assert refused.exit_code == 2
    assert "bad.json:1: column 'valid_from': required field is missing" in refused.output
    import_csv(cli_env, tmp_path, EVENTS)
    assert scalar(cli_env, "SELECT hq_fen FROM revenue_batch") == 300  # 30% of 1001, rounded
    moved = runner.invoke(o2o(), ["ledger", "reclassify", "--event", "E2", "--branch", "BJ-CY",
                                  "--reason", "customer was BJ-CY's"])  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert "branch:BJ-CY:revenue -500" in moved.output
    entry = str(scalar(cli_env, "SELECT id FROM ledger_entry WHERE business_key = 'revenue:E1'"))
    reversed_ = runner.invoke(o2o(), ["ledger", "reverse", "--entry", entry, "--reason", "test"])
    assert reversed_.exit_code == 0, reversed_.output
    again = runner.invoke(o2o(), ["ledger", "reverse", "--entry", entry, "--reason", "test"])
    assert again.exit_code == 2
    assert "already reversed" in again.output
    verified = runner.invoke(o2o(), ["ledger", "verify"])
    assert verified.exit_code == 0, verified.output


def test_only_finance_adds_policies_and_auditors_read_them(api: TestClient) -> None:
    finance, auditor, hq = auth(api, "fin1"), auth(api, "aud1"), auth(api, "hq1")
    assert api.post("/api/v1/ledger/policies", json=POLICY, headers=auditor).status_code == 403
    assert api.post("/api/v1/ledger/policies", json=POLICY, headers=hq).status_code == 403
    created = api.post("/api/v1/ledger/policies", json=POLICY, headers=finance)
    assert created.status_code == 201, created.text
    assert created.json()["valid_from"].startswith("2026-09-30T16:00:00")
    listed = api.get("/api/v1/ledger/policies", headers=auditor)
    assert [p["policy_id"] for p in listed.json()["items"]] == ["PF-1"]
    assert api.get("/api/v1/ledger/policies", headers=hq).status_code == 403
    bad = api.post("/api/v1/ledger/policies", headers=finance,
                   json={**POLICY, "policy_id": "PF-2", "hq_online_bps": 2999})  # fmt: skip
    assert bad.status_code == 422
    assert "expected exactly 10000" in bad.json()["detail"]
    twice = api.post("/api/v1/ledger/policies", json=POLICY, headers=finance)
    assert twice.status_code == 422
    assert "already exists" in twice.json()["detail"]


def test_finance_reverses_and_reclassifies_over_http(
    api: TestClient, ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    finance, auditor = auth(api, "fin1"), auth(api, "aud1")
    entry = scalar(ledger_engine, "SELECT id FROM ledger_entry WHERE business_key = 'revenue:E1'")
    url = f"/api/v1/ledger/entries/{entry}/reverse"
    assert api.post(url, json={"reason": "x"}, headers=auditor).status_code == 403
    done = api.post(url, json={"reason": "wrong lead"}, headers=finance)
    assert done.status_code == 201, done.text
    assert done.json()["reverses"] == "revenue:E1"
    assert api.post(url, json={"reason": "again"}, headers=finance).status_code == 409
    assert api.post(url, json={}, headers=finance).status_code == 422
    missing = api.post("/api/v1/ledger/entries/999/reverse", json={"reason": "x"}, headers=finance)
    assert missing.status_code == 404
    move = "/api/v1/ledger/events/E2/reclassify"
    body = {"branch_code": "SZ-FT", "reason": "customer was SZ-FT's"}
    moved = api.post(move, json=body, headers=finance)
    assert moved.status_code == 201, moved.text
    assert moved.json()["business_key"] == "adjustment:E2:1"
    assert api.post(move, json=body, headers=finance).status_code == 409
    unknown = {**body, "branch_code": "NOPE"}
    assert (
        api.post("/api/v1/ledger/events/E1/reclassify", json=unknown, headers=finance).status_code
        == 422
    )
    actions = scalar(
        ledger_engine,
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('ledger.reverse', 'ledger.reclassify')",
    )
    assert actions == 2
    assert api.get("/api/v1/ledger/verify", headers=auditor).json() == {"ok": True, "findings": []}
