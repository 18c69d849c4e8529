"""HQ manages branches on /hq/branches: create, change capacity (never below the customers the
branch holds, the rule the branch import obeys too), deactivate (its customers back to the
pool); each refusal in Chinese beside the field with what was typed kept; audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.web.helpers import add_lead, sign_in

NEW = {"code": "GZ-TH", "name": "广州天河营业部", "lat": "23.13", "lon": "113.33",
       "capacity": "40", "tiers": "", "region_code": "440106"}  # fmt: skip


@pytest.fixture
def held(engine: Engine, branch_ids: dict[str, int]) -> list[int]:
    """Two customers in follow-up at SZ-FT."""
    return [add_lead(engine, external_id=f"H-{i}", branch_id=branch_ids["SZ-FT"],
                     mobile=f"1381234567{i}") for i in range(2)]  # fmt: skip


def _post(web: TestClient, path: str, token: str, **data: str) -> Response:
    return web.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def _scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_hq_creates_a_branch_and_it_is_audited(
    web: TestClient, engine: Engine, held: list[int]
) -> None:
    token = sign_in(web, "hq1")
    done = _post(web, "/hq/branches", token, **NEW)
    assert done.headers["location"] == "/hq/branches?done=created"
    page = web.get(done.headers["location"]).text
    assert "营业部已创建" in page
    assert "广州天河营业部" in page
    assert _scalar(engine, "SELECT capacity FROM branch WHERE code = 'GZ-TH'") == 40
    assert _scalar(engine, "SELECT actor FROM audit_log WHERE action = 'branch.create'") == "hq1"


def _beside(page: str, field: str) -> str:
    start = page.index(f'id="branch-{field}"')
    return page[start : page.index("<label", start) if "<label" in page[start:] else None]


def test_a_refused_branch_says_why_beside_each_field_and_keeps_what_was_typed(
    web: TestClient, held: list[int]
) -> None:
    token = sign_in(web, "hq1")
    refused = _post(web, "/hq/branches", token, **{**NEW, "lat": "91", "capacity": "-1",
                                                   "tiers": "gold"})  # fmt: skip
    assert refused.status_code == 422
    assert "纬度 91 超出范围（-90 至 90）" in _beside(refused.text, "lat")
    assert 'value="91"' in _beside(refused.text, "lat")
    assert "容量须不小于 0（现为 -1）" in _beside(refused.text, "capacity")
    assert "“gold”不是客户层级" in _beside(refused.text, "tiers")
    assert 'value="广州天河营业部"' in refused.text
    taken = _post(web, "/hq/branches", token, **{**NEW, "code": "SZ-FT"})
    assert "营业部代码 SZ-FT 已存在，请换一个代码" in _beside(taken.text, "code")


def test_capacity_never_drops_below_the_customers_held(
    web: TestClient, engine: Engine, held: list[int]
) -> None:
    token = sign_in(web, "hq1")
    below = _post(web, "/hq/branches/SZ-FT/capacity", token, capacity="1")
    assert below.status_code == 409
    row = below.text[below.text.index('data-branch="SZ-FT"') :]
    assert "容量 1 低于营业部 SZ-FT 正在跟进的 2 位客户" in row[: row.index("</td>")]
    assert 'value="1"' in row[: row.index("</td>")]
    assert '<details class="row-actions" open>' in row[: row.index("</td>")]
    bad = _post(web, "/hq/branches/SZ-FT/capacity", token, capacity="十")
    assert bad.status_code == 422
    assert "“十”不是整数" in bad.text
    done = _post(web, "/hq/branches/SZ-FT/capacity", token, capacity="2")
    assert done.headers["location"] == "/hq/branches?done=capacity"
    assert _scalar(engine, "SELECT capacity FROM branch WHERE code = 'SZ-FT'") == 2
    detail = _scalar(engine, "SELECT detail FROM audit_log WHERE action = 'branch.capacity'")
    assert '"held": 2' in str(detail)
    assert _post(web, "/hq/branches/NOPE/capacity", token, capacity="2").status_code == 404


def test_a_deactivated_branch_gives_its_customers_back_to_the_pool(
    web: TestClient, engine: Engine, held: list[int]
) -> None:
    token = sign_in(web, "hq1")
    done = _post(web, "/hq/branches/SZ-FT/deactivate", token)
    assert done.headers["location"] == "/hq/branches?done=deactivated"
    assert _scalar(engine, "SELECT active FROM branch WHERE code = 'SZ-FT'") in (0, False)
    assert _scalar(engine, "SELECT COUNT(*) FROM lead WHERE branch_id IS NOT NULL") == 0
    again = _post(web, "/hq/branches/SZ-FT/deactivate", token)
    assert again.status_code == 409
    assert "营业部 SZ-FT 已经停用。" in again.text


def test_only_hq_changes_branches_and_auditors_read(web: TestClient, held: list[int]) -> None:
    token = sign_in(web, "sz1")
    assert _post(web, "/hq/branches", token, **NEW).status_code == 403
    web.cookies.clear()
    token = sign_in(web, "aud1")
    page = web.get("/hq/branches")
    assert page.status_code == 200
    assert 'data-testid="branch-form"' not in page.text
    assert _post(web, "/hq/branches/SZ-FT/capacity", token, capacity="9").status_code == 403
