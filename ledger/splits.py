"""Splitting an integer amount into integer parts.

One named rounding rule for every split in the ledger: the largest-remainder (Hamilton)
method. Each part first gets the floor of its exact share; the fen left over go, one each, to
the parts with the largest remainders, ties broken by the part's key (the account code) in
ascending order. Because the tie-break is a property of the parts rather than of their
position in a list, the result does not depend on input order, and a negative amount splits
as the exact negation of the positive one. Consequences, all property-tested: the parts add
up to the amount, each part is within one fen of its exact share, a zero weight gets zero.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.money import require_int

BPS_TOTAL = 10_000


def split_amount(amount: int, *, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``amount`` in proportion to ``weights`` (non-negative ints, positive sum).

    Returns every key of ``weights`` (zero parts included), in ascending key order.
    """
    require_int(amount, what="amount")
    for key, weight in weights.items():
        if require_int(weight, what=f"weight of {key!r}") < 0:
            raise ValueError(f"weight of {key!r} is negative")
    total_weight = sum(weights.values())
    if total_weight <= 0:
        raise ValueError("weights must have a positive sum")
    if amount < 0:
        return {key: -part for key, part in _split_non_negative(-amount, weights).items()}
    return _split_non_negative(amount, weights)


def _split_non_negative(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    total_weight = sum(weights.values())
    parts: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for key in sorted(weights):
        parts[key], remainders[key] = divmod(amount * weights[key], total_weight)
    leftover = amount - sum(parts.values())
    # Largest remainder first; on equal remainders the smaller account code wins.
    ranked = sorted(remainders, key=lambda key: (-remainders[key], key))
    for key in ranked[:leftover]:
        parts[key] += 1
    return parts


def apply_bps(amount: int, *, bps: int) -> int:
    """``amount * bps / 10,000`` rounded half away from zero (symmetric for refunds)."""
    require_int(amount, what="amount")
    if require_int(bps, what="bps") < 0:
        raise ValueError("bps must not be negative")
    quotient, remainder = divmod(abs(amount) * bps, BPS_TOTAL)
    if 2 * remainder >= BPS_TOTAL:
        quotient += 1
    return quotient if amount >= 0 else -quotient
