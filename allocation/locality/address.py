"""Free-text Chinese addresses to a division code with `cpca-new`.

cpca-new matches province, city and county names (full or abbreviated) with an Aho-Corasick
automaton and returns the most specific consistent division. Its public ``transform`` wraps
each result in a pandas DataFrame (~1 ms a call), so the per-string function it uses inside is
called directly (~7 µs); ``transform`` remains the fallback if a release drops that function.
A county name given alone is ambiguous (南山区 exists in 深圳 and 鹤岗): cpca then takes the
first in its table, so such addresses may land in the wrong city.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from allocation.locality.divisions import import_cpca

_ADCODE_COLUMN = "adcode"
_PRIVATE_PARSER = "_get_one_addr"


def _as_code(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_with_private_function(text: str) -> str | None:
    """cpca's per-string parser: what ``transform`` runs on each row, without pandas."""
    parse_one: Any = getattr(import_cpca(), _PRIVATE_PARSER)
    return _as_code(parse_one(text, False, {})[_ADCODE_COLUMN])


def parse_with_transform(text: str) -> str | None:
    """cpca's public API; imports pandas and costs ~1 ms a call."""
    return _as_code(import_cpca().transform([text])[_ADCODE_COLUMN].iloc[0])


@functools.cache
def _address_parser() -> Callable[[str], str | None]:
    if hasattr(import_cpca(), _PRIVATE_PARSER):
        return parse_with_private_function
    return parse_with_transform


def address_division(address: str) -> str | None:
    """6-digit code of the most specific division named in ``address``, None if none."""
    if not address.strip():
        return None
    return _address_parser()(address)
