"""HQ round pages: start a preview from the form, read it against the baselines, commit it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from allocation.explanations import not_nearest
from app.branches.importer import import_branches
from app.config import Settings
from app.db import session_scope
from app.messages import in_english, params_json
from app.rounds.lock import round_lock
from app.rounds.queries import read_round
from app.tables import Lead, RoundAssignment
from tests.web.helpers import run_job_here, sign_in
from tests.web.round_data import import_pool


@pytest.fixture
def pooled(engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path) -> None:
    import_pool(engine, settings, tmp_path)


def _start(web: TestClient, token: str, **fields: str) -> int:
    form = {"csrf_token": token, "balance_weight": "0", "max_distance_km": "", "mode": "preview"}
    response = web.post("/hq/rounds", data={**form, **fields}, follow_redirects=False)
    assert response.status_code == 303, response.text
    job = re.fullmatch(r"/hq/jobs/(\d+)\?follow=1", response.headers["location"])
    assert job, response.headers["location"]
    run_job_here(web, int(job.group(1)))
    followed = web.get(response.headers["location"], follow_redirects=False)
    match = re.fullmatch(
        r"/hq/rounds/(\d+)\?done=(previewed|committed)", followed.headers["location"]
    )
    assert match, followed.headers["location"]
    return int(match.group(1))


def _commit(web: TestClient, token: str, round_id: int) -> Any:
    """Commit from the round page: the commit is queued as a job; run it and follow its page
    (to the round when it committed, else the job page saying why)."""
    queued = web.post(f"/hq/rounds/{round_id}/commit", data={"csrf_token": token},
                      follow_redirects=False)  # fmt: skip
    assert queued.status_code == 303, queued.text
    job = re.fullmatch(r"/hq/jobs/(\d+)\?follow=1", queued.headers["location"])
    assert job, queued.headers["location"]
    run_job_here(web, int(job.group(1)))
    return web.get(queued.headers["location"])


def _section(html: str, testid: str, end: str = "</table>") -> str:
    """The markup of one `data-testid` element, up to the first `end` after it."""
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index(end, start)]


def _statuses(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {lead.external_id: lead.status for lead in session.exec(select(Lead))}


def test_hq_previews_a_round_and_sees_its_figures_beside_the_baselines(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    listing = web.get("/hq/rounds").text
    assert "发起新一轮分配" in listing
    assert "池中待分配 12 条" in listing
    round_id = _start(web, token)
    page = web.get(f"/hq/rounds/{round_id}?done=previewed").text
    assert "预览已生成" in page
    assert "待提交" in page
    assert 'data-testid="commit-button"' in page
    assert "已证明为最优解" in page
    comparison = _section(page, "comparison")
    for name in ("本轮方案", "贪心", "轮询", "加权随机", "同城占比", "比本轮方案多花成本"):
        assert name in comparison
    assert "基准" in comparison
    reasons = _section(page, "reasons")
    assert re.search(r"<td>无法定位</td><td class=\"num\">1</td>", reasons)
    assert page.count('<rect class="site') == 2  # the two active branches that got leads
    assert 'data-testid="distance-histogram"' in page
    assert "SZ-FT" in _section(page, "load-chart", "</svg>")
    assert set(_statuses(engine).values()) == {"new"}  # a preview changes no lead
    listing = web.get("/hq/rounds").text
    assert f'data-round-id="{round_id}"' in listing


def test_the_assignment_table_pages_and_filters_the_unassigned(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    round_id = _start(web, sign_in(web, "hq1"))
    everything = _section(web.get(f"/hq/rounds/{round_id}").text, "assignments")
    assert everything.count("data-lead-id=") == 12
    assert "最近的可服务营业部" in everything or "就近分配" in everything
    assert "司马懿" in everything  # the HNW lead near Beijing travels to Shenzhen
    only = _section(web.get(f"/hq/rounds/{round_id}?show=unassigned").text, "assignments")
    assert only.count("data-lead-id=") == 1
    assert "诸葛亮" in only
    assert "无法定位" in only
    assert web.get(f"/hq/rounds/{round_id}?show=nope").status_code == 422


def test_a_lead_whose_cheapest_listed_branch_was_full_reads_so_in_chinese(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    """Rounds here have no pairs file, but a pair-mode explanation must read as well as any."""
    round_id = _start(web, sign_in(web, "hq1"))
    said = not_nearest(branch="SZ-FT", full=True, pairs=True, why="equal_cost")
    with session_scope(engine) as session:
        row = session.exec(
            select(RoundAssignment).where(
                RoundAssignment.round_id == round_id, RoundAssignment.branch_id.is_not(None)
            )  # type: ignore[union-attr]
        ).first()
        assert row is not None
        row.explanation = in_english(said)
        row.explanation_code, row.explanation_params = said.code, params_json(said)
        session.add(row)
    table = _section(web.get(f"/hq/rounds/{round_id}").text, "assignments")
    assert "成本最低的候选营业部 SZ-FT 已满" in table
    assert "cheapest listed" not in table


def test_committing_assigns_the_leads_and_committing_twice_is_a_conflict_page(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    round_id = _start(web, token)
    done = _commit(web, token, round_id)
    assert done.status_code == 200
    assert "本轮已提交" in done.text
    assert 'data-testid="commit-button"' not in done.text
    statuses = _statuses(engine)
    assert statuses["SZ-01"] == statuses["BJ-HNW"] == "assigned"
    assert statuses["NOWHERE"] == "new"
    again = web.post(f"/hq/rounds/{round_id}/commit", data={"csrf_token": token})
    assert again.status_code == 409
    assert "只有待提交的预览才能提交" in again.text
    cancel = web.post(f"/hq/rounds/{round_id}/cancel", data={"csrf_token": token})
    assert cancel.status_code == 409
    assert "不能再取消" in cancel.text
    listing = web.get("/hq/rounds").text
    assert re.search(rf'data-round-id="{round_id}".*?已提交.*?hq1', listing, re.S)


def test_run_and_commit_in_one_go_with_a_distance_limit(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    round_id = _start(web, token, mode="commit", max_distance_km="50", balance_weight="0.5")
    page = web.get(f"/hq/rounds/{round_id}?done=committed").text
    assert "已提交" in page
    assert re.search(r"<td>超出最大距离</td><td class=\"num\">1</td>", _section(page, "reasons"))
    assert _statuses(engine)["BJ-HNW"] == "new"
    assert _statuses(engine)["BJ-01"] == "assigned"


def test_a_cancelled_preview_can_no_longer_be_committed(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    round_id = _start(web, token)
    cancelled = web.post(f"/hq/rounds/{round_id}/cancel", data={"csrf_token": token})
    assert "本轮已取消" in cancelled.text
    late = web.post(f"/hq/rounds/{round_id}/commit", data={"csrf_token": token})
    assert late.status_code == 409
    assert set(_statuses(engine).values()) == {"new"}


def test_no_round_starts_or_commits_while_another_one_runs(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    preview = _start(web, token)
    with round_lock(engine, actor="hq2"):  # another HQ user's round is running
        listing = web.get("/hq/rounds").text
        assert "hq2" in _section(listing, "running", "</div>")
        assert re.search(r'data-testid="start-button" disabled', listing)
        busy = web.post("/hq/rounds", data={"csrf_token": token, "mode": "preview"})
        assert busy.status_code == 409
        assert "另一轮分配正在求解或提交" in busy.text
        blocked = web.post(f"/hq/rounds/{preview}/commit", data={"csrf_token": token})
        assert blocked.status_code == 409
    assert set(_statuses(engine).values()) == {"new"}


def test_the_form_rejects_bad_parameters_and_unknown_rounds(web: TestClient, pooled: None) -> None:
    token = sign_in(web, "hq1")
    for bad in ({"balance_weight": "-1"}, {"max_distance_km": "0"}, {"mode": "later"},
                {"balance_weight": "nan"}):  # fmt: skip
        form = {"csrf_token": token, "mode": "preview", **bad}
        assert web.post("/hq/rounds", data=form).status_code == 422, bad
    assert web.post("/hq/rounds", data={"mode": "preview"}).status_code == 403  # no CSRF token
    assert web.get("/hq/rounds/999999").status_code == 404
    assert web.post("/hq/rounds/999999/commit", data={"csrf_token": token}).status_code == 404


def test_auditors_read_rounds_but_cannot_start_commit_or_cancel(
    web: TestClient, pooled: None
) -> None:
    round_id = _start(web, sign_in(web, "hq1"))
    web.cookies.clear()
    token = sign_in(web, "aud1")
    listing = web.get("/hq/rounds")
    assert listing.status_code == 200
    assert "发起新一轮分配" not in listing.text
    page = web.get(f"/hq/rounds/{round_id}").text
    assert "本轮方案" in page
    assert "提交本轮" not in page
    assert "取消本轮" not in page
    for path in ("/hq/rounds", f"/hq/rounds/{round_id}/commit", f"/hq/rounds/{round_id}/cancel"):
        response = web.post(path, data={"csrf_token": token, "mode": "preview"})
        assert response.status_code == 403, path
        assert "没有权限" in response.text


@pytest.mark.parametrize("username", ["sz1", "fin1"])
def test_branch_and_finance_users_get_the_403_page(
    web: TestClient, pooled: None, username: str
) -> None:
    round_id = _start(web, sign_in(web, "hq1"))
    web.cookies.clear()
    sign_in(web, username)
    for path in ("/hq/rounds", f"/hq/rounds/{round_id}"):
        response = web.get(path)
        assert response.status_code == 403, path
        assert "没有权限" in response.text
    assert 'href="/hq/rounds"' not in web.get("/").text


def test_the_hq_dashboard_links_the_latest_round(web: TestClient, pooled: None) -> None:
    token = sign_in(web, "hq1")
    assert "还没有分配轮次" in web.get("/").text
    round_id = _start(web, token)
    home = _section(web.get("/").text, "latest-round", "</div>\n</div>")
    assert f'href="/hq/rounds/{round_id}"' in home
    assert "待提交" in home
    assert "发起新一轮分配" in home


def test_the_map_draws_every_located_lead_as_clusters_with_lines_to_their_branch(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    round_id = _start(web, sign_in(web, "hq1"))
    page = web.get(f"/hq/rounds/{round_id}").text
    plot = _section(page, "round-map", "</svg>")
    with session_scope(engine) as session:
        outcomes = session.exec(select(RoundAssignment, Lead).join(Lead)).all()
    located = [(a, lead) for a, lead in outcomes if lead.lat is not None]
    assigned = sum(a.branch_id is not None for a, _ in located)
    counts = [int(n) for n in re.findall(r"<title>(\d+) 条线索 → ", plot)]
    unassigned = [int(n) for n in re.findall(r"<title>(\d+) 条线索未分配</title>", plot)]
    lines = plot.count("<line ")
    assert lines >= 1
    assert sum(counts) == 2 * assigned  # each assigned cluster: its dot and its line
    assert sum(unassigned) == len(located) - assigned
    assert f"图中为 {len(located)} / {len(located)} 条已定位线索" in page
    assert 'class="outline"' in plot  # drawn over the provinces


def test_the_map_draws_the_largest_clusters_when_there_are_many(
    web: TestClient, pooled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.web.pages.round_charts.MAP_FLOWS", 1)
    round_id = _start(web, sign_in(web, "hq1"))
    plot = _section(web.get(f"/hq/rounds/{round_id}").text, "round-map", "</svg>")
    assert plot.count("<circle") == 1
    assert plot.count("<line ") <= 1
    assert plot.count('<rect class="site') == 2  # branches with leads this round, drawn or not


def test_a_preview_refused_at_commit_no_longer_offers_commit(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    stale = _start(web, token)
    _start(web, token, mode="commit")  # another round takes the pool first
    refused = _commit(web, token, stale)
    assert 'data-testid="job-error"' in refused.text
    assert "本次预览已作废，请重新发起一轮" in refused.text
    assert "条线索离开线索池（被转派、跟进或重新导入）" in refused.text
    assert "left the pool" not in refused.text
    page = web.get(f"/hq/rounds/{stale}").text
    assert 'data-testid="commit-button"' not in page
    assert "已取消" in page


def test_a_preview_the_branches_no_longer_fit_names_the_branch_in_chinese(
    web: TestClient, engine: Engine, pooled: None, tmp_path: Path
) -> None:
    token = sign_in(web, "hq1")
    round_id = _start(web, token)
    smaller = tmp_path / "smaller-bj.csv"
    smaller.write_text(
        "code,name,lat,lon,capacity,tiers,region_code,active\n"
        "BJ-CY,北京朝阳营业部,39.921,116.443,1,mass|affluent,110105,true\n",
        encoding="utf-8",
    )
    with session_scope(engine) as session:
        import_branches(session, path=smaller, actor="test")
    refused = _commit(web, token, round_id)
    assert "失败" in refused.text
    assert re.search(
        r"预览之后营业部已变化：营业部 BJ-CY 将有 \d+ 位客户，超出容量 1（已有 0 位，本轮计划 \d+ 位）。"
        r"本次预览已作废，请重新发起一轮。",
        refused.text,
    )


def test_the_round_page_shows_where_one_more_advisor_helps_most(
    web: TestClient, engine: Engine, pooled: None, tmp_path: Path
) -> None:
    # Beijing Chaoyang can take 2 of its 4 nearby leads: the other two travel to Shenzhen.
    small = tmp_path / "small-bj.csv"
    small.write_text(
        "code,name,lat,lon,capacity,tiers,region_code,active\n"
        "BJ-CY,北京朝阳营业部,39.921,116.443,2,mass|affluent,110105,true\n",
        encoding="utf-8",
    )
    with session_scope(engine) as session:
        import_branches(session, path=small, actor="test")
    round_id = _start(web, sign_in(web, "hq1"))
    table = _section(web.get(f"/hq/rounds/{round_id}").text, "advisor-gains")
    assert "多一名顾问最有用的营业部" in table
    row = re.search(
        r"BJ-CY</span><span class=\"sub\">北京朝阳营业部</span></td>(.*?)</tr>", table, re.S
    )
    assert row, table
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1))
    assert cells[0] == "2 / 2"
    assert cells[1] == "—"  # no lead is left out for want of room
    assert float(cells[2].split()[0].replace(",", "")) > 1500  # a lead no longer sent south
    assert "SZ-FT" not in table  # it has room: one more unit there changes nothing
    report = _report(engine, round_id)
    bj = next(b for b in report["branches"] if b["code"] == "BJ-CY")
    assert bj["marginal_leads"] == 0
    assert bj["shadow_price_km"] > 1500
    sz = next(b for b in report["branches"] if b["code"] == "SZ-FT")
    assert (sz["shadow_price_km"], sz["marginal_leads"], sz["shadow_price_holds_for"]) == (
        0.0,
        0,
        None,
    )


def _report(engine: Engine, round_id: int) -> dict[str, Any]:
    with session_scope(engine) as session:
        return read_round(session, round_id=round_id).report
