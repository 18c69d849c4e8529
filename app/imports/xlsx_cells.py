"""An Excel cell as the text the CSV path would have read, so one parser validates both.

Excel stores a mobile number typed as a number as the number 13800138000, and a code typed as
007 in a cell formatted 000 as the number 7. Read naively these become '13800138000.0',
'1.38e10' or '7'. Here a whole number is written without a decimal point or exponent, a number
shown zero-padded by its format gets its zeros back, dates and times become ISO 8601 (a value
without an offset means Beijing time, as in CSV), and true/false become 'true'/'false'.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

# Beyond 2**53 a float no longer holds every whole number: write it as Python shows it.
EXACT_WHOLE = 2**53
ZERO_PADDED = re.compile(r"0+")


def cell_text(value: Any, number_format: str | None = None) -> str:
    """The text of a cell's value; '' for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _padded(_number_text(value), number_format)
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # openpyxl has rounded Excel's day fractions to the ms
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < EXACT_WHOLE:
        return str(int(value))
    return repr(value)  # the shortest text that reads back as the same number


def _padded(text: str, number_format: str | None) -> str:
    """'7' shown through the format '000' is '007'."""
    if number_format and ZERO_PADDED.fullmatch(number_format) and text.isdigit():
        return text.zfill(len(number_format))
    return text
