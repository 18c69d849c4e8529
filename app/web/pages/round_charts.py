"""The charts of a round's page: branch load vs capacity, distances, and where leads went.

Everything is aggregated in SQL, so a round of a million leads draws as fast as a round of a
hundred: bucket counts for the histogram, leads per (grid cell, branch) for the map.
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
    Link,
    LoadBars,
    Plot,
    Point,
    china_plot,
    histogram,
    load_bars,
    nice_step,
)

LOAD_ROWS = 60  # branches in the load chart (the busiest first); the rest are counted
PALETTE = 10  # colour classes pal-0 .. pal-9 in app.css
HISTOGRAM_BINS = 10


@dataclass(frozen=True, slots=True)
class RoundCharts:
    loads: LoadBars
    load_shown: int
    load_total: int
    distances: Histogram
    map: Plot
    map_leads: int  # located leads in the clusters drawn
    map_located: int  # located leads in the round
    map_limit: int  # clusters drawn at most


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


CELL_DEG = 0.5  # leads are clustered on a grid of this many degrees (about 50 km) per branch
MAP_FLOWS = 600  # cluster -> branch lines drawn at most (the largest clusters first)


@dataclass(frozen=True, slots=True)
class Cluster:
    """Located leads of one grid cell that went to one branch (None: unassigned)."""

    branch_id: int | None
    lat: float  # the leads' mean position
    lon: float
    leads: int


def _clusters(session: Session, round_id: int) -> tuple[list[Cluster], int]:
    """The `MAP_FLOWS` largest groups of located leads per (grid cell, branch), and how many
    located leads the round has in all: one aggregate in SQL, however large the round."""
    lat, lon = col(Lead.lat), col(Lead.lon)
    cell = (func.round(lat / CELL_DEG), func.round(lon / CELL_DEG))
    branch = col(RoundAssignment.branch_id)
    leads = func.count()
    query = (
        sa_select(branch, func.avg(lat), func.avg(lon), leads, func.sum(leads).over())
        .join(Lead, col(Lead.id) == col(RoundAssignment.lead_id))
        .where(col(RoundAssignment.round_id) == round_id, lat.is_not(None), lon.is_not(None))
        .group_by(branch, *cell)
        .order_by(leads.desc(), branch, *cell)
        .limit(MAP_FLOWS)
    )
    rows = session.execute(query).all()
    located = int(rows[0][4]) if rows else 0
    return [Cluster(b, float(la), float(lo), int(n)) for b, la, lo, n, _ in rows], located


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


def _site_point(site: Site, colour: int, load: int) -> Point:
    title = f"{site.code} {site.name}（本轮 {load} 条）"
    return Point(site.lat, site.lon, f"pal-{colour}", title, kind="site")


def _map_chart(session: Session, rnd: RoundRead, sites: dict[str, Site]) -> tuple[Plot, int, int]:
    """Lines from clusters of leads to the branch they went to, coloured by branch (issue
    17.7: with 300 branches, ten colours alone cannot tell service areas apart; a line can)."""
    shown, located = _clusters(session, rnd.id)
    used = {c.branch_id for c in shown if c.branch_id is not None}
    loads = {str(b["code"]): int(b.get("load") or 0) for b in rnd.report.get("branches", [])}
    serving = [s for s in sites.values() if loads.get(s.code) or s.id in used]
    colours = colour_sites(serving)
    by_id = {s.id: s for s in serving}
    biggest = max((c.leads for c in shown), default=1)
    links = [_link(c, by_id[c.branch_id], colours, biggest) for c in shown
             if c.branch_id in by_id]  # fmt: skip
    points = [_cluster_point(c, by_id, colours, biggest) for c in shown]
    points += [_site_point(s, colours[s.id], loads.get(s.code, 0)) for s in serving]
    plot = china_plot(points, links=links, width=720)
    return plot, sum(c.leads for c in shown), located


def _share(leads: int, biggest: int) -> float:
    """Line widths and dot areas grow with the square root, so small clusters stay visible."""
    return math.sqrt(leads / biggest)


def _link(c: Cluster, site: Site, colours: dict[int, int], biggest: int) -> Link:
    width = round(0.6 + 2.6 * _share(c.leads, biggest), 2)
    title = f"{c.leads} 条线索 → {site.code} {site.name}"
    return Link((c.lat, c.lon), (site.lat, site.lon), f"pal-{colours[site.id]}", width, title)


def _cluster_point(
    c: Cluster, by_id: dict[int, Site], colours: dict[int, int], biggest: int
) -> Point:
    r = round(1.6 + 3.4 * _share(c.leads, biggest), 2)
    site = by_id.get(c.branch_id) if c.branch_id is not None else None
    if site is None:
        return Point(c.lat, c.lon, "pal-none", f"{c.leads} 条线索未分配", r=r)
    title = f"{c.leads} 条线索 → {site.code} {site.name}"
    return Point(c.lat, c.lon, f"pal-{colours[site.id]}", title, r=r)


def round_charts(session: Session, rnd: RoundRead) -> RoundCharts:
    sites = _sites(session)
    loads, load_total = _load_chart(rnd, sites)
    plot, drawn, located = _map_chart(session, rnd, sites)
    return RoundCharts(
        loads=loads, load_shown=len(loads.rows), load_total=load_total,
        distances=_distance_chart(session, rnd), map=plot, map_leads=drawn, map_located=located,
        map_limit=MAP_FLOWS,
    )  # fmt: skip
