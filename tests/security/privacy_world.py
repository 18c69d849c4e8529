"""A world with known full mobile numbers: leads imported through the real CSV importer,
allocated by a committed round, credited with revenue, November closed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.journal import service as ledger
from app.leads.importer import import_leads
from app.rounds.service import RoundParams, run_round
from app.tables.base import utcnow
from ledger.periods import period_of
from tests.app.factories import write

MOBILES = {"L1": "13812345678", "L2": "13987654321", "L3": "15011112222", "L4": "18600001111"}
LEADS_CSV = "external_id,name,mobile,lat,lon\n" + "".join(
    f"{ext},客户{ext},{mobile},{lat},{lon}\n"
    for (ext, mobile), (lat, lon) in zip(
        MOBILES.items(),
        [(22.54, 114.05), (22.55, 114.06), (39.92, 116.44), (39.93, 116.45)],
        strict=True,
    )
)


@pytest.fixture
def world(engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path) -> int:
    """Leads allocated by a committed round, revenue credited, November closed; the round id."""
    with session_scope(engine) as session:
        import_leads(session, path=write(tmp_path, "leads.csv", LEADS_CSV), actor="test",
                     secret=settings.customer_key, channel="app")  # fmt: skip
    round_id = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    now = utcnow()  # after the round: the owners are in place
    revenue = "event_id,external_id,type,amount,occurred_at,channel\n" + "".join(
        f"E-{ext},{ext},product_fee,12.34,{now.isoformat()},app\n" for ext in MOBILES
    )
    with session_scope(engine) as session:
        ledger.import_revenue(session, path=write(tmp_path, "rev.csv", revenue), actor="fin1")
    with session_scope(engine) as session:  # closed as if it were already next month
        period = str(period_of(now))
        ledger.close_period(session, period=period, actor="fin1", now=_after(period))
    return round_id


def _after(period: str) -> datetime:
    year, month = map(int, period.split("-"))
    return datetime(year + month // 12, month % 12 + 1, 2, tzinfo=UTC)
