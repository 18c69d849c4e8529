"""Who sees which leads: HQ all, a branch only its own (404 otherwise), mobiles masked."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.app.factories import add_lead, login


def _seed(engine: Engine, branch_ids: dict[str, int]) -> dict[str, int]:
    return {
        "sz": add_lead(engine, external_id="L-SZ", branch_id=branch_ids["SZ-FT"]),
        "bj": add_lead(
            engine, external_id="L-BJ", branch_id=branch_ids["BJ-CY"], mobile="13912345678"
        ),
        "pool": add_lead(engine, external_id="L-NEW", branch_id=None),
    }


def test_hq_sees_every_lead_with_full_mobile(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _seed(engine, branch_ids)
    body = client.get("/api/v1/leads", headers=login(client, "hq1")).json()
    assert body["total"] == 3
    assert {item["external_id"] for item in body["items"]} == {"L-SZ", "L-BJ", "L-NEW"}
    assert {item["mobile"] for item in body["items"]} == {"13800138000", "13912345678"}
    item = body["items"][0]
    for field in (
        "id",
        "external_id",
        "channel",
        "tier",
        "status",
        "branch_code",
        "mobile",
        "lat",
        "lon",
        "location_source",
    ):
        assert field in item


def test_a_branch_user_sees_only_its_own_leads_masked(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _seed(engine, branch_ids)
    body = client.get("/api/v1/leads", headers=login(client, "sz1")).json()
    assert body["total"] == 1
    assert body["items"][0]["external_id"] == "L-SZ"
    assert body["items"][0]["branch_code"] == "SZ-FT"
    assert body["items"][0]["mobile"] == "138****8000"


def test_a_branch_user_cannot_read_another_branchs_lead(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    ids = _seed(engine, branch_ids)
    headers = login(client, "sz1")
    foreign = client.get(f"/api/v1/leads/{ids['bj']}", headers=headers)
    pooled = client.get(f"/api/v1/leads/{ids['pool']}", headers=headers)
    missing = client.get("/api/v1/leads/999999", headers=headers)
    assert foreign.status_code == pooled.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert client.get(f"/api/v1/leads/{ids['sz']}", headers=headers).status_code == 200


def test_a_branch_filter_cannot_widen_a_branch_users_view(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _seed(engine, branch_ids)
    body = client.get("/api/v1/leads?branch=BJ-CY", headers=login(client, "sz1")).json()
    assert body == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_filters_and_pages(client: TestClient, engine: Engine, branch_ids: dict[str, int]) -> None:
    _seed(engine, branch_ids)
    headers = login(client, "hq1")
    assert client.get("/api/v1/leads?status=new", headers=headers).json()["total"] == 1
    assert client.get("/api/v1/leads?branch=BJ-CY", headers=headers).json()["total"] == 1
    page = client.get("/api/v1/leads?limit=2&offset=2", headers=headers).json()
    assert (len(page["items"]), page["total"]) == (1, 3)


def test_the_page_size_is_capped(client: TestClient, branch_ids: dict[str, int]) -> None:
    headers = login(client, "hq1")
    assert client.get("/api/v1/leads?limit=201", headers=headers).status_code == 422
    assert client.get("/api/v1/leads?limit=0", headers=headers).status_code == 422
    assert client.get("/api/v1/leads?status=bogus", headers=headers).status_code == 422


def test_an_auditor_reads_everything_but_masked(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _seed(engine, branch_ids)
    body = client.get("/api/v1/leads", headers=login(client, "aud1")).json()
    assert body["total"] == 3
    assert all("****" in item["mobile"] for item in body["items"])


def test_a_branch_lists_its_oldest_leads_first(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    from app.db import session_scope
    from app.tables import Lead
    from app.tables.base import utcnow

    ids = [add_lead(engine, external_id=f"L{i}", branch_id=branch_ids["SZ-FT"]) for i in range(3)]
    with session_scope(engine) as session:
        for age_days, lead_id in zip((1, 5, 3), ids, strict=True):
            lead = session.get(Lead, lead_id)
            assert lead is not None
            lead.acquired_at = utcnow() - timedelta(days=age_days)
            session.add(lead)
    headers = login(client, "sz1")
    oldest = client.get("/api/v1/leads?sort=oldest", headers=headers).json()["items"]
    newest = client.get("/api/v1/leads?sort=newest", headers=headers).json()["items"]
    assert [item["id"] for item in oldest] == [ids[1], ids[2], ids[0]]
    assert [item["id"] for item in newest] == [ids[0], ids[2], ids[1]]
    assert client.get("/api/v1/leads?sort=random", headers=headers).status_code == 422
