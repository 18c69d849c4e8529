"""Resident ID cards (GB 11643-1999): checksum validation and the birth-registration region.

The first six digits are the division where the holder was first registered, so they locate
the person only coarsely and may name a division that has since been abolished; hence the
6 -> 4 -> 2 digit fallback to the enclosing city, then province.
"""

from __future__ import annotations

import datetime as dt
import re

from allocation.locality.divisions import is_known_division

_ID_CARD = re.compile(r"\d{17}[\dX]", re.ASCII)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"  # indexed by (weighted sum mod 11)


def id_card_check_character(first_17_digits: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) for 17 digits."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_17_digits, _WEIGHTS, strict=True)
    )
    return _CHECK_CHARACTERS[total % 11]


def _has_valid_birth_date(number: str) -> bool:
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return born.year >= 1900


def normalise_id_card(raw: str) -> str | None:
    """Trimmed, upper-cased 18-character number, or None if malformed or the checksum fails."""
    number = raw.strip().upper()
    if not _ID_CARD.fullmatch(number) or not _has_valid_birth_date(number):
        return None
    return number if id_card_check_character(number[:17]) == number[17] else None


def id_card_is_valid(raw: str) -> bool:
    """True for a well-formed 18-digit ID with a real birth date and a correct check character."""
    return normalise_id_card(raw) is not None


def id_card_region_code(raw: str) -> str | None:
    """Known division of a valid ID's region prefix: county, else its city, else its province."""
    number = normalise_id_card(raw)
    if number is None:
        return None
    for code in (number[:6], number[:4] + "00", number[:2] + "0000"):
        if is_known_division(code):
            return code
    return None
