"""The objective a round ranks its plans by (issue 15.4): distance, tier priority or expected
value. Expected value learns its rates from the product's own history when the round runs
(app/analytics/rates.py); the rates go into the round's snapshot so a replay solves the same
problem. A returned lead's eligibility class ("hnw!B3", app/rounds/exclusions.py) is valued as
its tier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from allocation.value import (
    DEFAULT_PRICE_PER_KM_FEN,
    DEFAULT_TIER_WEIGHTS_KM,
    ObjectiveSpec,
    RateSpec,
)
from app.analytics.rates import history_cells, learned_rates

CLASS_MARK = "!"  # app.rounds.exclusions.exclusion_tier: "<tier>!<branch code>"


@dataclass(frozen=True, slots=True)
class RoundObjective:
    mode: str = "distance"
    tier_weights_km: Mapping[str, float] | None = None
    price_per_km_fen: int = DEFAULT_PRICE_PER_KM_FEN


def objective_spec(session: Session, objective: RoundObjective) -> ObjectiveSpec:
    """The core's objective; expected_value reads the rate history now."""
    rates = learned_rates(history_cells(session)) if objective.mode == "expected_value" else ()
    return ObjectiveSpec(
        mode=objective.mode,
        tier_weights_km=objective.tier_weights_km,
        price_per_km_fen=objective.price_per_km_fen,
        rates=rates,
    )


def for_classes(spec: ObjectiveSpec, tiers: Iterable[str]) -> ObjectiveSpec:
    """The spec with every exclusion class valued as its tier."""
    classes = sorted({t for t in tiers if CLASS_MARK in t})
    if spec.mode == "distance" or not classes:
        return spec
    base = {c: c.split(CLASS_MARK, 1)[0] for c in classes}
    weights = dict(
        DEFAULT_TIER_WEIGHTS_KM if spec.tier_weights_km is None else spec.tier_weights_km
    )
    weights |= {c: weights[t] for c, t in base.items() if t in weights}
    rates = spec.rates + tuple(
        dataclasses.replace(r, tier=c) for c, t in base.items() for r in spec.rates if r.tier == t
    )
    return dataclasses.replace(spec, tier_weights_km=weights, rates=rates)


def spec_json(spec: ObjectiveSpec) -> dict[str, Any]:
    return {
        "mode": spec.mode,
        "tier_weights_km": None if spec.tier_weights_km is None else dict(spec.tier_weights_km),
        "price_per_km_fen": spec.price_per_km_fen,
        "rates": [dataclasses.asdict(r) for r in spec.rates],
    }


def spec_from_json(data: Mapping[str, Any] | None) -> ObjectiveSpec:
    """A snapshot's objective (rounds solved before issue 15.4 have none: distance)."""
    if not data:
        return ObjectiveSpec()
    return ObjectiveSpec(
        mode=data["mode"],
        tier_weights_km=data["tier_weights_km"],
        price_per_km_fen=data["price_per_km_fen"],
        rates=tuple(RateSpec(**r) for r in data["rates"]),
    )
