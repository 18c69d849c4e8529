"""Headquarters read models: branches with their open load, and the lead pool in figures.

Only HQ and auditors reach these (the routes check the role); both see every branch and lead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from allocation.locality.divisions import city_code_of, division_name
from app.ownership.holdings import branch_loads
from app.tables import Branch, Lead
from app.web.charts import Histogram, Plot, Point, china_plot, histogram

POOL_STATUSES = ("new", "returned", "reclaimed")  # waiting for the next round
UNRESOLVED_SAMPLE = 20
BRANCH_SORTS = ("code", "load")


@dataclass(frozen=True, slots=True)
class BranchRow:
    code: str
    name: str
    place: str
    lat: float
    lon: float
    capacity: int
    tiers: str
    active: bool
    open_load: int

    @property
    def utilisation(self) -> float | None:
        return self.open_load / self.capacity if self.capacity else None

    @property
    def tone(self) -> str:
        """Colour class by load: off (inactive), low, mid, high (>= 85 %), full (>= 100 %)."""
        if not self.active:
            return "off"
        share = self.utilisation if self.utilisation is not None else 1.0
        return next(tone for limit, tone in LOAD_TONES if share < limit)


# Upper bounds of each load band: the histogram's buckets and the plot's colours.
LOAD_TONES = ((0.5, "low"), (0.85, "mid"), (1.0, "high"), (math.inf, "full"))
LOAD_BUCKETS = ((0.2, "<20%"), (0.4, "20–40%"), (0.6, "40–60%"), (0.8, "60–80%"),
                (1.0, "80–100%"), (math.inf, "满载"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class LoadCharts:
    histogram: Histogram  # how many active branches sit in each load band
    plot: Plot  # every branch where it is, coloured by load


@dataclass(frozen=True, slots=True)
class BranchTable:
    rows: list[BranchRow]
    search: str
    sort: str
    active_count: int
    active_capacity: int
    open_load: int

    @property
    def charts(self) -> LoadCharts:
        active = [r for r in self.rows if r.active]
        counts = [0] * len(LOAD_BUCKETS)
        for row in active:
            share = row.utilisation if row.utilisation is not None else 1.0
            counts[next(i for i, (limit, _) in enumerate(LOAD_BUCKETS) if share < limit)] += 1
        tones = ["low", "low", "mid", "mid", "high", "full"]
        points = [Point(r.lat, r.lon, r.tone, f"{r.code} {r.name} {r.open_load}/{r.capacity}")
                  for r in self.rows]  # fmt: skip
        return LoadCharts(
            histogram=histogram(counts, [label for _, label in LOAD_BUCKETS], tones),
            plot=china_plot(points),
        )


def _place(region_code: str | None) -> str:
    """'440304' -> '深圳市 福田区' (city and district), from the division data set."""
    if not region_code:
        return "—"
    city = division_name(city_code_of(region_code))
    own = division_name(region_code)
    names = [n for n in (city, own) if n]
    return " ".join(dict.fromkeys(names)) or region_code


def open_loads(session: Session) -> dict[int, int]:
    """Customers in follow-up per branch: the count capacity limits (app.ownership.holdings)."""
    return branch_loads(session)


def branch_table(session: Session, *, search: str = "", sort: str = "code") -> BranchTable:
    loads = open_loads(session)
    query = select(Branch).order_by(col(Branch.code))
    if search:
        pattern = f"%{search}%"
        query = query.where(or_(col(Branch.code).ilike(pattern), col(Branch.name).ilike(pattern)))
    branches = session.exec(query).all()
    rows = [
        BranchRow(
            code=b.code, name=b.name, place=_place(b.region_code), lat=b.lat, lon=b.lon,
            capacity=b.capacity,
            tiers=b.tiers, active=b.active, open_load=loads.get(b.id or 0, 0),
        )
        for b in branches
    ]  # fmt: skip
    if sort == "load":
        rows.sort(key=lambda r: (-(r.utilisation or 0.0), r.code))
    active = [r for r in rows if r.active]
    return BranchTable(
        rows=rows, search=search, sort=sort, active_count=len(active),
        active_capacity=sum(r.capacity for r in active), open_load=sum(r.open_load for r in rows),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class UnresolvedLead:
    id: int
    external_id: str
    channel: str
    name: str | None
    region_code: str | None
    acquired_at: datetime | None


@dataclass(frozen=True, slots=True)
class PoolSummary:
    by_status: dict[str, int]
    by_channel: dict[str, dict[str, int]]  # channel -> status -> count
    by_tier: dict[str, dict[str, int]]  # tier -> status -> count
    unresolved_by_channel: dict[str, int]
    unresolved_sample: list[UnresolvedLead]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def pool(self) -> int:
        return sum(self.by_status.get(s, 0) for s in POOL_STATUSES)

    @property
    def unresolved(self) -> int:
        return sum(self.unresolved_by_channel.values())


def _crosstab(session: Session, column: Any) -> dict[str, dict[str, int]]:
    query = select(column, Lead.status, func.count()).group_by(column, col(Lead.status))
    table: dict[str, dict[str, int]] = {}
    for key, status, n in session.exec(query):
        table.setdefault(str(key), {})[status] = int(n)
    return dict(sorted(table.items()))


def _unresolved() -> Any:
    """Pool leads with no resolved point: the allocator will leave them out (`no_location`)."""
    return col(Lead.status).in_(POOL_STATUSES) & col(Lead.lat).is_(None)


def pool_summary(session: Session) -> PoolSummary:
    by_channel = _crosstab(session, col(Lead.channel))
    by_status: dict[str, int] = {}
    for statuses in by_channel.values():
        for status, n in statuses.items():
            by_status[status] = by_status.get(status, 0) + n
    unresolved = select(Lead.channel, func.count()).where(_unresolved()).group_by(Lead.channel)
    sample = select(Lead).where(_unresolved()).order_by(col(Lead.id)).limit(UNRESOLVED_SAMPLE)
    return PoolSummary(
        by_status=by_status,
        by_channel=by_channel,
        by_tier=_crosstab(session, col(Lead.tier)),
        unresolved_by_channel={c: int(n) for c, n in session.exec(unresolved)},
        unresolved_sample=[
            UnresolvedLead(
                id=lead.id or 0, external_id=lead.external_id, channel=lead.channel,
                name=lead.name, region_code=lead.region_code, acquired_at=lead.acquired_at,
            )
            for lead in session.exec(sample)
        ],
    )  # fmt: skip
