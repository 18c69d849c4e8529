"""Amount parsing and integer money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidAmountError, UnitMismatchError
from ledger.money import MAX_FEN, Money, Unit, fen, format_fen, kpi, parse_amount

from .builders import PROPERTY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.34", 1234),
        ("12", 1200),
        ("12.3", 1230),
        ("0", 0),
        ("-0.01", -1),
        ("+5.00", 500),
        ("007.05", 705),
        (" 12.30 ", 1230),
        ("\t12.30", 1230),
        ("92233720368547758.07", MAX_FEN),
    ],
)
def test_valid_amounts_parse_to_exact_fen(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.005", "more than 2 decimal places"),
        ("0.001", "more than 2 decimal places"),
        ("1e3", "exponent"),
        ("1.5E2", "exponent"),
        ("NaN", "not a finite number"),
        ("inf", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("1,234.00", "thousands separators"),
        ("1_000", "thousands separators"),
        ("", "empty"),
        ("   ", "empty"),
        ("1 000", "whitespace"),
        ("92233720368547758.08", "out of range"),
        ("1" * 40, "out of range"),
    ],
)
def test_invalid_amounts_are_refused_with_a_named_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmountError) as caught:
        parse_amount(text)
    assert reason in caught.value.reason
    assert caught.value.text == text


@pytest.mark.parametrize(
    "text", [".5", "5.", "¥5", "５", "0x10", "--1", "+-1", "1.2.3", "12\n", "12\u30001"]
)
def test_odd_spellings_are_refused(text: str) -> None:
    with pytest.raises(InvalidAmountError):
        parse_amount(text)


def test_parse_amount_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        parse_amount(12.34)  # type: ignore[arg-type]


@PROPERTY
@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_formatting_then_parsing_gives_back_the_fen(amount: int) -> None:
    assert parse_amount(format_fen(amount)) == amount


@PROPERTY
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_parsing_agrees_with_exact_decimal_arithmetic(value: Decimal) -> None:
    assert parse_amount(str(value)) == int(value * 100)


def test_format_fen_pads_and_signs() -> None:
    assert format_fen(-1) == "-0.01"
    assert format_fen(123456) == "1234.56"
    assert format_fen(0) == "0.00"


def test_money_adds_within_one_unit() -> None:
    assert fen(100) + fen(23) == fen(123)
    assert fen(100) - fen(23) == fen(77)
    assert -kpi(5) == Money(-5, Unit.KPI)
    assert str(fen(-1)) == "-0.01 CNY"
    assert str(kpi(7)) == "7 KPI"


def test_kpi_points_never_mix_with_money() -> None:
    with pytest.raises(UnitMismatchError):
        _ = fen(1) + kpi(1)
    with pytest.raises(UnitMismatchError):
        _ = kpi(1) - fen(1)
    assert fen(1) != kpi(1)
    assert Unit.CNY.is_money
    assert not Unit.KPI.is_money


@pytest.mark.parametrize("amount", [1.0, Decimal("1"), True, "1"])
def test_money_holds_plain_ints_only(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount)  # type: ignore[arg-type]


def test_words_are_not_mistaken_for_exponents() -> None:
    with pytest.raises(InvalidAmountError) as caught:
        parse_amount("one")
    assert "exponent" not in caught.value.reason
