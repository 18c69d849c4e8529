"""The pages in a real Chromium: every role signs in, a branch works a lead, Chinese renders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.funnel_world import WEEK_1, add_funnel_lead
from tests.web.browser import LiveServer, screenshot, sign_in
from tests.web.helpers import add_lead

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime

HOME_MARKERS = {
    "hq1": "负载最高的营业部",
    "aud1": "只读账号",
    "sz1": "最早分配、尚未联系的线索",
    "fin1": "待结账月份",
}


def test_every_role_signs_in_and_lands_on_its_dashboard(new_page: Any) -> None:
    for username, marker in HOME_MARKERS.items():
        page = new_page()
        sign_in(page, username)
        assert page.url.endswith("/")
        assert page.get_by_test_id("user-name").inner_text() == username
        assert marker in page.content()
        screenshot(page, f"home-{username}")


def test_a_wrong_password_keeps_the_user_on_the_login_page(new_page: Any) -> None:
    page = new_page()
    sign_in(page, "sz1", "not the password")
    assert "/login" in page.url
    assert "用户名或密码错误" in page.get_by_test_id("login-error").inner_text()
    screenshot(page, "login-failed")


def test_a_branch_works_a_lead_from_contacted_to_returned(
    new_page: Any, live_server: LiveServer
) -> None:
    engine = live_server.engine
    lead_id = add_lead(engine, external_id="WX-001", branch_id=live_server.branch_ids["SZ-FT"],
                       name="欧阳娜娜", channel="wechat")  # fmt: skip
    add_lead(engine, external_id="APP-002", branch_id=live_server.branch_ids["SZ-FT"], name="李强")
    engine.dispose()
    page = new_page()
    sign_in(page, "sz1")
    page.click("text=线索收件箱")
    assert page.locator(f"tr[data-lead-id='{lead_id}']").is_visible()
    screenshot(page, "branch-inbox")
    page.click(f"tr[data-lead-id='{lead_id}'] >> text=详情")
    page.click("button:has-text('标记已联系')")
    assert "已标记为「已联系」" in page.get_by_test_id("flash").inner_text()
    page.click("button:has-text('查看完整号码')")
    assert page.get_by_test_id("revealed-mobile").inner_text() == "13812345678"
    screenshot(page, "branch-lead")
    page.fill("#reason", "客户常住外地，不在本营业部服务范围")
    page.once("dialog", lambda dialog: dialog.dismiss())  # changed their mind: nothing happens
    page.click("button:has-text('退回')")
    assert "/leads/" in page.url
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("button:has-text('退回')")
    page.wait_for_url("**/inbox?done=returned")
    assert "确定退回吗" in questions[0]
    assert "线索已退回线索池" in page.get_by_test_id("flash").inner_text()
    assert page.locator(f"tr[data-lead-id='{lead_id}']").count() == 0


def test_a_branch_user_cannot_open_another_branchs_lead_page(
    new_page: Any, live_server: LiveServer
) -> None:
    engine = live_server.engine
    theirs = add_lead(engine, external_id="BJ-9", branch_id=live_server.branch_ids["BJ-CY"])
    engine.dispose()
    page = new_page()
    sign_in(page, "sz1")
    response = page.goto(f"/leads/{theirs}")
    assert response.status == 404
    assert "页面不存在" in page.get_by_test_id("error").inner_text()
    screenshot(page, "branch-other-lead-404")


def test_chinese_names_render_with_a_cjk_font(new_page: Any, live_server: LiveServer) -> None:
    engine = live_server.engine
    lead_id = add_lead(engine, external_id="CJK-1", branch_id=live_server.branch_ids["SZ-FT"],
                       name="司马懿")  # fmt: skip
    engine.dispose()
    page = new_page()
    sign_in(page, "sz1")
    page.goto(f"/leads/{lead_id}")
    name = page.get_by_test_id("lead-name")
    box = name.bounding_box()
    assert box is not None
    assert box["width"] > 40
    assert box["height"] > 10
    assert any(
        "WenQuanYi" in family for family in _fonts_rendering(page, "[data-testid=lead-name]")
    )


def test_hq_sees_branches_and_the_pool(new_page: Any, live_server: LiveServer) -> None:
    engine = live_server.engine
    add_lead(engine, external_id="P-1", branch_id=None, name="诸葛亮", located=False)
    add_lead(engine, external_id="P-2", branch_id=live_server.branch_ids["SZ-FT"])
    engine.dispose()
    page = new_page()
    sign_in(page, "hq1")
    page.click("text=营业部网点")
    table = page.get_by_test_id("branch-table")
    assert "深圳福田营业部" in table.inner_text()
    screenshot(page, "hq-branches")
    page.click("text=线索池")
    assert "诸葛亮" in page.get_by_test_id("unresolved").inner_text()
    screenshot(page, "hq-pool")
    page.click("[data-testid=by-channel] tbody a >> nth=0")
    assert "/hq/leads?" in page.url
    assert "诸葛亮" in page.get_by_test_id("lead-search").inner_text()
    screenshot(page, "hq-leads")


def _fonts_rendering(page: Any, selector: str) -> list[str]:
    """The platform fonts Chromium actually used for an element's text (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [f["familyName"] for f in fonts if f["glyphCount"] > 0]


def test_the_api_docs_render_offline_under_the_content_security_policy(new_page: Any) -> None:
    page = new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if "127.0.0.1" not in request.url and not request.url.startswith("data:")
            else None
        ),
    )
    page.goto("/docs")
    page.wait_for_selector(".opblock", timeout=15_000)  # the operations are listed
    assert page.locator(".opblock").count() > 10
    assert refused == []
    assert outside == []


def test_hq_reads_the_funnel_for_a_chosen_range(new_page: Any, live_server: LiveServer) -> None:
    engine = live_server.engine
    sz = live_server.branch_ids["SZ-FT"]
    add_funnel_lead(engine, "F-1")
    add_funnel_lead(engine, "F-2", status="converted", branch_id=sz, assigned_at=WEEK_1,
                    contacted_at=WEEK_1)  # fmt: skip
    engine.dispose()
    page = new_page()
    sign_in(page, "hq1")
    page.click("text=转化漏斗")
    page.select_option("#by", "branch")
    page.fill("#start", "2026-11-09")
    page.fill("#end", "2026-11-22")
    page.click("[data-testid=funnel-form] button")
    table = page.get_by_test_id("funnel-table").inner_text()
    assert "深圳福田营业部" in table
    assert "未分配（线索池）" in table
    assert page.get_by_test_id("funnel-chart").locator("rect").count() == 4
    screenshot(page, "hq-funnel")
