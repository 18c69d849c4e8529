"""Validating one lead row of an import file into the tuple the staging table takes."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from allocation.locality import (
    id_card_is_valid,
    is_known_division,
    normalise_mobile,
    resolve_location,
)
from app.imports.csvfile import CsvRow, ErrorCollector
from app.imports.fields import (
    CellError,
    parse_float,
    parse_instant,
    parse_region_code,
    parse_text,
    parse_tier,
    reason_of,
)
from app.privacy.cipher import MobileCipher
from coded_messages import message

REQUIRED = ("external_id",)


def customer_key(mobile: str, *, secret: bytes) -> str:
    """Keyed hash of a normalised mobile number: the same customer across channels."""
    return hmac.digest(secret, mobile.encode(), "sha256").hex()  # one-shot: no HMAC object


def solo_customer_key(channel: str, external_id: str) -> str:
    """The customer of a lead without a mobile number: one of its own, keyed by the lead's
    identity (the same on re-import), never equal to a mobile key (those are 64 hex digits)."""
    digest = hashlib.sha256(f"{channel}\x1f{external_id}".encode()).hexdigest()
    return "solo:" + digest[:59]


class LeadRowParser:
    """Turns CSV rows into staging tuples, reporting every bad cell to the collector."""

    def __init__(
        self,
        *,
        default_channel: str | None,
        secret: bytes,
        errors: ErrorCollector,
        cipher: MobileCipher,
    ) -> None:
        self.default_channel = default_channel
        self.secret = secret
        self.errors = errors
        self.cipher = cipher

    def parse(self, row: CsvRow) -> tuple[Any, ...] | None:
        self._ok = True
        self._row = row
        external_id = self._cell("external_id", lambda v: _required(v, 128))
        channel = self._cell("channel", self._channel)
        name = self._cell("name", lambda v: parse_text(v, max_length=200) or None)
        tier = self._cell("tier", lambda v: parse_tier(v) if v else "mass")
        mobile = self._cell("mobile", _mobile)
        region_code = self._cell("region_code", _known_region)
        id_card = self._cell("id_card", _id_card)
        acquired_at = self._cell("acquired_at", lambda v: parse_instant(v) if v else None)
        lat, lon = self._coordinates()
        if not self._ok:
            return None
        location = resolve_location(
            lat=lat,
            lon=lon,
            region_code=region_code,
            mobile=mobile,
            id_card=id_card,
            address=row.get("address") or None,
        )
        if mobile:
            key = customer_key(mobile, secret=self.secret)
        else:
            key = solo_customer_key(channel, external_id)
        return (
            row.line,
            channel,
            external_id,
            key,
            name,
            self.cipher.seal(mobile),  # only the sealed number reaches the database
            tier,
            location.lat if location else None,
            location.lon if location else None,
            (location.region_code if location else None) or region_code,
            location.source if location else None,
            acquired_at,
        )

    def _cell(self, column: str, parse: Any) -> Any:
        try:
            return parse(self._row.get(column))
        except CellError as exc:
            self.errors.add(self._row.line, column, reason_of(exc))
            self._ok = False
            return None

    def _channel(self, value: str) -> str:
        channel = value or self.default_channel
        if not channel:
            raise CellError(message("lead.no_channel"))
        return parse_text(channel, max_length=64)

    def _coordinates(self) -> tuple[float | None, float | None]:
        lat_text, lon_text = self._row.get("lat"), self._row.get("lon")
        if not lat_text and not lon_text:
            return None, None
        if not lat_text or not lon_text:
            missing = "lat" if not lat_text else "lon"
            self.errors.add(self._row.line, missing, message("lead.lat_lon_together"))
            self._ok = False
            return None, None
        lat = self._cell("lat", lambda v: parse_float(v, low=-90, high=90, what="latitude"))
        lon = self._cell("lon", lambda v: parse_float(v, low=-180, high=180, what="longitude"))
        return lat, lon


def _required(value: str, max_length: int) -> str:
    if not value:
        raise CellError(message("cell.required"))
    return parse_text(value, max_length=max_length)


def _mobile(value: str) -> str | None:
    if not value:
        return None
    normalised = normalise_mobile(value)
    if normalised is None:
        # A near-miss is usually a real number with a typo: the error shows only its shape.
        raise CellError(message("lead.not_mobile", text=_obscured(value)))
    return normalised


def _obscured(value: str) -> str:
    """Every digit but the first 3 and the last 4 starred: '+1 13987654321' -> '+1 13*****4321'."""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    hidden = set(digits[3:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def _known_region(value: str) -> str | None:
    if not value:
        return None
    code = parse_region_code(value)
    if not is_known_division(code):
        raise CellError(message("lead.unknown_division", text=code))
    return code


def _id_card(value: str) -> str | None:
    if not value:
        return None
    if not id_card_is_valid(value):
        raise CellError(message("lead.not_id_number"))
    return value
