"""A lead row straight to its line of COPY text: what each parsing worker does to its rows.

`LeadRowParser.parse` and then `copy_line` cost ~18 us of CPU a row, the bound of a 1.3M-row
import's staging (bench/RESULTS.md, session 15): a layer of calls per cell, the location as a
dataclass, the stage tuple taken apart again. `StageLines` makes the same checks with the
same cell functions and writes the line in one pass; a row it does not take as it is (any bad
cell, above all) goes through the general parser, so bad rows are reported by that parser
alone, with its messages and line numbers. `tests/app/test_lead_stage_lines.py` compares both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from allocation.locality.divisions import division_table
from allocation.locality.mobile import prefix_home_division
from allocation.locality.resolve import LocationSource, resolve_location
from allocation.model import BUILT_IN_TIERS
from app.imports.csvfile import CsvRow
from app.imports.fields import CellError, parse_instant, parse_text, parse_tier
from app.imports.parallel import NULL, copy_text
from app.leads.rows import (
    LeadRowParser,
    channel_cell,
    customer_keys,
    id_card_cell,
    mobile_cell,
    region_cell,
    required_text,
    solo_customer_key,
)

# (lat, lon, region_code, location_source) as COPY text.
_Located = tuple[str, str, str, str]


class StageLines:
    """The COPY line of each row `parser` would stage; None for a row it reports as bad."""

    def __init__(self, parser: LeadRowParser) -> None:
        self._parser = parser
        self._key = customer_keys(parser.secret)
        self._seal = parser.cipher.seal
        self._centroids = division_table().centroids
        self._divisions = division_table().names
        self._default_channel = parser.default_channel

    def __call__(self, row: CsvRow) -> str | None:
        try:
            return self._line(row)
        except CellError:
            staged = self._parser.parse(row)  # reports every bad cell of the row
            return None if staged is None else copy_line(staged)

    def _line(self, row: CsvRow) -> str:
        get = row.values.get  # `CsvRow.get` is (get(column) or "").strip(), a call less a cell
        external_id = required_text((get("external_id") or "").strip(), 128)
        channel = channel_cell((get("channel") or "").strip(), default=self._default_channel)
        name = (get("name") or "").strip()
        tier = (get("tier") or "").strip() or "mass"
        if len(name) > 200:
            parse_text(name, max_length=200)  # raises
        if tier not in BUILT_IN_TIERS:
            parse_tier(tier)  # raises
        mobile_text = (get("mobile") or "").strip()
        mobile = mobile_cell(mobile_text) if mobile_text else None
        region = (get("region_code") or "").strip()
        if region and region not in self._divisions:
            region_cell(region)  # raises
        id_card_text = (get("id_card") or "").strip()
        id_card = id_card_cell(id_card_text) if id_card_text else None
        acquired = (get("acquired_at") or "").strip()
        instant = instant_text(acquired, parse_instant(acquired)) if acquired else NULL
        lat, lon, region_text, source = self._located(get, region, mobile, id_card)
        key = self._key(mobile) if mobile else solo_customer_key(channel, external_id)
        if _needs_escape(channel + external_id + name):
            channel, external_id, name = copy_text(channel), copy_text(external_id), copy_text(name)
        return (
            f"{row.line}\t{channel}\t{external_id}\t{key}\t{name or NULL}\t"
            f"{self._seal(mobile) or NULL}\t{tier}\t{lat}\t{lon}\t{region_text}\t{source}\t"
            f"{instant}\n"
        )

    def _located(
        self, get: Callable[[str], str | None], region: str, mobile: str | None,
        id_card: str | None,
    ) -> _Located:  # fmt: skip
        """`resolve_location`'s answer as the parser stages it; its usual cases without it."""
        lat_text, lon_text = (get("lat") or "").strip(), (get("lon") or "").strip()
        if lat_text or lon_text:
            lat = _coordinate(lat_text, 90)
            lon = _coordinate(lon_text, 180)
            return repr(lat), repr(lon), region or NULL, "coordinates"
        found = self._at(region, "region_code") if region else None
        if found is None and mobile:
            found = self._at(prefix_home_division(int(mobile[:7])), "mobile_prefix")
        if found is not None:
            return found
        address = (get("address") or "").strip() or None
        if not id_card and not address:
            return (NULL, NULL, region or NULL, NULL)
        location = resolve_location(region_code=region or None, mobile=mobile, id_card=id_card,
                                    address=address)  # fmt: skip
        if location is None:
            return (NULL, NULL, region or NULL, NULL)
        where = location.region_code or region or NULL
        return repr(location.lat), repr(location.lon), where, location.source

    def _at(self, code: str | None, source: LocationSource) -> _Located | None:
        point = self._centroids.get(code) if code else None
        if point is None or code is None:
            return None
        return repr(point[0]), repr(point[1]), code, source


def _needs_escape(text: str) -> bool:
    """Whether `copy_text` would change any of the row's free texts (one check for three)."""
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


def _coordinate(text: str, bound: float) -> float:
    """A latitude (bound 90) or longitude (180) that `parse_float` would take, else CellError
    (the general parser then says which, or that the other one is missing)."""
    try:
        number = float(text)
    except ValueError:
        raise CellError(text) from None
    if not (math.isfinite(number) and -bound <= number <= bound):
        raise CellError(text)
    return number


def instant_text(given: str, parsed: datetime) -> str:
    """`parsed` (read from `given`) in UTC as COPY text. `given` itself when it is in that form
    already ('2026-11-29T18:14:48+00:00', as exports write it): converting costs ~1 us."""
    if (
        len(given) == 25
        and given.endswith("+00:00")
        and given[10] == "T"
        and given[4] == given[7] == "-"
        and given[13] == given[16] == ":"
    ):
        return given  # fromisoformat took it, so it is YYYY-MM-DDTHH:MM:SS in ASCII digits
    return parsed.astimezone(UTC).isoformat()


def copy_line(row: tuple[Any, ...]) -> str:
    """One stage row (`staging.STAGE_COLUMNS`) in COPY's text format: floats in their exact
    shortest form, the instant in UTC."""
    line, channel, external_id, key, name, mobile, tier, lat, lon, region, source, acquired = row
    cells = (
        str(line), copy_text(channel), copy_text(external_id), key, copy_text(name),
        copy_text(mobile), copy_text(tier), _number(lat), _number(lon), copy_text(region),
        copy_text(source),
        NULL if acquired is None else acquired.astimezone(UTC).isoformat(),
    )  # fmt: skip
    return "\t".join(cells) + "\n"


def _number(value: float | None) -> str:
    return NULL if value is None else repr(value)
