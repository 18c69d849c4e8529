"""The what-if page: HQ edits a scenario and reads it beside the current plan (issue 15.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import session_scope
from app.tables import Lead
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
