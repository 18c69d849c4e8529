"""Finding and paging on the pages (issue 17.4): search boxes, page numbers with a jump box,
a page past the end shows the last one, and the acquisition column sorts both ways."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.web.helpers import add_lead, sign_in

LINKS = "?q=&status=&channel=&tier=&branch="  # the filters every link keeps


def _ids(page: str) -> list[str]:
    return re.findall(r'data-lead-id="(\d+)"', page)


def test_hq_searches_and_pages_through_leads(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    for i in range(120):
        add_lead(engine, external_id=f"P-{i:03}", branch_id=None, name=f"客户{i:03}")
    sign_in(web, "hq1")
    found = web.get("/hq/leads", params={"q": "客户007"})
    assert len(_ids(found.text)) == 1
    assert 'value="客户007"' in found.text  # the box keeps what was typed
    second = web.get("/hq/leads?page=2")
    assert 'aria-current="page">2</span>' in second.text
    assert f'href="/hq/leads{LINKS}&sort=id&page=3"' in html.unescape(second.text)
    assert 'name="page"' in second.text  # the jump box
    past = web.get("/hq/leads?page=99")
    assert past.status_code == 200
    assert "没有第 99 页，已显示最后一页（第 3 页）" in past.text
    assert len(_ids(past.text)) == 20


def test_the_acquisition_column_sorts_both_ways(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    old = add_lead(engine, external_id="OLD", branch_id=None)
    new = add_lead(engine, external_id="NEW", branch_id=None, hours_ago=1)
    sign_in(web, "hq1")
    oldest = web.get("/hq/leads?sort=oldest").text
    assert f'href="/hq/leads{LINKS}&sort=newest"' in html.unescape(oldest)
    assert _ids(oldest)[0] == str(old)
    newest = web.get("/hq/leads?sort=newest").text
    assert _ids(newest)[0] == str(new)


def test_a_branch_finds_its_lead_by_the_last_four_digits(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    mine = add_lead(engine, external_id="M-1", branch_id=branch_ids["SZ-FT"], mobile="13812349999")
    add_lead(engine, external_id="M-2", branch_id=branch_ids["SZ-FT"], mobile="13812340000")
    add_lead(engine, external_id="T-1", branch_id=branch_ids["BJ-CY"], mobile="13912349999")
    sign_in(web, "sz1")
    page = web.get("/inbox", params={"q": "9999"}).text
    assert _ids(page) == [str(mine)]
    assert "清除" in page
