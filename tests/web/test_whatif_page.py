"""The what-if page: HQ edits a scenario and reads it beside the current plan (issue 15.1)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import session_scope
from app.intake.keys import issue_key
from app.tables import AuditRecord, Lead, SavedScenario
from tests.web.helpers import sign_in
from tests.web.round_data import import_pool


@pytest.fixture
def pooled(engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path) -> None:
    import_pool(engine, settings, tmp_path)


def test_hq_tries_a_new_branch_and_sees_the_leads_that_would_move(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    form = web.get("/hq/whatif")
    assert form.status_code == 200
    assert "假设分析" in form.text
    scenario = {
        "open": [{"code": "BJ-HNW1", "name": "北京高净值中心", "lat": 39.9, "lon": 116.4,
                  "capacity": 3, "tiers": ["hnw"]}],
    }  # fmt: skip
    page = web.post("/hq/whatif", data={"csrf_token": token, "scenario": json.dumps(scenario)})
    assert page.status_code == 200, page.text
    assert "当前方案与情景对比" in page.text
    changes = page.text[page.text.index('data-testid="whatif-changes"') :]
    assert "共 1 条" in changes
    assert "BJ-HNW1" in changes
    with session_scope(engine) as session:
        assert {x.status for x in session.exec(select(Lead))} == {"new"}


def test_a_bad_scenario_is_shown_again_with_the_field_named(web: TestClient, pooled: None) -> None:
    token = sign_in(web, "hq1")
    bad = web.post(
        "/hq/whatif", data={"csrf_token": token, "scenario": '{"capacity": {"NOPE": 2}}'}
    )
    assert bad.status_code == 422
    assert "capacity.NOPE" in bad.text
    assert "NOPE" in bad.text.split('data-testid="scenario"')[1]  # the text is kept for editing


def test_scenario_errors_read_in_chinese_with_the_field_named(
    web: TestClient, pooled: None
) -> None:
    token = sign_in(web, "hq1")

    def error_of(text: str) -> str:
        page = web.post("/hq/whatif", data={"csrf_token": token, "scenario": text})
        assert page.status_code == 422
        return page.text.split('data-testid="scenario-error">')[1].split("</div>")[0]

    assert (
        error_of('{"capacity": {"NOPE": 2}}') == "情景有误：capacity.NOPE：没有使用此代码的营业部"
    )
    assert error_of('{"balance_weight": -1, "capcity": {}}') == (
        "情景有误：balance_weight：须不小于 0；capcity：未知的键"
    )
    assert error_of("[1]") == "情景须为 JSON 对象"
    assert error_of("{oops") == "情景不是有效的 JSON（第 1 行附近有误）"


def test_the_page_is_for_hq_only(web: TestClient, pooled: None) -> None:
    sign_in(web, "aud1")
    assert web.get("/hq/whatif").status_code == 403


def _save(web: TestClient, token: str, name: str, scenario: dict[str, object]) -> int:
    saved = web.post(
        "/hq/whatif",
        data={"csrf_token": token, "scenario": json.dumps(scenario), "name": name,
              "action": "save"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    assert location.endswith("&done=saved")
    return int(location.split("load=")[1].split("&")[0])


def test_hq_saves_a_scenario_loads_it_again_and_replaces_it_by_name(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    first = _save(web, token, "深圳扩容", {"capacity": {"SZ-FT": 9}})
    page = web.get(f"/hq/whatif?load={first}&done=saved").text
    assert "情景已保存。" in page
    assert '"SZ-FT": 9' in html.unescape(page.split('data-testid="scenario"')[1])
    assert 'value="深圳扩容"' in page
    again = _save(web, token, " 深圳扩容 ", {"capacity": {"SZ-FT": 11}})
    assert again == first  # the same name (spaces trimmed) replaces the scenario
    assert '"SZ-FT": 11' in html.unescape(web.get(f"/hq/whatif?load={first}").text)
    with session_scope(engine) as session:
        actions = [r.action for r in session.exec(select(AuditRecord))]
    assert actions.count("whatif.save") == 2


def test_a_scenario_that_does_not_parse_or_has_no_name_is_not_saved(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    for name, text, said in (
        ("坏情景", '{"capacity": {"SZ-FT": -1}}', "capacity.SZ-FT：须不小于 0"),
        ("   ", "{}", "情景名称须为 1 至 100 个字符"),
        ("x" * 101, "{}", "情景名称须为 1 至 100 个字符"),
    ):
        page = web.post("/hq/whatif", data={"csrf_token": token, "scenario": text, "name": name,
                                            "action": "save"})  # fmt: skip
        assert page.status_code == 422
        assert said in page.text.split('data-testid="scenario-error">')[1].split("</div>")[0]
        assert f'value="{name}"' in page.text  # what was typed is kept
    with session_scope(engine) as session:
        assert session.exec(select(SavedScenario)).all() == []


def test_hq_compares_saved_scenarios_side_by_side(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    token = sign_in(web, "hq1")
    closed = _save(web, token, "关闭福田", {"close": ["SZ-FT"]})
    opened = _save(web, token, "新开北京", {"open": [
        {"code": "BJ-HNW1", "name": "北京高净值中心", "lat": 39.9, "lon": 116.4, "capacity": 3,
         "tiers": ["hnw"]}]})  # fmt: skip
    page = web.post("/hq/whatif/compare",
                    data={"csrf_token": token, "ids": [str(opened), str(closed)]})  # fmt: skip
    assert page.status_code == 200, page.text
    table = page.text[page.text.index('data-testid="side-by-side"') :].split("</table>")[0]
    headers = table.split("</thead>")[0]
    assert headers.index("新开北京") < headers.index("关闭福田")  # in the order chosen
    changed = table.split("将改变营业部的线索")[1].split("</tr>")[0]
    assert ">1</td>" in changed  # the new branch takes one hnw lead
    with session_scope(engine) as session:
        assert {x.status for x in session.exec(select(Lead))} == {"new"}
        audit = session.exec(select(AuditRecord).where(AuditRecord.action == "round.whatif"))
        compared = json.loads(audit.one().detail)["compared"]
    assert [c["name"] for c in compared] == ["新开北京", "关闭福田"]


def test_comparing_needs_one_to_four_scenarios(web: TestClient, pooled: None) -> None:
    token = sign_in(web, "hq1")
    ids = [str(_save(web, token, f"情景{k}", {"balance_weight": k})) for k in range(5)]
    for chosen, count in (([], 0), (ids, 5)):
        page = web.post("/hq/whatif/compare", data={"csrf_token": token, "ids": chosen})
        assert page.status_code == 422
        assert f"请选择 1 至 4 个已保存的情景进行比较（当前选了 {count} 个）" in page.text
    gone = web.post("/hq/whatif/compare", data={"csrf_token": token, "ids": ["999"]})
    assert gone.status_code == 404
    assert "没有已保存的情景 999" in gone.text


def test_hq_deletes_a_saved_scenario(web: TestClient, engine: Engine, pooled: None) -> None:
    token = sign_in(web, "hq1")
    saved = _save(web, token, "试一下", {})
    deleted = web.post(f"/hq/whatif/{saved}/delete", data={"csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert deleted.status_code == 303
    assert "情景已删除。" in web.get(deleted.headers["location"]).text
    assert web.get(f"/hq/whatif?load={saved}").status_code == 404
    assert web.post(f"/hq/whatif/{saved}/delete", data={"csrf_token": token}).status_code == 404
    with session_scope(engine) as session:
        assert session.exec(select(SavedScenario)).all() == []


def test_the_room_kept_for_arrivals_is_shown_in_total_and_per_branch(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    with session_scope(engine) as session:  # the pool's channel pushes through the API
        issue_key(session, channel="app", actor="hq1")
    token = sign_in(web, "hq1")
    scenario = {"reserve_for_arrivals": 2, "capacity": {"SZ-FT": 50, "BJ-CY": 50}}
    page = web.post("/hq/whatif", data={"csrf_token": token, "scenario": json.dumps(scenario)})
    assert page.status_code == 200, page.text
    total = page.text.split('data-testid="whatif-reserve">')[1].split("</tr>")[0]
    assert "为新到线索预留" in total
    assert total.count('class="num"') == 2
    assert total.rstrip().endswith('<td class="num">2</td>')
    branches = page.text.split('data-testid="whatif-branches"')[1].split("</table>")[0]
    assert '<th scope="col" class="num">预留</th>' in branches
    kept = re.findall(r'<td class="num">(\d+)</td></tr>', branches)
    assert sum(int(n) for n in kept) == 2
    plain = web.post("/hq/whatif", data={"csrf_token": token, "scenario": "{}"})
    assert 'data-testid="whatif-reserve"' not in plain.text
    assert "预留</th>" not in plain.text


def test_side_by_side_says_the_room_each_scenario_keeps(
    web: TestClient, engine: Engine, pooled: None
) -> None:
    with session_scope(engine) as session:
        issue_key(session, channel="app", actor="hq1")
    token = sign_in(web, "hq1")
    room = {"capacity": {"SZ-FT": 50, "BJ-CY": 50}}
    keeping = _save(web, token, "预留两名", {**room, "reserve_for_arrivals": 2})
    plain = _save(web, token, "不预留", room)
    page = web.post("/hq/whatif/compare",
                    data={"csrf_token": token, "ids": [str(keeping), str(plain)]})  # fmt: skip
    assert page.status_code == 200, page.text
    table = page.text[page.text.index('data-testid="side-by-side"') :].split("</table>")[0]
    row = table.split("<td>为新到线索预留</td>")[1].split("</tr>")[0]
    assert row == '<td class="num">—</td><td class="num">2</td><td class="num">—</td>'
