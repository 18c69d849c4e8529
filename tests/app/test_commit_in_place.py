"""A round commit rewrites every pooled lead on its own page (PostgreSQL, migration 0036).

A lead row that moves to another page adds an entry to each of lead's four indexes; at 1.3M
leads one in eleven did (fillfactor 50), and the commit's update took seconds longer. The
pages must keep room for the assigned version of every row, whatever the import's rows look
like: the widest and the narrowest the importer writes, packed as a bulk import packs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.leads.importer import import_leads
from app.rounds.service import RoundParams, run_round
from tests.app.factories import add_user, load_branches, write

BRANCHES = """code,name,lat,lon,capacity,tiers,region_code,active
SZ-FT,深圳福田营业部,22.541,114.055,2000,,440304,true
"""
LEADS_PER_SHAPE = 400  # ~14-33 rows a page: several full pages of each shape


def _full(k: int) -> str:
    # Name, mobile, region and acquisition time: the longest values a channel sends in practice.
    located = "22.55,114.06,440304,2026-11-30T08:00:00+08:00"
    return f"F{k:07d},partner_alipay,欧阳建国,1380013{k:04d},affluent,{located}"


def _narrow(k: int) -> str:
    return f"N{k:07d},app,,,mass,22.55,114.06,,"


@pytest.mark.parametrize("row", [_full, _narrow], ids=["widest", "narrowest"])
def test_every_committed_lead_stays_on_its_page(
    engine: Engine, settings: Settings, tmp_path: Path, row: object
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("pages and fillfactor are PostgreSQL's")
    load_branches(engine, tmp_path, BRANCHES)
    add_user(engine, "hq1", "hq")
    header = "external_id,channel,name,mobile,tier,lat,lon,region_code,acquired_at\n"
    lines = "\n".join(row(k) for k in range(LEADS_PER_SHAPE))  # type: ignore[operator]
    with session_scope(engine) as session:
        import_leads(
            session,
            path=write(tmp_path, "leads.csv", header + lines + "\n"),
            actor="test",
            secret=settings.customer_key,
            channel="app",
        )
    before = _pages(engine)
    run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=True)
    after = _pages(engine)
    with session_scope(engine) as session:
        assigned = session.execute(text("SELECT count(*) FROM lead WHERE status = 'assigned'"))
        assert assigned.scalar_one() == LEADS_PER_SHAPE
    assert len(set(before.values())) > 3  # several pages, each filled by the import
    moved = {lead: (before[lead], page) for lead, page in after.items() if page != before[lead]}
    assert moved == {}


def _pages(engine: Engine) -> dict[int, int]:
    """Each lead's heap page (the block of its current row version)."""
    with session_scope(engine) as session:
        rows = session.execute(text("SELECT id, (ctid::text::point)[0]::int FROM lead"))
        return {int(lead): int(page) for lead, page in rows}
