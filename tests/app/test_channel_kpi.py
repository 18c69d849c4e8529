"""The channels' overlay points by month (issue 17.3, KPI overlay report): the page sums the
KPI postings per channel and period, apart from any money."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.web.pages.finance import kpi_report
from tests.app.ledger_world import HEADER, SPLIT, add_policies, import_csv
from tests.web.helpers import sign_in

EVENTS = HEADER + (
    "E2,B1,product_fee,20.01,2026-10-10T10:00:00,app\n"  # 50% overlay: 1001 points, half up
    "E6,A1,product_fee,3.33,2026-11-14T10:00:00,app\n"  # 167 points in November
    "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"  # default: 10050 points
)


def test_overlay_points_are_summed_per_channel_and_month(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    add_policies(ledger_engine, tmp_path, SPLIT)
    import_csv(ledger_engine, tmp_path, EVENTS)
    with session_scope(ledger_engine) as session:
        report = kpi_report(session)
    assert report.periods == ["2026-10", "2026-11"]
    assert report.points == {("app", "2026-10"): 1001 + 10050, ("app", "2026-11"): 167}
    assert report.total_of("app") == 11218


def test_the_kpi_page_shows_finance_hq_and_auditors_and_no_one_else(
    api: TestClient, ledger_engine: Engine, tmp_path: Path
) -> None:
    add_policies(ledger_engine, tmp_path, SPLIT)
    import_csv(ledger_engine, tmp_path, EVENTS)
    for user in ("fin1", "hq1", "aud1"):
        api.cookies.clear()
        sign_in(api, user)
        page = api.get("/finance/kpi")
        assert page.status_code == 200, user
        table = page.text[page.text.index('data-testid="kpi-table"') :]
        assert "App" in table
        assert "11,051" in table
        assert "11,218" in table
