"""Mainland mobile numbers: normalisation and home city from the `phone` package.

The `phone` package maps ~500k 7-digit prefixes to a (province, city) pair of short names
('广东', '深圳'). Those names are matched to division codes once, then every prefix is looked up
in a dense array indexed by ``prefix - 1300000``, so a lookup is O(1) after warm-up.

Known mismatch: the package's '湖北|江汉' record (42 prefixes, area code 0728) means the
江汉 oilfield near 潜江, but matches 江汉区 in 武汉 by name, ~150 km away.
"""

from __future__ import annotations

import functools
import re
import struct
import unicodedata
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from allocation.locality.divisions import (
    division_table,
    is_prefecture_level,
    is_province_level,
    province_code_of,
)

_FIRST_PREFIX = 1_300_000
_LAST_PREFIX = 1_999_999
_NO_RECORD = 0

# Separators people type inside numbers; removed before matching.
_SEPARATORS = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})", re.ASCII)

# Suffixes the `phone` package drops from official names (深圳 for 深圳市).
_PREFECTURE_SUFFIXES = ("市", "地区", "盟", "自治州", "新区")
_COUNTY_SUFFIXES = ("市", "区", "县", "林区", "旗")


def normalise_mobile(raw: str) -> str | None:
    """'+86 138-0013-8000' -> '13800138000'; None unless a plausible mainland mobile."""
    if len(raw) == 11 and raw.isascii() and raw.isdigit() and raw[0] == "1" and raw[1] in "3456789":
        # Already normal (most cells, and every number normalised once): what the pattern
        # below would return, without its two regular expressions (~0.5 us a row).
        return raw
    if not raw.isascii():
        raw = unicodedata.normalize("NFKC", raw)  # full-width digits from CJK input methods
    match = _MOBILE.fullmatch(_SEPARATORS.sub("", raw))
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class _MobileIndex:
    # record_ids[prefix - _FIRST_PREFIX] -> index into home_codes (0 = no record).
    record_ids: array[int]
    home_codes: list[str | None]


def _province_code_for(province: str) -> str | None:
    names = division_table().names
    matches = [c for c, n in names.items() if is_province_level(c) and n.startswith(province)]
    return min(matches) if matches else None


def _name_matches(official: str, short: str, suffixes: tuple[str, ...]) -> bool:
    if official == short or any(official == short + s for s in suffixes):
        return True
    # Ethnic autonomous units: '红河' for 红河哈尼族彝族自治州.
    return official.startswith(short) and official.endswith(("自治州", "自治县", "自治旗"))


def _is_prefecture_abbreviation(official: str, short: str) -> bool:
    # Customary 'X州' for long autonomous-prefecture names: 巴州 for 巴音郭楞蒙古自治州.
    return (
        len(short) == 2
        and short.endswith("州")
        and official.startswith(short[0])
        and official.endswith("自治州")
    )


def _units_in(province_code: str) -> Iterator[tuple[str, str]]:
    for code, name in division_table().names.items():
        if code[:2] == province_code[:2] and not is_province_level(code):
            yield code, name


def match_phone_city(province: str, city: str) -> str | None:
    """Division code for the `phone` package's names, at the finest level that matches.

    Tries prefecture-level units, then county-level ones (万州 -> 万州区, 仙桃 -> 仙桃市),
    then 'X州' abbreviations; a city name that matches nothing falls back to the province.
    """
    province_code = _province_code_for(province)
    if province_code is None or not city:
        return province_code
    units = sorted(_units_in(province_code))
    prefectures = [(c, n) for c, n in units if is_prefecture_level(c)]
    counties = [(c, n) for c, n in units if not is_prefecture_level(c)]
    for candidates, suffixes in ((prefectures, _PREFECTURE_SUFFIXES), (counties, _COUNTY_SUFFIXES)):
        found = [c for c, n in candidates if _name_matches(n, city, suffixes)]
        if found:
            return found[0]  # lowest code: 重庆市 500100 before 500200
    found = [c for c, n in prefectures if _is_prefecture_abbreviation(n, city)]
    return found[0] if len(found) == 1 else province_code


