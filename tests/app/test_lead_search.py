"""Finding leads (issue 17.4): HQ by full mobile number, branches by the last four digits of
their own leads, everyone by name or external id; never past the caller's scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.leads.importer import import_leads
from tests.app.factories import login, write

# One person through two channels (same number), a namesake, and another branch's customer
# whose number ends in the same four digits.
LEADS = """external_id,name,mobile,lat,lon,tier
A-1,欧阳明月,13812345678,22.55,114.06,mass
A-2,欧阳明月,+86 138 1234 5678,22.55,114.06,mass
B-1,欧阳明,13900001111,22.53,114.03,mass
C-1,李强,13700005678,39.93,116.45,mass
D-1,100%_x,13600002222,39.93,116.45,mass
"""


@pytest.fixture
def people(engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path) -> None:
    with session_scope(engine) as session:
        import_leads(session, path=write(tmp_path, "leads.csv", LEADS), actor="test",
                     secret=settings.customer_key, channel="app")  # fmt: skip
    owners = {"A-1": "SZ-FT", "A-2": "SZ-FT", "B-1": "SZ-FT", "C-1": "BJ-CY", "D-1": "BJ-CY"}
    with engine.begin() as conn:
        for external_id, code in owners.items():
            conn.execute(
                text("UPDATE lead SET branch_id = :b, status = 'assigned' WHERE external_id = :e"),
                {"b": branch_ids[code], "e": external_id},
            )


def _found(client: TestClient, user: str, q: str) -> list[str]:
    response = client.get("/api/v1/leads", params={"q": q}, headers=login(client, user))
    assert response.status_code == 200, response.text
    return sorted(item["external_id"] for item in response.json()["items"])


def test_hq_finds_every_lead_of_a_person_by_the_full_number(
    client: TestClient, people: None
) -> None:
    assert _found(client, "hq1", "138-1234-5678") == ["A-1", "A-2"]
    assert _found(client, "hq1", "13899999999") == []


def test_a_branch_finds_its_own_leads_by_the_last_four_digits(
    client: TestClient, people: None
) -> None:
    assert _found(client, "sz1", "5678") == ["A-1", "A-2"]  # not BJ-CY's C-1
    assert _found(client, "bj1", "5678") == ["C-1"]
    assert _found(client, "sz1", "13812345678") == ["A-1", "A-2"]
    assert _found(client, "sz1", "13700005678") == []  # another branch's customer


def test_names_and_external_ids_are_found_and_wildcards_are_literal(
    client: TestClient, people: None
) -> None:
    assert _found(client, "hq1", "欧阳") == ["A-1", "A-2", "B-1"]
    assert _found(client, "hq1", "C-1") == ["C-1"]
    assert _found(client, "hq1", "%") == ["D-1"]  # a name containing "%", not everything
    assert _found(client, "hq1", "_") == ["D-1"]
    assert _found(client, "bj1", "欧阳") == []
