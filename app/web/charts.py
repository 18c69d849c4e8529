"""Charts drawn on the server as SVG geometry: no chart library, nothing to download.

Each function turns data into shapes in a fixed viewBox; the templates only draw them. The
round pages (load vs capacity, distance histogram, leads-and-branches plot) reuse these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.web.china_outline import INSET, MAINLAND, Frame, outline_paths


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int
    tone: str


@dataclass(frozen=True, slots=True)
class Histogram:
    width: int
    height: int
    bars: list[Bar]
    peak: int


def histogram(
    counts: Sequence[int],
    labels: Sequence[str],
    tones: Sequence[str],
    *,
    width: int = 420,
    height: int = 180,
    axis: int = 22,
) -> Histogram:
    """Bars of `counts`, scaled to the tallest; `axis` pixels at the bottom carry the labels."""
    peak = max(counts, default=0)
    slot = width / max(len(counts), 1)
    usable = height - axis - 14  # room above the tallest bar for its count
    bars = []
    for i, (count, label, tone) in enumerate(zip(counts, labels, tones, strict=True)):
        h = usable * count / peak if peak else 0.0
        x, y = i * slot + slot * 0.12, height - axis - h
        bars.append(Bar(round(x, 1), round(y, 1), round(slot * 0.76, 1), round(h, 1), label,
                        count, tone))  # fmt: skip
    return Histogram(width=width, height=height, bars=bars, peak=peak)


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    tone: str
    title: str
    kind: str = "dot"  # "dot" (a lead) or "site" (a branch, drawn as a square)
    r: float = 0.0  # the radius of a sized dot (a cluster of leads); 0: the template's default


@dataclass(frozen=True, slots=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float
    tone: str
    width: float
    title: str


@dataclass(frozen=True, slots=True)
class Inset:
    x: float
    y: float
    width: float
    height: float
    islands: list[str]  # SVG path data


@dataclass(frozen=True, slots=True)
class Plot:
    width: int
    height: int
    dots: list[Dot]
    provinces: tuple[str, ...] = ()  # SVG path data of the outline under the dots, if any
    inset: Inset | None = None
    segments: tuple[Segment, ...] = ()  # lines under the dots (cluster -> branch)


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float
    tone: str
    title: str
    kind: str = "dot"
    r: float = 0.0


@dataclass(frozen=True, slots=True)
class Link:
    """A line between two places, e.g. from a cluster of leads to the branch they went to."""

    start: tuple[float, float]  # lat, lon
    end: tuple[float, float]
    tone: str
    width: float
    title: str


def geo_plot(
    points: Sequence[Point], *, width: int = 560, max_height: int = 420, pad: int = 14
) -> Plot:
    """Points by longitude and latitude (equirectangular, x shrunk by cos of the mean latitude).

    No base map and no borders: the shape of the dots is the map.
    """
    if not points:
        return Plot(width=width, height=max_height // 2, dots=[])
    lats, lons = [p.lat for p in points], [p.lon for p in points]
    south, west = min(lats), min(lons)
    squeeze = math.cos(math.radians((south + max(lats)) / 2))
    span_x = max((max(lons) - west) * squeeze, 1e-6)
    span_y = max(max(lats) - south, 1e-6)
    scale = min((width - 2 * pad) / span_x, (max_height - 2 * pad) / span_y)
    height = round(span_y * scale) + 2 * pad
    dots = [
        Dot(
            x=round(pad + (p.lon - west) * squeeze * scale, 1),
            y=round(height - pad - (p.lat - south) * scale, 1),
            tone=p.tone,
            title=p.title,
            kind=p.kind,
        )
        for p in points
    ]
    return Plot(width=width, height=height, dots=dots)


def china_plot(
    points: Sequence[Point], *, links: Sequence[Link] = (), width: int = 560, pad: int = 10
) -> Plot:
    """Points (and lines between places) on an outline of China's provinces
    (app/web/china_outline.py), the frame fixed to the mainland so every map of the product
    reads the same; the South China Sea islands in an inset at the bottom right."""
    west, east, south, north = MAINLAND
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = (width - 2 * pad) / ((east - west) * squeeze)
    inner = (north - south) * scale
    main = Frame(west=west, south=south, squeeze=squeeze, scale=scale, height=inner,
                 left=pad, top=pad)  # fmt: skip
    inset = _inset_frame(width=width, height=inner + 2 * pad, pad=pad)
    provinces, islands = outline_paths(main, inset)
    height = inner + 2 * pad

    def xy(lat: float, lon: float) -> tuple[float, float]:
        x, y = min(max(main.x(lon), 0), width), min(max(main.y(lat), 0), height)
        return round(x, 1), round(y, 1)

    dots = [Dot(*xy(p.lat, p.lon), tone=p.tone, title=p.title, kind=p.kind, r=p.r)
            for p in points]  # fmt: skip
    segments = tuple(Segment(*xy(*k.start), *xy(*k.end), tone=k.tone, width=k.width,
                             title=k.title) for k in links)  # fmt: skip
    box_width = (INSET[1] - INSET[0]) * inset.squeeze * inset.scale
    box = Inset(x=inset.left, y=inset.top, width=box_width, height=inset.height, islands=islands)
    return Plot(width=width, height=round(height), dots=dots, provinces=tuple(provinces),
                inset=box, segments=segments)  # fmt: skip


def _inset_frame(*, width: float, height: float, pad: int) -> Frame:
    west, east, south, north = INSET
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = width * 0.12 / ((east - west) * squeeze)
    box_w, box_h = (east - west) * squeeze * scale, (north - south) * scale
    return Frame(west=west, south=south, squeeze=squeeze, scale=scale, height=box_h,
                 left=width - pad - box_w, top=height - pad - box_h)  # fmt: skip


# Upper bound of each load band and its colour class (as on the branch pages).
LOAD_SHARES = ((0.5, "low"), (0.85, "mid"), (1.0, "high"), (math.inf, "full"))


@dataclass(frozen=True, slots=True)
class LoadRow:
    y: float
    label: str
    title: str
    capacity_width: float  # the track: this branch's capacity on the common scale
    load_width: float
    text: str
    tone: str


@dataclass(frozen=True, slots=True)
class LoadBars:
    width: int
    height: int
    label_width: int
    row_height: int
    rows: list[LoadRow]


def load_bars(
    items: Sequence[tuple[str, str, int, int]],
    *,
    width: int = 420,
    row_height: int = 20,
    label_width: int = 84,
    text_width: int = 56,
) -> LoadBars:
    """Horizontal bars of (label, title, load, capacity): one scale, so long tracks are big
    branches; the filled part is the load, coloured by how full the branch is."""
    span = width - label_width - text_width
    scale = span / max((max(cap, load) for _, _, load, cap in items), default=1) if items else 0
    rows = []
    for i, (label, title, load, capacity) in enumerate(items):
        share = load / capacity if capacity else 1.0
        tone = next(t for limit, t in LOAD_SHARES if share < limit)
        rows.append(LoadRow(
            y=i * row_height, label=label, title=title,
            capacity_width=round(max(capacity, 0) * scale, 1), load_width=round(load * scale, 1),
            text=f"{load}/{capacity}", tone=tone,
        ))  # fmt: skip
    return LoadBars(width=width, height=max(len(rows), 1) * row_height, label_width=label_width,
                    row_height=row_height, rows=rows)  # fmt: skip


def nice_step(span: float, bins: int = 10) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving about `bins` bins over `span`."""
    raw = max(span, 1e-9) / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * 0.999))
