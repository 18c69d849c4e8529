"""Accessibility (issue 17.8): every page of every role passes axe-core's WCAG 2.1 A/AA rules
with no serious or critical violation, in a real Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import update

from app.db import session_scope
from app.notifications.service import notify_assigned
from app.tables import NotificationOutbox
from tests.app.funnel_world import WEEK_1, add_funnel_lead
from tests.web.browser import LiveServer, sign_in

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime

PAGES = {
    "sz1": ("/", "/inbox", "/leads/{own}", "/analytics/funnel"),
    "hq1": ("/", "/hq/branches", "/hq/pool", "/hq/leads", "/hq/rounds", "/hq/whatif",
            "/hq/imports", "/hq/users", "/hq/notifications", "/analytics/funnel", "/audit",
            "/leads/{own}"),
    "fin1": ("/", "/finance/ledger", "/finance/imports", "/finance/statements", "/finance/kpi",
             "/finance/suspense", "/finance/policies"),
    "aud1": ("/", "/audit", "/finance/suspense"),
}  # fmt: skip
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = ("serious", "critical")


@pytest.fixture
def own_lead(live_server: LiveServer) -> int:
    engine = live_server.engine
    sz = live_server.branch_ids["SZ-FT"]
    own = add_funnel_lead(engine, "AX-1", status="assigned", branch_id=sz, assigned_at=WEEK_1,
                          name="欧阳明月")  # fmt: skip
    with session_scope(engine) as session:  # an unread notice in the inbox, a dead letter
        notify_assigned(session, sz, [own])
        session.execute(update(NotificationOutbox).values(status="dead", last_error="HTTP 502"))
    engine.dispose()
    return own


def _blocking(page: Any) -> list[str]:
    results = Axe().run(page, options=WCAG_21_AA)
    return [
        f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s), e.g. {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("username", sorted(PAGES))
def test_every_page_has_no_serious_accessibility_violation(
    new_page: Any, own_lead: int, username: str
) -> None:
    page = new_page()
    sign_in(page, username)
    found = {}
    for path in PAGES[username]:
        page.goto(path.format(own=own_lead))
        if problems := _blocking(page):
            found[path] = problems
    assert found == {}


def test_the_sign_in_page_has_no_serious_accessibility_violation(new_page: Any) -> None:
    page = new_page()
    page.goto("/login")
    assert _blocking(page) == []


def test_the_keyboard_starts_at_a_skip_link_and_headers_name_their_columns(
    new_page: Any, own_lead: int
) -> None:
    page = new_page()
    sign_in(page, "hq1")
    for path in ("/hq/leads", "/audit", "/analytics/funnel"):
        page.goto(path)
        assert page.evaluate("document.querySelectorAll('th:not([scope])').length") == 0
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "跳到主要内容"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
