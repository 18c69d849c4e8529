"""Resolve a lead's location from whichever fields it has, in the order of contract §4.1."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from allocation.locality.address import address_division
from allocation.locality.divisions import division_centroid
from allocation.locality.id_card import id_card_region_code
from allocation.locality.mobile import mobile_home_division

LocationSource = Literal["coordinates", "region_code", "mobile_prefix", "id_card", "address"]

_STATISTICAL_CODE_LENGTH = 12  # NBS 12-digit codes: the first six are the GB/T 2260 county


@dataclass(frozen=True, slots=True)
class ResolvedLocation:
    """A point (coordinates as given, or a GCJ-02 division centroid) and where it came from."""

    lat: float
    lon: float
    source: LocationSource
    region_code: str | None  # 6-digit division code of the place found, when known


def coordinates_are_valid(lat: float | None, lon: float | None) -> bool:
    """Both given, finite and within [-90, 90] x [-180, 180]."""
    if lat is None or lon is None:
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def normalise_region_code(raw: str) -> str | None:
    """'440304' or a 12-digit statistical code '440304000000' -> '440304'; None otherwise."""
    code = raw.strip()
    if len(code) == _STATISTICAL_CODE_LENGTH:
        code = code[:6]
    return code if len(code) == 6 and code.isascii() and code.isdigit() else None


def _at_division(code: str | None, source: LocationSource) -> ResolvedLocation | None:
    if code is None:
        return None
    centroid = division_centroid(code)
    if centroid is None:
        return None
    return ResolvedLocation(lat=centroid[0], lon=centroid[1], source=source, region_code=code)


def _from_region_code(raw: str) -> ResolvedLocation | None:
    return _at_division(normalise_region_code(raw), "region_code")


def resolve_location(
    *,
    lat: float | None = None,
    lon: float | None = None,
    region_code: str | None = None,
    mobile: str | None = None,
    id_card: str | None = None,
    address: str | None = None,
) -> ResolvedLocation | None:
    """First location that resolves: coordinates, region code, mobile, ID card, address.

    An invalid or unknown value never raises; resolution moves on to the next field.
    Returns None when no field resolves (the lead is then left unassigned, `no_location`).
    """
    if lat is not None and lon is not None and coordinates_are_valid(lat, lon):
        return ResolvedLocation(lat=lat, lon=lon, source="coordinates", region_code=None)
    found: ResolvedLocation | None = None
    if region_code:
        found = _from_region_code(region_code)
    if found is None and mobile:
        found = _at_division(mobile_home_division(mobile), "mobile_prefix")
    if found is None and id_card:
        found = _at_division(id_card_region_code(id_card), "id_card")
    if found is None and address:
        found = _at_division(address_division(address), "address")
    return found
