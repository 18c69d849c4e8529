"""Leads owned by the standard branches, and revenue files for the finance pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.tables import Lead, Ownership
from app.tables.base import utcnow
from ledger.periods import SHANGHAI
from tests.web.helpers import add_lead

HEADER = "event_id,external_id,type,amount,occurred_at,channel\n"
# A1 is owned by SZ-FT and B1 by BJ-CY all year; C1 never had an owner (suspense).
OWNERS = (("A1", "SZ-FT"), ("B1", "BJ-CY"), ("C1", None))
OCTOBER = HEADER + (
    "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"
    "E2,B1,product_fee,20.00,2026-10-06T10:00:00,app\n"
    "E3,C1,other,3.25,2026-10-07T10:00:00,app\n"
)
BAD = HEADER + (
    "E1,A1,brokerage_commission,1.001,2026-10-05T10:00:00,app\n"
    "E2,ZZ,product_fee,20.00,2026-10-06T10:00:00,app\n"
)


def own_leads(engine: Engine, branch_ids: dict[str, int]) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    for external_id, code in OWNERS:
        branch_id = branch_ids[code] if code else None
        lead_id = add_lead(engine, external_id=external_id, branch_id=branch_id)
        if branch_id is None:
            continue
        with session_scope(engine) as session:
            customer_id = session.get_one(Lead, lead_id).customer_id
            session.add(Ownership(lead_id=lead_id, customer_id=customer_id, branch_id=branch_id,
                                  valid_from=since, opened_by="round"))  # fmt: skip


def this_month() -> str:
    """Revenue that happened a minute ago: credited in the current month."""
    stamp = (utcnow() - timedelta(minutes=1)).astimezone(SHANGHAI).replace(microsecond=0)
    when = stamp.replace(tzinfo=None).isoformat()
    return HEADER + (
        f"N1,A1,brokerage_commission,500.00,{when},app\nN2,B1,advisory_fee,77.77,{when},app\n"
    )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
