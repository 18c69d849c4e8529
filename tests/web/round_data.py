"""Leads for the round pages, imported through the real importers (no rows written by hand)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from sqlalchemy.engine import Engine

from allocation.locality import prefecture_cities
from app.branches.importer import import_branches
from app.config import Settings
from app.db import session_scope
from app.demo import branch_rows, lead_rows
from app.leads.importer import import_leads

# Around Shenzhen Futian and Beijing Chaoyang (the standard branches of tests/app/factories.py);
# an HNW lead near Beijing must travel to Shenzhen (BJ-CY serves mass|affluent only), and one
# lead has nothing to locate it.
LEADS = """external_id,name,lat,lon,tier,region_code
SZ-01,张伟,22.55,114.06,mass,440304
SZ-02,王芳,22.53,114.03,mass,440304
SZ-03,李娜,22.56,114.10,affluent,440304
SZ-04,刘洋,22.60,114.02,mass,440306
SZ-05,陈静,22.52,113.95,mass,440305
SZ-06,杨磊,22.58,114.12,mass,440303
BJ-01,赵敏,39.93,116.45,affluent,110105
BJ-02,黄强,39.91,116.47,mass,110105
BJ-03,周杰,39.95,116.40,mass,110105
BJ-04,吴刚,39.88,116.43,mass,110105
BJ-HNW,司马懿,39.90,116.40,hnw,110105
NOWHERE,诸葛亮,,,mass,
"""


def import_pool(engine: Engine, settings: Settings, folder: Path, content: str = LEADS) -> None:
    path = folder / "round-leads.csv"
    path.write_text(content, encoding="utf-8")
    with session_scope(engine) as session:
        import_leads(session, path=path, actor="test", secret=settings.customer_key, channel="app")


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def import_demo_pool(
    engine: Engine, settings: Settings, folder: Path, *, leads: int = 300, branches: int = 40
) -> None:
    """The demo's branches in real cities and its leads (not yet allocated: no round run)."""
    rng, cities = random.Random(7), prefecture_cities()
    branch_csv = _write(
        folder / "demo-branches.csv",
        ["code", "name", "lat", "lon", "capacity", "tiers", "region_code"],
        list(branch_rows(cities, count=branches, total_leads=leads, rng=rng)),
    )
    header = ["external_id", "channel", "name", "mobile", "tier", "lat", "lon", "region_code",
              "acquired_at"]  # fmt: skip
    lead_csv = _write(
        folder / "demo-leads.csv", header, list(lead_rows(cities, count=leads, rng=rng))
    )
    with session_scope(engine) as session:
        import_branches(session, path=branch_csv, actor="test")
        import_leads(session, path=lead_csv, actor="test", secret=settings.customer_key)
