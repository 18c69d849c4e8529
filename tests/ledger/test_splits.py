"""Largest-remainder splitting: the parts always add up to the fen."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.splits import apply_bps, split_amount

from .builders import PROPERTY

CODES = st.text(alphabet="abcdefgh:", min_size=1, max_size=6)
WEIGHTS = st.dictionaries(
    CODES, st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6
).filter(lambda w: sum(w.values()) > 0)
AMOUNTS = st.integers(min_value=-(10**15), max_value=10**15)


@PROPERTY
@given(AMOUNTS, WEIGHTS)
def test_parts_always_add_up_to_the_amount(amount: int, weights: dict[str, int]) -> None:
    assert sum(split_amount(amount, weights=weights).values()) == amount


@PROPERTY
@given(AMOUNTS, WEIGHTS)
def test_every_part_is_within_one_fen_of_its_exact_share(
    amount: int, weights: dict[str, int]
) -> None:
    total = sum(weights.values())
    for key, part in split_amount(amount, weights=weights).items():
        assert abs(part - Fraction(amount * weights[key], total)) < 1


@PROPERTY
@given(AMOUNTS, WEIGHTS, st.randoms(use_true_random=False))
def test_the_order_of_the_shares_does_not_matter(
    amount: int, weights: dict[str, int], rnd: object
) -> None:
    items = list(weights.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    assert split_amount(amount, weights=dict(items)) == split_amount(amount, weights=weights)


@PROPERTY
@given(AMOUNTS, WEIGHTS)
def test_a_refund_splits_as_the_exact_negation(amount: int, weights: dict[str, int]) -> None:
    positive = split_amount(amount, weights=weights)
    negative = split_amount(-amount, weights=weights)
    assert negative == {key: -part for key, part in positive.items()}


@PROPERTY
@given(AMOUNTS, WEIGHTS)
def test_a_zero_weight_gets_zero(amount: int, weights: dict[str, int]) -> None:
    parts = split_amount(amount, weights={**weights, "zzz-zero": 0})
    assert parts["zzz-zero"] == 0


def test_ties_go_to_the_smaller_account_code() -> None:
    weights = {"hq:online:revenue": 5_000, "branch:B:revenue": 5_000}
    assert split_amount(1, weights=weights) == {"branch:B:revenue": 1, "hq:online:revenue": 0}
    assert split_amount(-1, weights=weights) == {"branch:B:revenue": -1, "hq:online:revenue": 0}
    three = {"c": 1, "a": 1, "b": 1}
    assert split_amount(10, weights=three) == {"a": 4, "b": 3, "c": 3}
    assert split_amount(11, weights=three) == {"a": 4, "b": 4, "c": 3}


def test_largest_remainder_beats_declaration_order() -> None:
    # 15 fen at 80/8/12%: exact 12, 1.2, 1.8 -> the 0.8 remainder wins the spare fen.
    assert split_amount(15, weights={"a": 8_000, "b": 800, "c": 1_200}) == {"a": 12, "b": 1, "c": 2}


def test_results_come_back_in_key_order() -> None:
    assert list(split_amount(7, weights={"b": 1, "a": 1})) == ["a", "b"]


@pytest.mark.parametrize("weights", [{}, {"a": 0}, {"a": -1, "b": 2}])
def test_bad_weights_are_refused(weights: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="weight"):
        split_amount(10, weights=weights)


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [(100, 10_000, 100), (1, 5_000, 1), (-1, 5_000, -1), (3, 3_333, 1), (1, 4_999, 0), (0, 7, 0)],
)
def test_apply_bps_rounds_half_away_from_zero(amount: int, bps: int, expected: int) -> None:
    assert apply_bps(amount, bps=bps) == expected


@PROPERTY
@given(AMOUNTS, st.integers(min_value=0, max_value=50_000))
def test_apply_bps_is_symmetric_and_within_half_a_point(amount: int, bps: int) -> None:
    assert apply_bps(-amount, bps=bps) == -apply_bps(amount, bps=bps)
    assert abs(apply_bps(amount, bps=bps) - Fraction(amount * bps, 10_000)) <= Fraction(1, 2)
