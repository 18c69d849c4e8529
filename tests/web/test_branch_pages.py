"""A branch works its leads in the browser: inbox, lead page, follow-up and reveal."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.db import session_scope
from app.leads.reveal import REVEAL_ACTION
from app.tables import AuditRecord, Lead
from tests.web.helpers import add_lead, sign_in


def _lead(engine: Engine, lead_id: int) -> Lead:
    with session_scope(engine) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return lead


def _inbox_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-lead-id="(\d+)"', html)]


def test_the_inbox_lists_only_own_leads_masked_and_oldest_first(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    sz = branch_ids["SZ-FT"]
    newer = add_lead(engine, external_id="N", branch_id=sz, name="王芳", hours_ago=2)
    older = add_lead(engine, external_id="O", branch_id=sz, name="李强", hours_ago=80)
    add_lead(engine, external_id="B", branch_id=branch_ids["BJ-CY"], name="赵敏")
    sign_in(web, "sz1")
    page = web.get("/inbox").text
    assert _inbox_ids(page) == [older, newer]
    assert "138****5678" in page
    assert "13812345678" not in page
    assert "赵敏" not in page
    assert "超时" in page  # 80 h without contact is past the 72 h follow-up deadline
    assert _inbox_ids(web.get("/inbox?sort=newest").text) == [newer, older]


def test_the_inbox_filters_by_status_and_pages(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    sz = branch_ids["SZ-FT"]
    contacted = add_lead(engine, external_id="C", branch_id=sz, status="contacted")
    for n in range(55):
        add_lead(engine, external_id=f"A{n}", branch_id=sz, hours_ago=n + 1)
    sign_in(web, "sz1")
    assert _inbox_ids(web.get("/inbox?status=contacted").text) == [contacted]
    first, second = web.get("/inbox?status=assigned"), web.get("/inbox?status=assigned&page=2")
    assert len(_inbox_ids(first.text)) == 50
    assert len(_inbox_ids(second.text)) == 5
    assert "第 2 / 2 页" in second.text
    assert web.get("/inbox?status=bogus").status_code == 422


def test_a_branch_marks_a_lead_contacted_then_converted(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="W1", branch_id=branch_ids["SZ-FT"])
    token = sign_in(web, "sz1")
    response = web.post(f"/leads/{lead_id}/contacted", data={"csrf_token": token})
    assert response.status_code == 200
    assert "已标记为「已联系」" in response.text
    assert _lead(engine, lead_id).status == "contacted"
    web.post(f"/leads/{lead_id}/converted", data={"csrf_token": token})
    assert _lead(engine, lead_id).status == "converted"
    page = web.get(f"/leads/{lead_id}").text
    assert "标记已联系" in page
    assert "标记已转化" in page


def test_contacting_from_the_inbox_returns_to_the_inbox(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="Q1", branch_id=branch_ids["SZ-FT"])
    token = sign_in(web, "sz1")
    response = web.post(
        f"/leads/{lead_id}/contacted",
        data={"csrf_token": token, "back": "inbox"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/inbox?done=contacted"


def test_a_returned_lead_leaves_the_inbox_with_its_reason_recorded(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="R1", branch_id=branch_ids["SZ-FT"])
    token = sign_in(web, "sz1")
    web.post(f"/leads/{lead_id}/contacted", data={"csrf_token": token})
    response = web.post(
        f"/leads/{lead_id}/return", data={"csrf_token": token, "reason": "客户常住外地"}
    )
    assert response.status_code == 200
    assert "线索已退回线索池" in response.text
    lead = _lead(engine, lead_id)
    assert (lead.status, lead.branch_id, lead.return_reason) == ("returned", None, "客户常住外地")
    assert web.get(f"/leads/{lead_id}").status_code == 404


def test_returning_without_a_reason_or_twice_is_refused_with_a_page(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="R2", branch_id=branch_ids["SZ-FT"])
    converted = add_lead(
        engine, external_id="R3", branch_id=branch_ids["SZ-FT"], status="converted"
    )
    token = sign_in(web, "sz1")
    blank = web.post(f"/leads/{lead_id}/return", data={"csrf_token": token, "reason": ""})
    assert blank.status_code == 422
    assert 'data-testid="error-reason">请填写此项（不超过 500 个字符）。<' in blank.text
    spaces = web.post(f"/leads/{lead_id}/return", data={"csrf_token": token, "reason": "   "})
    assert spaces.status_code == 422
    assert _lead(engine, lead_id).status == "assigned"
    late = web.post(f"/leads/{converted}/return", data={"csrf_token": token, "reason": "x"})
    assert late.status_code == 409
    assert "当前为“已转化”，不能退回线索池" in late.text


def test_a_refused_return_says_why_in_chinese(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    converted = add_lead(
        engine, external_id="R4", branch_id=branch_ids["SZ-FT"], status="converted"
    )
    token = sign_in(web, "sz1")
    refused = web.post(f"/leads/{converted}/return", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 409
    detail = _lead_error(refused.text)
    assert detail == f"线索 #{converted} 当前为“已转化”，不能退回线索池。"


def _lead_error(html: str) -> str:
    """The refusal said on the lead's page itself (no error page: the way on is right there)."""
    match = re.search(r'data-testid="lead-error">(.*?)</div>', html)
    assert match, "no refusal on the lead page"
    return match.group(1).replace("&#34;", '"')


