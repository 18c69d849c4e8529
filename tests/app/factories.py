"""Small builders for test data, written through the same services the product uses."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.branches.importer import import_branches
from app.db import session_scope
from app.leads.customers import solo_customer
from app.tables import Lead
from app.users.service import create_user

BRANCHES_CSV = """code,name,lat,lon,capacity,tiers,region_code,active
SZ-FT,深圳福田营业部,22.541,114.055,100,,440304,true
BJ-CY,北京朝阳营业部,39.921,116.443,80,mass|affluent,110105,true
SH-PD,上海浦东营业部,31.221,121.544,50,,310115,false
"""

PASSWORD = "correct horse battery"


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def load_branches(engine: Engine, tmp_path: Path, content: str = BRANCHES_CSV) -> None:
    with session_scope(engine) as session:
        import_branches(session, path=write(tmp_path, "branches.csv", content), actor="test")


def add_user(engine: Engine, username: str, role: str, branch: str | None = None) -> None:
    with session_scope(engine) as session:
        create_user(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            branch_code=branch,
            actor="test",
        )


def add_lead(
    engine: Engine, *, external_id: str, branch_id: int | None, mobile: str = "13800138000"
) -> int:
    with session_scope(engine) as session:
        lead = Lead(
            channel="app",
            external_id=external_id,
            customer_id=solo_customer(session, channel="app", external_id=external_id),
            mobile=mobile,
            branch_id=branch_id,
            status="assigned" if branch_id else "new",
            lat=22.5,
            lon=114.0,
            location_source="coordinates",
        )
        session.add(lead)
        session.flush()
        assert lead.id is not None
        return lead.id


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
