"""Leads at every stage of the funnel, in two cohort weeks, with imported revenue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.auth import Principal
from app.db import session_scope
from app.leads.customers import solo_customer
from app.tables import Lead
from tests.app.ledger_world import HEADER, import_csv

HQ = Principal(user_id=1, username="hq1", role="hq", branch_id=None, branch_code=None)
# Shanghai Monday 2026-11-09 00:00 is 2026-11-08 16:00 UTC.
WEEK_1 = datetime(2026, 11, 9, 1, 0, tzinfo=UTC)  # Monday 09:00 Shanghai
WEEK_2 = datetime(2026, 11, 15, 16, 30, tzinfo=UTC)  # Monday 11-16 00:30 Shanghai
CUTOFF = datetime(2026, 11, 17, 0, 0, tzinfo=UTC)  # assigned before this and not contacted: overdue


def add_funnel_lead(engine: Engine, external_id: str, **fields: object) -> int:
    values: dict[str, object] = {"channel": "app", "tier": "mass", "status": "new",
                                 "acquired_at": WEEK_1} | fields  # fmt: skip
    with session_scope(engine) as session:
        own = solo_customer(session, channel=str(values["channel"]), external_id=external_id)
        lead = Lead(external_id=external_id, **({"customer_id": own} | values))  # type: ignore[arg-type]
        session.add(lead)
        session.flush()
        assert lead.id is not None
        return lead.id


@pytest.fixture
def funnel_world(engine: Engine, branch_ids: dict[str, int], tmp_path: Path) -> dict[str, int]:
    sz, bj = branch_ids["SZ-FT"], branch_ids["BJ-CY"]
    hour = timedelta(hours=1)
    add_funnel_lead(engine, "A1")  # still in the pool
    add_funnel_lead(engine, "A2", status="assigned", branch_id=sz, assigned_at=WEEK_1)  # overdue
    add_funnel_lead(engine, "A3", status="contacted", branch_id=sz, assigned_at=WEEK_1,
          contacted_at=WEEK_1 + 2 * hour)  # fmt: skip
    add_funnel_lead(engine, "A4", status="converted", branch_id=sz, assigned_at=WEEK_1,
          contacted_at=WEEK_1 + 30 * hour)  # fmt: skip
    add_funnel_lead(engine, "W1", channel="wechat", tier="hnw", status="converted", branch_id=bj,
          assigned_at=WEEK_1, contacted_at=WEEK_1 + 4 * hour)  # fmt: skip
    add_funnel_lead(
        engine,
        "W2",
        channel="wechat",
        status="assigned",
        branch_id=bj,
        acquired_at=WEEK_2,
        assigned_at=CUTOFF + hour,
    )  # fmt: skip  (assigned after the cutoff: not overdue)
    add_funnel_lead(
        engine, "OLD", acquired_at=datetime(2026, 11, 8, 15, 59, tzinfo=UTC)
    )  # week before
    import_csv(engine, tmp_path, HEADER
               + "E1,A4,brokerage_commission,100.50,2026-11-12T02:00:00Z,app\n"
               + "E2,A4,brokerage_commission,20.00,2026-11-13T02:00:00Z,app\n"
               + "E3,W1,brokerage_commission,7.25,2026-11-13T02:00:00Z,wechat\n")  # fmt: skip
    return branch_ids
