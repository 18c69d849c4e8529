"""The charts of a round's page: branch load vs capacity, distances, and leads on a plain map.

Everything is aggregated or sampled in SQL, so a round of a million leads draws as fast as a
round of a hundred: bucket counts for the histogram, at most `MAP_LEADS` leads on the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.rounds.schemas import RoundRead
from app.tables import Branch, Lead, RoundAssignment
from app.web.charts import (
    Histogram,
    LoadBars,
    Plot,
    Point,
    china_plot,
    histogram,
    load_bars,
    nice_step,
)

LOAD_ROWS = 60  # branches in the load chart (the busiest first); the rest are counted
MAP_LEADS = 2_000  # leads drawn on the map at most (a sample keeps the page light)
PALETTE = 10  # colour classes pal-0 .. pal-9 in app.css
HISTOGRAM_BINS = 10


@dataclass(frozen=True, slots=True)
class RoundCharts:
    loads: LoadBars
    load_shown: int
    load_total: int
    distances: Histogram
    map: Plot
    map_leads: int  # drawn
    map_located: int  # located leads in the round (the sample is drawn from these)


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    code: str
    name: str
    lat: float
    lon: float


def _sites(session: Session) -> dict[str, Site]:
    columns = (Branch.id, Branch.code, Branch.name, Branch.lat, Branch.lon)
    rows = session.execute(sa_select(*(col(c) for c in columns))).all()
    return {code: Site(bid or 0, code, name, lat, lon) for bid, code, name, lat, lon in rows}


def _load_chart(rnd: RoundRead, sites: dict[str, Site]) -> tuple[LoadBars, int]:
    entries = [b for b in rnd.report.get("branches", []) if b.get("capacity") or b.get("load")]
    entries.sort(key=lambda b: (-int(b.get("load") or 0), str(b["code"])))
    items = [
        (str(b["code"]), _site_name(sites, str(b["code"])), int(b.get("load") or 0),
         int(b.get("capacity") or 0))
        for b in entries[:LOAD_ROWS]
    ]  # fmt: skip
    return load_bars(items), len(entries)


def _site_name(sites: dict[str, Site], code: str) -> str:
    site = sites.get(code)
    return f"{code} {site.name}" if site else code


def distance_edges(p95_km: float | None, max_km: float | None) -> list[float]:
    """Upper edges of the histogram's bins: round steps up to about the 95th percentile."""
    top = p95_km or max_km
    if not top:
        return []
    step = nice_step(top, HISTOGRAM_BINS)
    count = max(1, min(math.ceil(top / step), HISTOGRAM_BINS + 2))
    return [round(step * (i + 1), 6) for i in range(count)]


def _bin_label(i: int, edges: list[float]) -> str:
    if i == len(edges):
        return f"≥{edges[-1]:g}"
    return f"{0 if i == 0 else edges[i - 1]:g}–{edges[i]:g}"


def _distance_chart(session: Session, rnd: RoundRead) -> Histogram:
    figures = rnd.report.get("distance") or {}
    edges = distance_edges(figures.get("p95_km"), figures.get("max_km"))
    if not edges:
        return histogram([], [], [])
    distance = col(RoundAssignment.distance_km)
    bucket = case(*((distance < e, i) for i, e in enumerate(edges)), else_=len(edges))
    inner = (
        select(bucket.label("bucket"))
        .where(col(RoundAssignment.round_id) == rnd.id)
        .where(col(RoundAssignment.branch_id).is_not(None), distance.is_not(None))
        .subquery()
    )
    counts = [0] * (len(edges) + 1)
    for index, n in session.exec(select(inner.c.bucket, func.count()).group_by(inner.c.bucket)):
        counts[int(index)] = int(n)
    labels = [_bin_label(i, edges) for i in range(len(counts))]
    return histogram(counts, labels, ["mid"] * len(edges) + ["high"])


def _located(session: Session, round_id: int) -> int:
    query = (
        select(func.count())
        .select_from(RoundAssignment)
        .join(Lead, col(Lead.id) == col(RoundAssignment.lead_id))
        .where(col(RoundAssignment.round_id) == round_id, col(Lead.lat).is_not(None))
    )
    return int(session.exec(query).one())