def test_follow_up_without_the_csrf_token_changes_nothing(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="F1", branch_id=branch_ids["SZ-FT"])
    sign_in(web, "sz1")
    assert web.post(f"/leads/{lead_id}/contacted").status_code == 403
    assert web.post(f"/leads/{lead_id}/return", data={"reason": "x"}).status_code == 403
    assert _lead(engine, lead_id).status == "assigned"


def test_revealing_the_number_shows_it_once_and_audits_it(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="V1", branch_id=branch_ids["SZ-FT"])
    token = sign_in(web, "sz1")
    response = web.post(f"/leads/{lead_id}/reveal", data={"csrf_token": token})
    assert response.status_code == 200
    assert "13812345678" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "13812345678" not in web.get(f"/leads/{lead_id}").text
    with session_scope(engine) as session:
        actions = session.exec(select(AuditRecord.action, AuditRecord.actor)).all()
    assert (REVEAL_ACTION, "sz1") in actions


def test_reveals_past_the_hourly_limit_are_refused(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    web.app.state.settings.reveal_limit_per_hour = 1  # type: ignore[attr-defined]
    lead_id = add_lead(engine, external_id="V2", branch_id=branch_ids["SZ-FT"])
    token = sign_in(web, "sz1")
    assert web.post(f"/leads/{lead_id}/reveal", data={"csrf_token": token}).status_code == 200
    second = web.post(f"/leads/{lead_id}/reveal", data={"csrf_token": token})
    assert second.status_code == 429
    assert "13812345678" not in second.text


def test_a_branch_cannot_act_on_another_branchs_lead(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    theirs = add_lead(engine, external_id="X1", branch_id=branch_ids["BJ-CY"])
    token = sign_in(web, "sz1")
    for action in ("contacted", "converted", "reveal"):
        assert web.post(f"/leads/{theirs}/{action}", data={"csrf_token": token}).status_code == 404
    assert _lead(engine, theirs).status == "assigned"


def test_the_branch_dashboard_counts_the_follow_up_queue(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    sz = branch_ids["SZ-FT"]
    add_lead(engine, external_id="D1", branch_id=sz, hours_ago=100, name="孙丽")
    add_lead(engine, external_id="D2", branch_id=sz, hours_ago=1)
    add_lead(engine, external_id="D3", branch_id=sz, status="converted")
    sign_in(web, "sz1")
    page = web.get("/").text
    assert re.search(r'data-testid="stat-assigned">\s*<div class="stat-label">待跟进</div>\s*'
                     r'<div class="stat-value">2</div>', page)  # fmt: skip
    assert "孙丽" in page


def test_a_branch_does_not_see_what_another_branch_did_with_the_lead_before_it(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="R", branch_id=branch_ids["SZ-FT"], name="周杰")
    token = sign_in(web, "sz1")
    web.post(f"/leads/{lead_id}/reveal", data={"csrf_token": token})
    web.post(f"/leads/{lead_id}/return", data={"csrf_token": token, "reason": "深圳网点内部原因"})
    web.cookies.clear()
    token = sign_in(web, "hq1")
    web.post(f"/leads/{lead_id}/transfer",
             data={"csrf_token": token, "branch_code": "BJ-CY", "reason": "客户已迁居北京"})  # fmt: skip
    assert "深圳网点内部原因" in web.get(f"/leads/{lead_id}").text  # HQ sees everything
    web.cookies.clear()
    sign_in(web, "bj1")
    page = web.get(f"/leads/{lead_id}").text
    assert "周杰" in page
    assert "深圳网点内部原因" not in page
    assert "查看完整号码" not in page.split("操作记录")[1]  # SZ-FT's reveal is not listed
    assert "客户已迁居北京" in page  # the transfer that gave it to BJ-CY is
