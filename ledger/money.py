"""Integer money and the separate KPI unit.

Money is an ``int`` of fen (CNY minor units) end to end: floats cannot represent 0.10 exactly
and SQLite stores Decimal as float, so a ledger that must tie to the fen never holds either at
rest. Channel KPI points live in their own unit so that a points figure can never be added to,
or balanced against, a money figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import InvalidAmountError, UnitMismatchError

# A signed 64-bit integer is what both SQLite INTEGER and PostgreSQL BIGINT hold.
MAX_FEN = 2**63 - 1

_AMOUNT = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]{1,2}))?")
_EXPONENT = re.compile(r"[+-]?[0-9.]+e[+-]?[0-9]+")
_SURROUNDING_BLANKS = " \t"


class Unit(StrEnum):
    """The unit of a quantity. Every account holds exactly one unit."""

    CNY = "CNY"  # money, in fen
    KPI = "KPI"  # channel performance points, never money

    @property
    def is_money(self) -> bool:
        return self is Unit.CNY


def require_int(value: object, *, what: str) -> int:
    """Return ``value`` if it is a plain ``int`` (not ``bool``, float or Decimal)."""
    if type(value) is not int:
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An integer quantity in one unit: fen for CNY, points for KPI."""

    amount: int
    unit: Unit = Unit.CNY

    def __post_init__(self) -> None:
        require_int(self.amount, what="Money.amount")
        if not isinstance(self.unit, Unit):
            raise TypeError("Money.unit must be a Unit")

    def _same_unit(self, other: Money) -> None:
        if self.unit is not other.unit:
            raise UnitMismatchError(f"cannot combine {self.unit} with {other.unit}")

    def __add__(self, other: Money) -> Money:
        self._same_unit(other)
        return Money(self.amount + other.amount, self.unit)

    def __sub__(self, other: Money) -> Money:
        self._same_unit(other)
        return Money(self.amount - other.amount, self.unit)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.unit)

    def __str__(self) -> str:
        if self.unit is Unit.CNY:
            return f"{format_fen(self.amount)} CNY"
        return f"{self.amount} KPI"


def fen(amount: int) -> Money:
    """Money in CNY from an integer number of fen."""
    return Money(amount, Unit.CNY)


def kpi(points: int) -> Money:
    """A KPI quantity from an integer number of points."""
    return Money(points, Unit.KPI)


def parse_amount(text: str) -> int:
    """Parse a decimal yuan string into integer fen.

    Accepted: an optional sign, ASCII digits, optionally a point and one or two digits
    (``"12"``, ``"12.3"``, ``"-0.01"``, ``"+5.00"``). Surrounding spaces and tabs are
    stripped because spreadsheets pad cells; anything else is refused with a named reason:
    more than two decimals (never rounded away), exponents, NaN/Infinity, thousands
    separators, currency symbols, full-width digits, a bare ``".5"`` or ``"5."``.
    """
    if not isinstance(text, str):
        raise TypeError("parse_amount expects a str")
    body = text.strip(_SURROUNDING_BLANKS)
    match = _AMOUNT.fullmatch(body)
    if match is None:
        raise InvalidAmountError(text, problem=_why_invalid(body))
    sign, whole, decimals = match.groups()
    if len(whole) > 20:  # cheap guard before int() on absurd input
        raise InvalidAmountError(text, problem="out_of_range")
    value = int(whole) * 100 + int((decimals or "").ljust(2, "0"))
    if value > MAX_FEN:
        raise InvalidAmountError(text, problem="out_of_range")
    return -value if sign == "-" else value


def _why_invalid(body: str) -> str:
    """Name the most likely reason a non-matching amount string was refused (a key of
    `ledger.messages.AMOUNT_PROBLEMS`)."""
    lowered = body.lower()
    checks = (
        (body == "", "empty"),
        (any(w in lowered for w in ("nan", "inf")), "not_finite"),
        (any(c in body for c in ",_'"), "thousands_separator"),
        (re.fullmatch(r"[+-]?[0-9]*\.[0-9]{3,}", body) is not None, "too_many_decimals"),
        (_EXPONENT.fullmatch(lowered) is not None, "exponent"),
        (any(c.isspace() for c in body), "whitespace"),
    )
    for failed, problem in checks:
        if failed:
            return problem
    return "not_decimal"


def format_fen(amount: int) -> str:
    """Render fen as a yuan string with exactly two decimals (``-1234 -> "-12.34"``)."""
    require_int(amount, what="amount")
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d}"
