"""The suspense workbench (/finance/suspense): list, filter, reclassify, reverse, and a second
finance user's approval above O2O_CORRECTION_APPROVAL_FEN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.main import create_app
from app.web import install_web
from tests.app.factories import add_user
from tests.web.finance_data import HEADER, count, own_leads
from tests.web.helpers import sign_in
from tests.web.test_finance_pages import import_file

# C1 never had an owner: both events sit in suspense. S-BIG is above the 5-yuan threshold.
SUSPENSE = HEADER + (
    "S-SMALL,C1,other,3.25,2026-10-07T10:00:00,app\n"
    "S-BIG,C1,product_fee,12.00,2026-10-08T10:00:00,app\n"
    "E-OWNED,A1,other,9.00,2026-10-08T10:00:00,app\n"
)
THRESHOLD_FEN = 500


@pytest.fixture
def parked(engine: Engine, branch_ids: dict[str, int], tmp_path: Path) -> Engine:
    own_leads(engine, branch_ids)
    add_user(engine, "fin2", "finance")
    import_file(engine, tmp_path, SUSPENSE)
    return engine


@pytest.fixture
def desk(settings: Settings, parked: Engine) -> Iterator[TestClient]:
    """The web app with a low approval threshold."""
    low = settings.model_copy(update={"correction_approval_fen": THRESHOLD_FEN})
    app = create_app(low)
    install_web(app, low)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _row(page: str, event: str) -> str:
    start = page.index(f'data-event="{event}"')
    return page[start : page.index("</tr>", start)]


def test_finance_sees_each_unowned_event_with_amount_and_why(desk: TestClient) -> None:
    sign_in(desk, "fin1")
    page = desk.get("/finance/suspense")
    assert page.status_code == 200
    assert 'data-event="E-OWNED"' not in page.text  # credited to its branch, not in suspense
    big = _row(page.text, "S-BIG")
    for shown in ("¥12.00", "产品费", "C1", "客户从未分配给营业部", "重分类", "冲销入账"):
        assert shown in big, shown
    assert "¥15.25" in page.text  # the total in suspense
    assert "¥5.00" in page.text  # the approval threshold, said in the heading


def test_a_branch_user_and_hq_are_refused_and_an_auditor_reads_without_forms(
    desk: TestClient,
) -> None:
    sign_in(desk, "sz1")
    assert desk.get("/finance/suspense").status_code == 403
    desk.cookies.clear()
    sign_in(desk, "hq1")
    assert desk.get("/finance/suspense").status_code == 403
    desk.cookies.clear()
    sign_in(desk, "aud1")
    page = desk.get("/finance/suspense")
    assert page.status_code == 200
    assert "S-BIG" in page.text
    assert 'data-testid="reclassify-form"' not in page.text


def test_a_small_reclassification_is_posted_at_once(desk: TestClient, parked: Engine) -> None:
    token = sign_in(desk, "fin1")
    done = desk.post("/finance/suspense/reclassify", follow_redirects=False,
                     data={"csrf_token": token, "event": "S-SMALL", "branch": "SZ-FT",
                           "reason": "客户属于福田"})  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == "/finance/suspense?done=reclassified"
    page = desk.get(done.headers["location"]).text
    assert "已重分类到营业部" in page
    assert 'data-event="S-SMALL"' not in page
    assert count(parked, "ledger_correction_request") == 0


def test_a_refused_reclassification_keeps_what_was_typed_beside_the_form(
    desk: TestClient,
) -> None:
    token = sign_in(desk, "fin1")
    refused = desk.post("/finance/suspense/reclassify",
                        data={"csrf_token": token, "event": "S-SMALL", "branch": "NOPE",
                              "reason": "客户属于某营业部"})  # fmt: skip
    assert refused.status_code == 422
    row = _row(refused.text, "S-SMALL")
    assert '<details class="row-actions" open>' in row
    assert re.search(r'data-testid="row-error">没有代码为 NOPE 的营业部。<', row)
    assert 'value="NOPE"' in row
    assert 'value="客户属于某营业部"' in row
    blank = desk.post("/finance/suspense/reverse",
                      data={"csrf_token": token, "event": "S-SMALL", "reason": "   "})  # fmt: skip
    assert blank.status_code == 422
    assert "请填写原因" in _row(blank.text, "S-SMALL")


def test_above_the_threshold_another_finance_user_must_approve(
    desk: TestClient, parked: Engine
) -> None:
    token = sign_in(desk, "fin1")
    asked = desk.post("/finance/suspense/reclassify", follow_redirects=False,
                      data={"csrf_token": token, "event": "S-BIG", "branch": "BJ-CY",
                            "reason": "客户属于朝阳"})  # fmt: skip
    assert asked.headers["location"] == "/finance/suspense?done=requested"
    page = desk.get("/finance/suspense").text
    assert "待复核 #1" in _row(page, "S-BIG")
    assert "您提交的申请，等待另一位财务人员复核" in page
    assert "1 项更正待复核" in desk.get("/").text  # the finance home points at it
    own = desk.post("/finance/suspense/requests/1/approve", data={"csrf_token": token})
    assert own.status_code == 403
    assert "是您本人提交的，须由另一位财务人员批准或驳回" in own.text
    assert count(parked, "ledger_entry") == 3  # nothing posted
    desk.cookies.clear()
    token = sign_in(desk, "fin2")
    approved = desk.post("/finance/suspense/requests/1/approve", follow_redirects=False,
                         data={"csrf_token": token})  # fmt: skip
    assert approved.headers["location"] == "/finance/suspense?done=approved"
    page = desk.get("/finance/suspense").text
    assert 'data-event="S-BIG"' not in page
    assert 'data-testid="pending-requests"' not in page


def test_a_second_finance_user_may_reject_a_reversal(desk: TestClient, parked: Engine) -> None:
    token = sign_in(desk, "fin1")
    desk.post("/finance/suspense/reverse",
              data={"csrf_token": token, "event": "S-BIG", "reason": "重复入账"})  # fmt: skip
    desk.cookies.clear()
    token = sign_in(desk, "fin2")
    rejected = desk.post("/finance/suspense/requests/1/reject", follow_redirects=False,
                         data={"csrf_token": token})  # fmt: skip
    assert rejected.headers["location"] == "/finance/suspense?done=rejected"
    assert count(parked, "ledger_entry") == 3
    again = desk.post("/finance/suspense/requests/1/approve", data={"csrf_token": token})
    assert again.status_code == 409
    assert "更正申请 #1 已驳回，不能再处理。" in again.text


def test_a_bad_amount_filter_is_said_beside_the_field_and_kept(desk: TestClient) -> None:
    sign_in(desk, "fin1")
    page = desk.get("/finance/suspense", params={"min_yuan": "12,5"}).text
    assert 'data-testid="filter-error">最小金额应为元' in page
    assert 'value="12,5"' in page
    narrowed = desk.get("/finance/suspense", params={"min_yuan": "10"}).text
    assert 'data-event="S-BIG"' in narrowed
    assert 'data-event="S-SMALL"' not in narrowed
    found = desk.get("/finance/suspense", params={"q": "S-SMALL", "page": "99"}).text
    assert 'data-event="S-SMALL"' in found
    assert 'data-event="S-BIG"' not in found
