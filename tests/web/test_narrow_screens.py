"""Every page at tablet (960 px) and phone (390 px) width: no sideways scrolling, nothing over
the title, and the navigation one tap away (issue 17.1)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from app.db import session_scope
from app.notifications.service import notify_assigned
from app.tables import NotificationOutbox
from tests.app.funnel_world import WEEK_1, add_funnel_lead
from tests.web.browser import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.real_clock  # a browser cannot run under libfaketime

PAGES = {
    "sz1": ("/", "/inbox", "/leads/{own}", "/analytics/funnel"),
    "hq1": ("/", "/hq/branches", "/hq/pool", "/hq/leads", "/hq/rounds", "/hq/whatif",
            "/analytics/funnel", "/audit", "/hq/users", "/hq/notifications"),
    "fin1": ("/", "/finance/ledger", "/finance/imports", "/finance/statements", "/finance/kpi",
             "/finance/suspense", "/finance/policies"),
}  # fmt: skip
WIDTHS = (960, 390)
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"
TITLE_COVERED = """() => {
  const h = document.querySelector('h1');
  const r = h.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
  return !(top === h || h.contains(top));
}"""

# Table cells squeezed to a character a line grow tall; a cell of a card list may wrap.
SQUEEZED_CELLS = """() => [...document.querySelectorAll('table.data:not(.cards) td')]
  .filter(td => td.getBoundingClientRect().height > 90).map(td => td.innerText)"""


@pytest.fixture
def own_lead(live_server: LiveServer) -> int:
    engine = live_server.engine
    sz = live_server.branch_ids["SZ-FT"]
    for i in range(3):
        add_funnel_lead(engine, f"N-{i}", channel="partner_alipay", status="assigned",
                        branch_id=sz, assigned_at=WEEK_1, name="欧阳明月")  # fmt: skip
    own = add_funnel_lead(engine, "N-9", status="assigned", branch_id=sz, assigned_at=WEEK_1)
    with session_scope(engine) as session:  # an unread notice in the inbox, a dead letter
        notify_assigned(session, sz, [own])
        session.execute(update(NotificationOutbox).values(status="dead", last_error="HTTP 502"))
    engine.dispose()
    return own


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", sorted(PAGES))
def test_every_page_fits_the_screen(
    new_page: Any, own_lead: int, username: str, width: int
) -> None:
    page = new_page(width=width, height=844)
    sign_in(page, username)
    for path in PAGES[username]:
        page.goto(path.format(own=own_lead))
        assert page.evaluate(SIDEWAYS) <= 0, (username, path, width)
        page.evaluate("window.scrollTo(0, 0)")
        assert not page.evaluate(TITLE_COVERED), (username, path, width)
        assert page.evaluate(SQUEEZED_CELLS) == [], (username, path, width)
        name = path.format(own="lead").replace("/", "-").rstrip("-")
        screenshot(page, f"narrow-{width}-{username}{name}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_opens_and_leads_to_every_page_of_the_role(
    new_page: Any, live_server: LiveServer, width: int
) -> None:
    page = new_page(width=width, height=844)
    sign_in(page, "sz1")
    menu = page.get_by_test_id("menu-button")
    assert menu.is_visible()
    menu.click()
    page.get_by_test_id("menu").get_by_text("转化漏斗").click()
    page.wait_for_load_state()
    assert page.url.endswith("/analytics/funnel")
    screenshot(page, f"narrow-{width}-menu")