LeadRow = tuple[int, float, float, int | None, float | None]  # id, lat, lon, branch, km


def _lead_sample(session: Session, round_id: int, located: int) -> list[LeadRow]:
    """Every k-th lead by id (deterministic, spread over the whole pool), at most MAP_LEADS."""
    step = max(1, math.ceil(located / MAP_LEADS))
    query = (
        sa_select(col(RoundAssignment.lead_id), col(Lead.lat), col(Lead.lon),
                  col(RoundAssignment.branch_id), col(RoundAssignment.distance_km))
        .join(Lead, col(Lead.id) == col(RoundAssignment.lead_id))
        .where(col(RoundAssignment.round_id) == round_id, col(Lead.lat).is_not(None))
        .where(col(Lead.lon).is_not(None))
    )  # fmt: skip
    if step > 1:
        query = query.where(col(RoundAssignment.lead_id) % step == 0)
    rows = session.execute(query.order_by(col(RoundAssignment.lead_id)).limit(MAP_LEADS)).all()
    return [(lid, float(lat), float(lon), bid, d) for lid, lat, lon, bid, d in rows]


def colour_sites(sites: list[Site], *, neighbours: int = 6) -> dict[int, int]:
    """A palette index per branch, avoiding the colours of its nearest already-coloured
    neighbours, so adjacent service areas tell apart even with ten colours."""
    if not sites:
        return {}
    xy = np.array([(s.lon * math.cos(math.radians(s.lat)), s.lat) for s in sites])
    order = np.lexsort((xy[:, 0], xy[:, 1]))
    colours: dict[int, int] = {}
    done: list[int] = []
    for k in order.tolist():
        near: set[int] = set()
        if done:
            near = {colours[sites[done[j]].id] for j in _nearest(xy[done], xy[k], neighbours)}
        free = [c for c in range(PALETTE) if c not in near]
        colours[sites[k].id] = free[0] if free else len(done) % PALETTE
        done.append(k)
    return colours


def _nearest(points: np.ndarray, point: np.ndarray, k: int) -> list[int]:
    d = np.hypot(*(points - point).T)
    nearest: list[int] = (np.argpartition(d, k)[:k] if len(d) > k else d.argsort()).tolist()
    return nearest


def _lead_point(row: LeadRow, colours: dict[int, int], code_of: dict[int, str]) -> Point:
    lead_id, lat, lon, branch_id, distance = row
    if branch_id is None or branch_id not in colours:
        return Point(lat, lon, "pal-none", f"#{lead_id} 未分配")
    title = f"#{lead_id} → {code_of[branch_id]}" + (f" {distance:.1f} km" if distance else "")
    return Point(lat, lon, f"pal-{colours[branch_id]}", title)


def _site_point(site: Site, colour: int, load: int) -> Point:
    title = f"{site.code} {site.name}（本轮 {load} 条）"
    return Point(site.lat, site.lon, f"pal-{colour}", title, kind="site")


def _map_chart(
    session: Session, rnd: RoundRead, sites: dict[str, Site], located: int
) -> tuple[Plot, int]:
    sample = _lead_sample(session, rnd.id, located)
    used = {bid for _, _, _, bid, _ in sample if bid is not None}
    loads = {str(b["code"]): int(b.get("load") or 0) for b in rnd.report.get("branches", [])}
    serving = [s for s in sites.values() if loads.get(s.code) or s.id in used]
    colours = colour_sites(serving)
    code_of = {s.id: s.code for s in serving}
    points = [_lead_point(row, colours, code_of) for row in sample]
    points += [_site_point(s, colours[s.id], loads.get(s.code, 0)) for s in serving]
    return china_plot(points, width=720), len(sample)


def round_charts(session: Session, rnd: RoundRead) -> RoundCharts:
    sites = _sites(session)
    loads, load_total = _load_chart(rnd, sites)
    located = _located(session, rnd.id)
    plot, drawn = _map_chart(session, rnd, sites, located)
    return RoundCharts(
        loads=loads, load_shown=len(loads.rows), load_total=load_total,
        distances=_distance_chart(session, rnd), map=plot, map_leads=drawn, map_located=located,
    )  # fmt: skip
