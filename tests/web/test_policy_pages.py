"""Split-policy management (/finance/policies): finance adds versions from a form or a file,
each refusal in Chinese beside its field with what was typed kept; auditors read."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine

from tests.web.finance_data import count
from tests.web.helpers import sign_in

GOOD = {"policy_id": "PF-1", "revenue_type": "product_fee", "valid_from": "2027-01-01",
        "branch_bps": "7000", "hq_online_bps": "3000", "overlay_bps": "", "reason": "线上试点"}  # fmt: skip


@pytest.fixture(autouse=True)
def staff(branch_ids: dict[str, int]) -> None:
    """The standard branches and one user per role."""


def _add(web: TestClient, token: str, **changes: str) -> Response:
    return web.post("/finance/policies", data={"csrf_token": token, **GOOD, **changes},
                    follow_redirects=False)  # fmt: skip


def _beside(page: str, field: str) -> str:
    """The field's input and what is said right after it, up to the next label."""
    start = page.index(f'id="{field}"', page.index('data-testid="policy-form"'))
    return page[start : page.index("<label", start)]


def test_finance_adds_a_version_and_sees_when_it_is_in_force(
    web: TestClient, engine: Engine
) -> None:
    token = sign_in(web, "fin1")
    added = _add(web, token)
    assert added.status_code == 303
    assert added.headers["location"] == "/finance/policies?done=added"
    page = web.get(added.headers["location"]).text
    row = page[page.index('data-policy="PF-1"') :]
    for shown in ("产品费", "2027-01-01 00:00", "现行", "70%", "30%", "10,000", "线上试点", "fin1"):
        assert shown in row[: row.index("</tr>")], shown


def test_a_refused_version_says_why_beside_each_field_and_keeps_what_was_typed(
    web: TestClient,
) -> None:
    token = sign_in(web, "fin1")
    _add(web, token)
    refused = _add(web, token, branch_bps="70.5", valid_from="明年", reason="再试一次")
    assert refused.status_code == 422
    page = refused.text
    assert "“70.5”不是 0 至 10000 的整数基点" in _beside(page, "branch_bps")
    assert 'value="70.5"' in _beside(page, "branch_bps")
    assert "不是 ISO 8601 格式" in _beside(page, "valid_from")
    assert 'value="明年"' in _beside(page, "valid_from")
    assert 'value="再试一次"' in page
    taken = _add(web, token, valid_from="2027-02-01")
    assert "分成政策 PF-1 已存在，请换一个编号" in _beside(taken.text, "policy_id")
    short = _add(web, token, policy_id="PF-2", valid_from="2027-02-01", hq_online_bps="2999")
    assert re.search(
        r'data-testid="error-all">[^<]*合计 9999 基点，须恰好为 10000 基点', short.text
    )
    assert 'value="2999"' in _beside(short.text, "hq_online_bps")
    assert '<option value="product_fee" selected>' in short.text


def test_a_file_adds_every_version_or_lists_every_bad_field(
    web: TestClient, engine: Engine
) -> None:
    token = sign_in(web, "fin1")
    bad = ("policy_id,revenue_type,valid_from,branch_bps,hq_online_bps\n"
           "P1,bonus,2027-01-01,7000,3000\nP2,other,2027-01-01,10001,0\n")  # fmt: skip
    files = {"file": ("policies.csv", bad.encode(), "text/csv")}
    refused = web.post("/finance/policies/upload", data={"csrf_token": token}, files=files)
    assert refused.status_code == 422
    assert refused.text.count('data-testid="row-error"') == 2
    assert "未知的收入类型" in refused.text
    assert "10001 基点超过 10000 基点（100%）" in refused.text
    assert count(engine, "ledger_split_policy") == 0
    good = '[{"policy_id": "J1", "revenue_type": "other", "valid_from": "2027-01-01", ' \
           '"branch_bps": 8000, "hq_online_bps": 2000}]'  # fmt: skip
    files = {"file": ("policies.json", good.encode(), "application/json")}
    done = web.post("/finance/policies/upload", data={"csrf_token": token}, files=files,
                    follow_redirects=False)  # fmt: skip
    assert done.headers["location"] == "/finance/policies?done=uploaded"
    assert 'data-policy="J1"' in web.get("/finance/policies").text


def test_only_finance_changes_policies_and_auditors_read(web: TestClient) -> None:
    token = sign_in(web, "sz1")
    assert web.get("/finance/policies").status_code == 403
    assert _add(web, token).status_code == 403
    web.cookies.clear()
    token = sign_in(web, "hq1")
    assert web.get("/finance/policies").status_code == 403
    web.cookies.clear()
    token = sign_in(web, "aud1")
    page = web.get("/finance/policies")
    assert page.status_code == 200
    assert 'data-testid="policy-form"' not in page.text
    assert _add(web, token).status_code == 403
