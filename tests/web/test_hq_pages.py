"""Headquarters pages: branches with their open load, and the lead pool in figures."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.tables import Lead
from tests.web.helpers import add_lead, sign_in


def _row(html: str, code: str) -> str:
    match = re.search(rf'<td class="mono">{re.escape(code)}</td>(.*?)</tr>', html, re.S)
    assert match, f"no row for {code}"
    return match.group(1)


def _cells(row: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def test_the_branch_table_shows_capacity_tiers_status_and_open_load(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    sz = branch_ids["SZ-FT"]
    add_lead(engine, external_id="1", branch_id=sz)
    add_lead(engine, external_id="2", branch_id=sz, status="contacted")
    add_lead(engine, external_id="3", branch_id=sz, status="converted")  # no longer open
    sign_in(web, "hq1")
    page = web.get("/hq/branches").text
    name, place, capacity, load, bar, tiers, active, _manage = _cells(_row(page, "SZ-FT"))
    assert (name, capacity, load, tiers, active) == ("深圳福田营业部", "100", "2", "全部", "启用")
    assert place == "深圳市 福田区"
    assert "2%" in bar
    bj = _cells(_row(page, "BJ-CY"))
    assert (bj[5], bj[3]) == ("大众、富裕", "0")
    assert _cells(_row(page, "SH-PD"))[6] == "停用"
    charts = page[page.index('data-testid="branch-map"') :]
    assert charts.count("<circle") == 3  # every branch on the plot
    assert "<title>SZ-FT 深圳福田营业部 2/100</title>" in charts


def test_the_branch_table_searches_and_sorts_by_load(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    add_lead(engine, external_id="1", branch_id=branch_ids["BJ-CY"])
    sign_in(web, "aud1")
    found = web.get("/hq/branches?q=北京").text
    assert "BJ-CY" in found
    assert "SZ-FT" not in found
    by_load = web.get("/hq/branches?sort=load").text
    assert by_load.index(">BJ-CY<") < by_load.index(">SZ-FT<")
    assert web.get("/hq/branches?sort=random").status_code == 422


def test_the_pool_summary_counts_by_status_channel_and_tier(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    add_lead(engine, external_id="1", branch_id=None, channel="wechat")
    add_lead(engine, external_id="2", branch_id=None, channel="wechat", located=False, name="周杰")
    add_lead(engine, external_id="3", branch_id=branch_ids["SZ-FT"], channel="app")
    sign_in(web, "hq1")
    page = web.get("/hq/pool").text
    assert re.search(r'data-testid="stat-pool">.*?<div class="stat-value">2</div>', page, re.S)
    assert re.search(
        r'data-testid="stat-unresolved">.*?<div class="stat-value">1</div>', page, re.S
    )
    by_channel = page[page.index('data-testid="by-channel"') : page.index('data-testid="by-tier"')]
    wechat = re.search(r"<td>微信小程序</td>(.*?)</tr>", by_channel, re.S)
    assert wechat
    assert _cells(wechat.group(1))[0] == "2"
    unresolved = page[page.index('data-testid="unresolved"') :]
    assert "周杰" in unresolved


def test_the_hq_dashboard_shows_pool_and_busiest_branches(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    add_lead(engine, external_id="1", branch_id=branch_ids["SZ-FT"])
    sign_in(web, "hq1")
    page = web.get("/").text
    assert "负载最高的营业部" in page
    assert "深圳福田营业部" in page
    assert "上海浦东营业部" not in page  # inactive branches carry no load


def test_an_unknown_page_answers_a_404_page(web: TestClient, branch_ids: dict[str, int]) -> None:
    sign_in(web, "hq1")
    response = web.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.text


def test_hq_transfers_a_lead_to_another_branch_from_its_page(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="T1", branch_id=branch_ids["SZ-FT"], name="欧阳修")
    token = sign_in(web, "hq1")
    page = web.get(f"/leads/{lead_id}").text
    assert '<option value="BJ-CY">北京朝阳营业部</option>' in page
    assert 'value="SH-PD"' not in page  # inactive branches are no target
    response = web.post(
        f"/leads/{lead_id}/transfer",
        data={"csrf_token": token, "branch_code": "BJ-CY", "reason": "客户已迁居北京"},
    )
    assert response.status_code == 200
    assert "线索已转派" in response.text
    assert "客户已迁居北京" in response.text  # the reason shows in the history
    web.cookies.clear()
    sign_in(web, "bj1")
    assert "欧阳修" in web.get("/inbox").text


def test_transfers_are_for_hq_only_and_need_a_known_branch(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="T2", branch_id=branch_ids["SZ-FT"])
    token = sign_in(web, "hq1")
    form = {"csrf_token": token, "branch_code": "NOPE", "reason": "x"}
    assert web.post(f"/leads/{lead_id}/transfer", data=form).status_code == 422
    web.cookies.clear()
    token = sign_in(web, "sz1")
    form = {"csrf_token": token, "branch_code": "BJ-CY", "reason": "x"}
    assert web.post(f"/leads/{lead_id}/transfer", data=form).status_code == 403


def test_a_refused_transfer_says_why_in_chinese(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="T3", branch_id=branch_ids["SZ-FT"])
    with session_scope(engine) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        lead.tier = "hnw"  # BJ-CY serves mass and affluent customers only
        session.add(lead)
    token = sign_in(web, "hq1")
    form = {"csrf_token": token, "branch_code": "BJ-CY", "reason": "客户已迁居北京"}
    refused = web.post(f"/leads/{lead_id}/transfer", data=form)
    assert refused.status_code == 409
    assert "营业部 BJ-CY 不服务高净值客户。如确需转派，请勾选总部特批。" in refused.text
    said = refused.text.split('data-testid="error-transfer">')[1].split("<")[0]
    assert "override" not in said  # the English name of the field never reaches the page
    assert 'value="BJ-CY"' in refused.text  # what was typed is kept, the box is one tick away
    assert 'value="客户已迁居北京"' in refused.text
    same = web.post(f"/leads/{lead_id}/transfer", data={**form, "branch_code": "SZ-FT"})
    assert same.status_code == 409
    assert f"线索 #{lead_id} 已属于营业部 SZ-FT。" in same.text
    unknown = web.post(f"/leads/{lead_id}/transfer", data={**form, "branch_code": "NOPE"})
    assert "没有代码为 NOPE 的在用营业部。" in unknown.text


def test_lead_search_filters_by_channel_status_and_branch(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    pooled = add_lead(engine, external_id="S1", branch_id=None, channel="wechat", name="马超")
    add_lead(engine, external_id="S2", branch_id=None, channel="app", name="黄忠")
    owned = add_lead(engine, external_id="S3", branch_id=branch_ids["BJ-CY"], name="赵云")
    sign_in(web, "hq1")
    pool_page = web.get("/hq/pool").text
    assert "/hq/leads?channel=wechat&amp;status=new" in pool_page
    found = web.get("/hq/leads?channel=wechat&status=new").text
    assert re.findall(r'data-lead-id="(\d+)"', found) == [str(pooled)]
    assert "13812345678" in found  # HQ reads full numbers, as in the API
    by_branch = web.get("/hq/leads?branch=BJ-CY").text
    assert re.findall(r'data-lead-id="(\d+)"', by_branch) == [str(owned)]
    assert web.get("/hq/leads?status=lost").status_code == 422


def test_auditors_search_leads_with_masked_numbers(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    add_lead(engine, external_id="S1", branch_id=None)
    sign_in(web, "aud1")
    page = web.get("/hq/leads").text
    assert "138****5678" in page
    assert "13812345678" not in page
