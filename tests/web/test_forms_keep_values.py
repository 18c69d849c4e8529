"""No dead ends (issue 17.5): every form a person types into, sent with a bad value, comes back
as the same page with what was typed still in the field and the refusal, in Chinese, right
beside it.

Forms left out, and why: password fields are never sent back (the sign-in and account forms
keep every other field); a file input cannot be refilled by a server (a refused file lists
every bad row with its reason instead: tests/web/test_import_pages.py, test_finance_pages.py,
test_policy_pages.py); forms with nothing typed (buttons, a select of the periods that exist,
a confirmation box: close a month, approve or reject, commit or cancel a round, contacted,
converted, reveal, unlock, deactivate, sign out) have no typed value to keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.web.finance_data import HEADER, own_leads
from tests.web.helpers import add_lead, csrf_of, sign_in
from tests.web.test_finance_pages import import_file

# How far (in characters of HTML) the refusal may be from the field it is about.
NEAR = 900


@dataclass(frozen=True)
class Case:
    user: str | None  # who signs in (None: the sign-in form itself)
    method: str
    path: str  # {lead} is a lead of SZ-FT
    data: dict[str, str]
    typed: str  # the bad value, which must come back in the field
    said: str  # a piece of the Chinese refusal
    status: int = 422
    extra: dict[str, str] = field(default_factory=dict)


CASES = {
    "sign-in": Case(None, "POST", "/login", {"username": "hq1", "password": "wrong"},
                    "hq1", "用户名或密码错误", 400),
    "account: create": Case("hq1", "POST", "/hq/users", {"username": "ab", "role": "branch",
                            "branch": "SZ-FT", "password": "long-enough-1"}, "ab",
                            "用户名应为 3–64 个字母"),
    "account: move": Case("hq1", "POST", "/hq/users/sz1/move", {"branch": "NOPE"}, "NOPE",
                          "没有代码为 NOPE 的营业部", 404),
    "round: start": Case("hq1", "POST", "/hq/rounds", {"mode": "preview", "balance_weight": "-1"},
                         "-1", "超出范围"),
    "round: price per km": Case("hq1", "POST", "/hq/rounds",
                                {"mode": "preview", "objective": "expected_value",
                                 "price_per_km_fen": "-7"}, "-7", "超出范围"),
    "what-if": Case("hq1", "POST", "/hq/whatif", {"scenario": '{"capacity": {"SZ-FT": -5'},
                    '{&#34;capacity&#34;: {&#34;SZ-FT&#34;: -5', "不是有效的 JSON"),
    "lead: return": Case("sz1", "POST", "/leads/{lead}/return", {"reason": "x" * 501}, "x" * 501,
                         "请填写此项"),
    "lead: transfer": Case("hq1", "POST", "/leads/{lead}/transfer",
                           {"branch_code": "NOPE", "reason": "客户已迁居"}, "NOPE",
                           "没有代码为 NOPE 的在用营业部"),
    "branch: create": Case("hq1", "POST", "/hq/branches", {"code": "GZ-TH", "name": "广州",
                           "lat": "91", "lon": "113", "capacity": "10"}, "91", "超出范围"),
    "branch: capacity": Case("hq1", "POST", "/hq/branches/SZ-FT/capacity", {"capacity": "十"},
                             "十", "不是整数"),
    "policy: create": Case("fin1", "POST", "/finance/policies", {"policy_id": "P1",
                           "revenue_type": "other", "valid_from": "2027-01-01",
                           "branch_bps": "70.5", "hq_online_bps": "3000"}, "70.5", "整数基点"),
    "suspense: reclassify": Case("fin1", "POST", "/finance/suspense/reclassify",
                                 {"event": "S-1", "branch": "NOPE", "reason": "客户属于某部"},
                                 "NOPE", "没有代码为 NOPE 的营业部"),
    "suspense: reverse": Case("fin1", "POST", "/finance/suspense/reverse",
                              {"event": "S-1", "reason": "y" * 201}, "y" * 201, "请填写原因"),
    "suspense: filter": Case("fin1", "GET", "/finance/suspense", {"min_yuan": "12,5"}, "12,5",
                             "最小金额应为元", 200),
    "audit: filter": Case("hq1", "GET", "/audit", {"lead": "abc"}, "abc", "线索编号应为数字", 422),
    "funnel: filter": Case("hq1", "GET", "/analytics/funnel", {"start": "2026-13-01"},
                           "2026-13-01", "日期", 422),
}  # fmt: skip


@pytest.fixture
def world(engine: Engine, branch_ids: dict[str, int], tmp_path: Path) -> int:
    """A lead of SZ-FT, and an event in suspense."""
    own_leads(engine, branch_ids)
    import_file(engine, tmp_path, HEADER + "S-1,C1,other,3.25,2026-10-07T10:00:00,app\n")
    return add_lead(engine, external_id="F-1", branch_id=branch_ids["SZ-FT"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_refused_form_keeps_what_was_typed_beside_its_message(
    web: TestClient, world: int, name: str
) -> None:
    case = CASES[name]
    token = sign_in(web, case.user) if case.user else csrf_of(web.get("/login").text)
    path = case.path.format(lead=world)
    if case.method == "GET":
        response = web.get(path, params=case.data)
    else:
        response = web.post(path, data={"csrf_token": token, **case.data}, follow_redirects=False)
    assert response.status_code == case.status, response.text[-600:]
    page = response.text
    kept = [
        m.start() for m in re.finditer(re.escape(case.typed), page) if _in_a_field(page, m.start())
    ]
    assert kept, f"{name}: {case.typed!r} is not in any field"
    said = [m.start() for m in re.finditer(re.escape(case.said), page)]
    assert said, f"{name}: the refusal {case.said!r} is not on the page"
    assert min(abs(k - s) for k in kept for s in said) < NEAR, f"{name}: refusal far from field"


def _in_a_field(page: str, at: int) -> bool:
    """Whether the text at `at` is an input's value or a textarea's content."""
    tag_start = page.rfind("<", 0, at)
    tag = page[tag_start : page.find(">", tag_start) + 1]
    return tag.startswith("<textarea") or (tag.startswith("<input") and "value=" in tag)
