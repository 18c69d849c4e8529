"""Branch follow-up (contacted, converted, returned), HQ transfers and audited number reveals."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.db import session_scope
from app.tables import AuditRecord, Lead, Ownership
from tests.app.factories import add_lead, login


def _lead(engine: Engine, lead_id: int) -> Lead:
    with session_scope(engine) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return lead


def _actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [r.action for r in session.exec(select(AuditRecord).order_by(AuditRecord.id))]


def test_a_branch_works_its_lead_from_assigned_to_converted(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    headers = login(client, "sz1")
    contacted = client.post(f"/api/v1/leads/{lead_id}/contacted", headers=headers)
    assert contacted.status_code == 200
    assert contacted.json()["status"] == "contacted"
    assert (
        client.post(f"/api/v1/leads/{lead_id}/converted", headers=headers).json()["status"]
        == "converted"
    )
    assert _lead(engine, lead_id).contacted_at is not None
    assert _actions(engine)[-2:] == ["lead.contacted", "lead.converted"]


def test_an_illegal_status_change_is_a_409_and_changes_nothing(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    headers = login(client, "sz1")
    client.post(f"/api/v1/leads/{lead_id}/converted", headers=headers)
    response = client.post(f"/api/v1/leads/{lead_id}/contacted", headers=headers)
    assert response.status_code == 409
    assert "'converted'" in response.json()["detail"]
    assert _lead(engine, lead_id).status == "converted"


def test_a_returned_lead_goes_back_to_the_pool_remembering_who_returned_it(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    headers = login(client, "sz1")
    response = client.post(
        f"/api/v1/leads/{lead_id}/return", json={"reason": "客户已移居外地"}, headers=headers
    )
    assert response.status_code == 204
    lead = _lead(engine, lead_id)
    assert (lead.status, lead.branch_id) == ("returned", None)
    assert lead.returned_by_branch_id == branch_ids["SZ-FT"]
    assert lead.return_reason == "客户已移居外地"
    assert client.get(f"/api/v1/leads/{lead_id}", headers=headers).status_code == 404


def test_a_return_needs_a_reason_and_rejects_unknown_fields(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    headers = login(client, "sz1")
    assert (
        client.post(
            f"/api/v1/leads/{lead_id}/return", json={"reason": ""}, headers=headers
        ).status_code
        == 422
    )
    sneaky = {"reason": "x", "branch_id": branch_ids["BJ-CY"]}
    assert (
        client.post(f"/api/v1/leads/{lead_id}/return", json=sneaky, headers=headers).status_code
        == 422
    )
    assert _lead(engine, lead_id).status == "assigned"


def test_a_branch_cannot_act_on_another_branchs_lead(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["BJ-CY"])
    headers = login(client, "sz1")
    for action in ("contacted", "converted", "reveal"):
        assert client.post(f"/api/v1/leads/{lead_id}/{action}", headers=headers).status_code == 404
    response = client.post(f"/api/v1/leads/{lead_id}/return", json={"reason": "x"}, headers=headers)
    assert response.status_code == 404
    assert _lead(engine, lead_id).status == "assigned"


def test_hq_transfers_a_lead_closing_and_opening_ownership(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=None)
    headers = login(client, "hq1")
    first = client.post(
        f"/api/v1/leads/{lead_id}/transfer",
        json={"branch_code": "SZ-FT", "reason": "VIP"},
        headers=headers,
    )
    assert first.status_code == 200
    assert first.json()["branch_code"] == "SZ-FT"
    second = client.post(
        f"/api/v1/leads/{lead_id}/transfer",
        json={"branch_code": "BJ-CY", "reason": "moved"},
        headers=headers,
    )
    assert second.json()["branch_code"] == "BJ-CY"
    with session_scope(engine) as session:
        intervals = session.exec(select(Ownership).order_by(Ownership.id)).all()
    assert [(i.branch_id, i.close_reason) for i in intervals] == [
        (branch_ids["SZ-FT"], "transferred"),
        (branch_ids["BJ-CY"], None),
    ]
    assert intervals[0].valid_to == intervals[1].valid_from
    assert (
        client.post(
            f"/api/v1/leads/{lead_id}/transfer",
            json={"branch_code": "SH-PD", "reason": "x"},
            headers=headers,
        ).status_code
        == 422
    )


def test_only_hq_may_transfer(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    body = {"branch_code": "BJ-CY", "reason": "x"}
    assert (
        client.post(
            f"/api/v1/leads/{lead_id}/transfer", json=body, headers=login(client, "sz1")
        ).status_code
        == 403
    )


def test_revealing_a_number_is_audited_and_rate_limited(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    client.app.state.settings.reveal_limit_per_hour = 2  # type: ignore[attr-defined]
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    headers = login(client, "sz1")
    first = client.post(f"/api/v1/leads/{lead_id}/reveal", headers=headers)
    assert first.json() == {"id": lead_id, "mobile": "13800138000"}
    assert client.post(f"/api/v1/leads/{lead_id}/reveal", headers=headers).status_code == 200
    assert client.post(f"/api/v1/leads/{lead_id}/reveal", headers=headers).status_code == 429
    assert _actions(engine).count("lead.reveal_mobile") == 2


def test_an_auditor_may_not_reveal(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    assert (
        client.post(f"/api/v1/leads/{lead_id}/reveal", headers=login(client, "aud1")).status_code
        == 403
    )


def test_every_request_has_an_id_that_its_audit_records_carry(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    headers = login(client, "sz1")
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    assert generated != client.get("/healthz").headers["x-request-id"]
    insane = client.get("/healthz", headers={"X-Request-ID": "x" * 65})
    assert insane.headers["x-request-id"] != "x" * 65
    response = client.post(
        f"/api/v1/leads/{lead_id}/contacted", headers={**headers, "X-Request-ID": "call-42"}
    )
    assert response.headers["x-request-id"] == "call-42"
    with session_scope(engine) as session:
        last = session.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None
    assert (last.action, last.request_id) == ("lead.contacted", "call-42")
