"""Value-aware objectives (issue 15.4): what placing a lead at a branch is worth, in km.

- `distance` (the default): nothing; contract §5 exactly as before.
- `tier_priority`: every assigned lead of tier t earns `tier_weights_km[t]` km
  (DEFAULT_TIER_WEIGHTS_KM unless given): an hnw lead is taken before a mass lead unless
  taking it costs more than the weight difference in extra km.
- `expected_value`: a lead of tier t from channel c at branch j earns p(j, t, c) x r(j, t, c)
  fen (conversion rate x mean revenue of a conversion), counted as km at `price_per_km_fen`.

A lead's cost at branch j is then distance_ij - value_km[class_i, j] (km), and the objective
stays contract §5's: (1) assign as many leads as possible, (2) minimise the total cost. Leads
of one class (tier, and channel in expected_value mode) share the value at every branch, so the
flow solver keeps grouping leads by class and grid cell.

Rates are looked up most specific first: (branch, tier, channel), (branch, tier, *),
(*, tier, channel), (*, tier, *); a combination with none of these earns 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from allocation.errors import DuplicateKeyError, InvalidValueError, UnknownReferenceError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
ObjectiveMode = Literal["distance", "tier_priority", "expected_value"]
OBJECTIVES: tuple[ObjectiveMode, ...] = ("distance", "tier_priority", "expected_value")
ANY = "*"
DEFAULT_TIER_WEIGHTS_KM: Mapping[str, float] = {"mass": 0.0, "affluent": 100.0, "hnw": 1000.0}
DEFAULT_PRICE_PER_KM_FEN = 1000  # 10 yuan of expected revenue is worth one km of travel
# One lead is worth at most this many km: keeps the flow's integer costs (metres, times the
# network size) far inside int64.
MAX_VALUE_KM = 1e5


@dataclass(frozen=True, slots=True)
class RateSpec:
    """Conversion rate and mean revenue (fen) of a conversion; `*` matches any branch/channel."""

    tier: str
    conversion_rate: float
    mean_revenue_fen: int
    branch_code: str = ANY
    channel: str = ANY


@dataclass(frozen=True)
class ObjectiveSpec:
    """The objective a round asks for (tier weights in km; rates for expected_value)."""

    mode: str = "distance"
    tier_weights_km: Mapping[str, float] | None = None
    price_per_km_fen: int = DEFAULT_PRICE_PER_KM_FEN
    rates: tuple[RateSpec, ...] = ()


@dataclass(frozen=True)
class LeadValues:
    """Per lead a class; per (class, branch) the value in km, conversions and revenue (fen).

    conversion and revenue_fen are expectations for one lead (zero outside expected_value).
    """

    mode: ObjectiveMode
    lead_class: IntArray
    class_tier: IntArray
    class_channel: tuple[str, ...]
    value_km: FloatArray
    conversion: FloatArray
    revenue_fen: FloatArray
    price_per_km_fen: int | None
    tier_weights_km: Mapping[str, float] | None

    @property
    def reward_km(self) -> float:
        """The largest value of any lead anywhere: costs + this are never negative."""
        return float(self.value_km.max(initial=0.0))


def lead_values(
    *,
    spec: ObjectiveSpec,
    tiers: tuple[str, ...],
    branch_codes: Sequence[str],
    lead_tier: IntArray,
    lead_channel: Sequence[str],
) -> LeadValues | None:
    """The value table of a round (None for `distance`); raises InvalidProblemError."""
    if spec.mode not in OBJECTIVES:
        raise InvalidValueError(
            f"objective must be one of {', '.join(OBJECTIVES)}", field="objective"
        )
    if spec.mode == "distance":
        return None
    if spec.mode == "tier_priority":
        return _tier_values(
            spec=spec, tiers=tiers, n_branches=len(branch_codes), lead_tier=lead_tier
        )
    return _expected_values(
        spec=spec, tiers=tiers, branch_codes=branch_codes, lead_tier=lead_tier, channel=lead_channel
    )


def _tier_values(
    *, spec: ObjectiveSpec, tiers: tuple[str, ...], n_branches: int, lead_tier: IntArray
) -> LeadValues:
    weights = dict(
        DEFAULT_TIER_WEIGHTS_KM if spec.tier_weights_km is None else spec.tier_weights_km
    )
    for name, w in weights.items():
        if name not in tiers:
            raise InvalidValueError(f"tier weight for unknown tier {name!r}", field="tier_weights")
        _check_value(w, what=f"tier weight of {name}")
    per_tier = np.array([float(weights.get(t, 0.0)) for t in tiers], np.float64)
    zeros = np.zeros((len(tiers), n_branches))
    return LeadValues(
        mode="tier_priority",
        lead_class=lead_tier.copy(),
        class_tier=np.arange(len(tiers), dtype=np.int64),
        class_channel=tuple(ANY for _ in tiers),
        value_km=np.repeat(per_tier[:, None], n_branches, axis=1),
        conversion=zeros,
        revenue_fen=zeros.copy(),
        price_per_km_fen=None,
        tier_weights_km={t: float(weights.get(t, 0.0)) for t in tiers},
    )


def _expected_values(
    *,
    spec: ObjectiveSpec,
    tiers: tuple[str, ...],
    branch_codes: Sequence[str],
    lead_tier: IntArray,
    channel: Sequence[str],
) -> LeadValues:
    price = spec.price_per_km_fen
    if not (isinstance(price, int) and price > 0):
        raise InvalidValueError("price_per_km_fen must be an integer > 0", field="price_per_km")
    if len(channel) != len(lead_tier):
        raise InvalidValueError("one channel per lead", field="channel")
    names = sorted(set(channel))
    code = {name: k for k, name in enumerate(names)}
    key = lead_tier * max(1, len(names)) + np.array([code[c] for c in channel], np.int64)
    classes, lead_class = np.unique(key, return_inverse=True)
    class_tier = classes // max(1, len(names))
    class_channel = tuple(names[int(k) % max(1, len(names))] for k in classes)
    table = _rate_table(spec.rates, tiers=tiers, branch_codes=branch_codes)
    p = np.zeros((len(classes), len(branch_codes)))
    r = np.zeros_like(p)
    for c, (t, ch) in enumerate(zip(class_tier.tolist(), class_channel, strict=True)):
        for j, b in enumerate(branch_codes):
            p[c, j], r[c, j] = _lookup(table, branch=b, tier=tiers[t], channel=ch)
    revenue = p * r
    value = revenue / price
    if value.size and float(value.max()) > MAX_VALUE_KM:
        raise InvalidValueError(
            f"a lead's expected value exceeds {MAX_VALUE_KM:g} km at this price_per_km_fen",
            field="price_per_km",
        )
    return LeadValues(
        mode="expected_value",
        lead_class=lead_class.astype(np.int64).reshape(-1),
        class_tier=class_tier.astype(np.int64),
        class_channel=class_channel,
        value_km=value,
        conversion=p,
        revenue_fen=revenue,
        price_per_km_fen=price,
        tier_weights_km=None,
    )


_Key = tuple[str, str, str]


def _rate_table(
    rates: Sequence[RateSpec], *, tiers: tuple[str, ...], branch_codes: Sequence[str]
) -> dict[_Key, tuple[float, float]]:
    known = set(branch_codes)
    table: dict[_Key, tuple[float, float]] = {}
    for k, rate in enumerate(rates):
        if rate.tier not in tiers:
            raise InvalidValueError(f"rate {k}: unknown tier {rate.tier!r}", record=k, field="tier")
        if rate.branch_code != ANY and rate.branch_code not in known:
            raise UnknownReferenceError(
                f"rate {k}: unknown branch {rate.branch_code!r}", record=k, field="branch_code"
            )
        p = rate.conversion_rate
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise InvalidValueError(
                f"rate {k}: conversion_rate must be in [0, 1]", record=k, field="conversion_rate"
            )
        if rate.mean_revenue_fen < 0:
            raise InvalidValueError(
                f"rate {k}: mean_revenue_fen must be >= 0", record=k, field="mean_revenue_fen"
            )
        key = (rate.branch_code, rate.tier, rate.channel)
        if key in table:
            raise DuplicateKeyError(f"rate {k}: {key} appears twice", record=k, field="tier")
        table[key] = (float(p), float(rate.mean_revenue_fen))
    return table


def _lookup(
    table: Mapping[_Key, tuple[float, float]], *, branch: str, tier: str, channel: str
) -> tuple[float, float]:
    for key in (
        (branch, tier, channel),
        (branch, tier, ANY),
        (ANY, tier, channel),
        (ANY, tier, ANY),
    ):
        if key in table:
            return table[key]
    return 0.0, 0.0


def _check_value(value: float, *, what: str) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= MAX_VALUE_KM):
        raise InvalidValueError(f"{what} must be in [0, {MAX_VALUE_KM:g}] km", field="tier_weights")


@dataclass(frozen=True)
class ValueTotals:
    """What a plan is expected to bring: conversions, revenue (fen), value (km)."""

    expected_conversions: float
    expected_revenue_fen: float
    value_km: float


def plan_totals(*, values: LeadValues, branch: IntArray) -> ValueTotals:
    """Sum of the per-lead expectations of the assigned leads (any plan of the same leads)."""
    sent = np.flatnonzero(branch >= 0)
    c, j = values.lead_class[sent], branch[sent]
    return ValueTotals(
        expected_conversions=float(values.conversion[c, j].sum()),
        expected_revenue_fen=float(values.revenue_fen[c, j].sum()),
        value_km=float(values.value_km[c, j].sum()),
    )


def lead_value_km(*, values: LeadValues | None, branch: IntArray) -> FloatArray:
    """Each lead's value at its branch (0 when unassigned or in distance mode)."""
    out = np.zeros(len(branch))
    if values is None:
        return out
    sent = np.flatnonzero(branch >= 0)
    out[sent] = values.value_km[values.lead_class[sent], branch[sent]]
    return out
