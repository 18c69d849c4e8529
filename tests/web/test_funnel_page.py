"""The funnel page: HQ reads every branch, a branch its own, a bad range is explained."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.helpers import sign_in

RANGE = "start=2026-11-09&end=2026-11-22"


def _table(page: str) -> str:
    return page[page.index('data-testid="funnel-table"') :]


def test_hq_reads_the_funnel_by_branch_with_names_and_rates(
    web: TestClient, funnel_world: dict[str, int]
) -> None:
    sign_in(web, "hq1")
    page = web.get(f"/analytics/funnel?by=branch&{RANGE}")
    assert page.status_code == 200
    table = _table(page.text)
    assert "SZ-FT 深圳福田营业部" in table
    assert "未分配（线索池）" in table
    assert "33.3%" in table  # SZ-FT: 1 of 3 assigned converted
    assert "95% 区间 6.1%–79.2%" in table
    assert "¥120.50" in table
    assert "获客" in page.text
    assert (
        'href="/analytics/funnel.csv?by=branch&amp;start=2026-11-09&amp;end=2026-11-22"'
        in page.text
    )


def test_a_branch_sees_only_its_own_leads(web: TestClient, funnel_world: dict[str, int]) -> None:
    sign_in(web, "sz1")
    table = _table(web.get(f"/analytics/funnel?by=channel&{RANGE}").text)
    assert "App" in table
    assert "微信小程序" not in table  # wechat leads belong to BJ-CY or nobody


def test_a_reversed_range_keeps_the_form_and_says_why_in_chinese(
    web: TestClient, funnel_world: dict[str, int]
) -> None:
    sign_in(web, "hq1")
    page = web.get("/analytics/funnel?by=tier&start=2026-11-22&end=2026-11-09")
    assert page.status_code == 422
    assert "结束日期早于开始日期" in page.text
    assert 'value="2026-11-22"' in page.text
    bad = web.get("/analytics/funnel?start=2026-13-01")
    assert bad.status_code == 422
    assert "日期格式应为" in bad.text


def test_the_csv_download_matches_the_page(web: TestClient, funnel_world: dict[str, int]) -> None:
    sign_in(web, "aud1")
    csv = web.get(f"/analytics/funnel.csv?by=tier&{RANGE}")
    assert csv.status_code == 200
    assert csv.text.splitlines()[0].startswith("week,tier,acquired")
    assert "2026-11-09,hnw,1,1,1,1,725," in csv.text
