"""Validating one lead row of an import file into the tuple the staging table takes."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
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
    return customer_keys(secret)(mobile)


@functools.lru_cache(maxsize=8)
def customer_keys(secret: bytes) -> Callable[[str], str]:
    """HMAC-SHA256 under `secret` (RFC 2104, as `hmac` computes it) with the padded key's two
    hash states prepared once: copying them costs less than a one-shot `hmac.digest`, which
    under OpenSSL 3 looks the digest up again on every call (2.3 us a row of a big import)."""
    if len(secret) > _SHA256_BLOCK:
        secret = hashlib.sha256(secret).digest()
    padded = secret.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(padded.translate(_INNER_PAD))
    outer = hashlib.sha256(padded.translate(_OUTER_PAD))

    def keyed(mobile: str) -> str:
        state = inner.copy()
        state.update(mobile.encode())
        result = outer.copy()
        result.update(state.digest())
        return result.hexdigest()

    return keyed


_SHA256_BLOCK = 64
_INNER_PAD = bytes(b ^ 0x36 for b in range(256))
_OUTER_PAD = bytes(b ^ 0x5C for b in range(256))


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
        external_id = self._cell("external_id", lambda v: required_text(v, 128))
        channel = self._cell("channel", self._channel)
        name = self._cell("name", lambda v: parse_text(v, max_length=200) or None)
        tier = self._cell("tier", lambda v: parse_tier(v) if v else "mass")
        mobile = self._cell("mobile", mobile_cell)
        region_code = self._cell("region_code", region_cell)
        id_card = self._cell("id_card", id_card_cell)
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
        return channel_cell(value, default=self.default_channel)

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


# The checks of single cells, also made by `app.leads.stage_lines`: each returns the cell's
# value or raises CellError.


def channel_cell(value: str, *, default: str | None) -> str:
    channel = value or default
    if not channel:
        raise CellError(message("lead.no_channel"))
    return parse_text(channel, max_length=64)


def required_text(value: str, max_length: int) -> str:
    if not value:
        raise CellError(message("cell.required"))
    return parse_text(value, max_length=max_length)


def mobile_cell(value: str) -> str | None:
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


def region_cell(value: str) -> str | None:
    if not value:
        return None
    code = parse_region_code(value)
    if not is_known_division(code):
        raise CellError(message("lead.unknown_division", text=code))
    return code


def id_card_cell(value: str) -> str | None:
    if not value:
        return None
    if not id_card_is_valid(value):
        raise CellError(message("lead.not_id_number"))
    return value