def _phone_records(book: Any) -> Iterator[tuple[int, int]]:
    """(prefix, record offset) pairs straight from the package's binary table."""
    start = book.first_phone_record_offset
    end = start + book.phone_record_count * book.phone_fmt_length
    for prefix, offset, _carrier in struct.iter_unpack(book.phone_fmt, book.buf[start:end]):
        yield prefix, offset


def _record_text(buffer: bytes, offset: int) -> str:
    return buffer[offset : buffer.index(b"\x00", offset)].decode()


@functools.cache
def mobile_index() -> _MobileIndex:
    """Build the prefix -> home-division array once (~0.3 s, ~1.4 MB)."""
    from phone import Phone

    book = Phone()
    buffer: bytes = book.buf
    record_ids = array("H", bytes(2 * (_LAST_PREFIX - _FIRST_PREFIX + 1)))
    home_codes: list[str | None] = [None]
    id_by_offset: dict[int, int] = {}
    for prefix, offset in _phone_records(book):
        if not _FIRST_PREFIX <= prefix <= _LAST_PREFIX:
            continue
        record_id = id_by_offset.get(offset)
        if record_id is None:
            province, city, _zip, _area = _record_text(buffer, offset).split("|")
            record_id = id_by_offset[offset] = len(home_codes)
            home_codes.append(match_phone_city(province, city))
        record_ids[prefix - _FIRST_PREFIX] = record_id
    return _MobileIndex(record_ids, home_codes)


def prefix_home_division(prefix: int) -> str | None:
    """Home division code of a 7-digit prefix (as an int), None when the prefix is unknown."""
    if not _FIRST_PREFIX <= prefix <= _LAST_PREFIX:
        return None
    index = mobile_index()
    return index.home_codes[index.record_ids[prefix - _FIRST_PREFIX]]


def mobile_home_division(mobile: str) -> str | None:
    """Division code of the number's home city ('13800138000' -> '110100'), or None.

    Usually a prefecture-level code; a county-level one where the `phone` package names a
    county-level city or a municipal district (万州 -> 500101, 仙桃 -> 429004), and a
    province code where its city name matches no current division (none in phone 0.4.x).
    """
    normalised = normalise_mobile(mobile)
    return None if normalised is None else prefix_home_division(int(normalised[:7]))


def _lies_within(code: str, container: str) -> bool:
    if is_province_level(container):
        return code[:2] == container[:2]
    if is_prefecture_level(container):
        return code[:4] == container[:4]
    return code == container


@functools.cache
def _prefixes_by_record() -> dict[int, list[int]]:
    prefixes: dict[int, list[int]] = {}
    for position, record_id in enumerate(mobile_index().record_ids):
        if record_id != _NO_RECORD:
            prefixes.setdefault(record_id, []).append(position + _FIRST_PREFIX)
    return prefixes


def is_municipality(code: str) -> bool:
    """True for 北京/天津/上海/重庆 codes: their province name is also their city name."""
    names = division_table().names
    province = names.get(province_code_of(code))
    return province is not None and province == names.get(code[:2] + "0100")


def mobile_prefixes_for(city_code: str) -> list[str]:
    """Sorted 7-digit prefixes whose home division lies within ``city_code`` (may be empty).

    For a municipality pass its city code (北京 110100) or province code (110000); both include
    prefixes homed in its districts.
    """
    if len(city_code) != 6 or not city_code.isdigit():
        return []
    if city_code[2:] == "0100" and is_municipality(city_code):
        city_code = province_code_of(city_code)
    homes = mobile_index().home_codes
    found: list[int] = []
    for record_id, prefixes in _prefixes_by_record().items():
        home = homes[record_id]
        if home is not None and _lies_within(home, city_code):
            found.extend(prefixes)
    return [str(prefix) for prefix in sorted(found)]


def mobile_prefix_coverage() -> tuple[int, int, int]:
    """(prefixes in the `phone` data, mapped to a city or finer, mapped to a province only)."""
    index = mobile_index()
    records = finer = province_only = 0
    for record_id in index.record_ids:
        if record_id == _NO_RECORD:
            continue
        records += 1
        home = index.home_codes[record_id]
        if home is not None and is_province_level(home):
            province_only += 1
        elif home is not None:
            finer += 1
    return records, finer, province_only
