"""API shapes for allocation rounds."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from allocation.model import BUILT_IN_TIERS
from allocation.value import DEFAULT_PRICE_PER_KM_FEN, MAX_VALUE_KM
from app.rounds.reserve import MAX_RESERVE


class RoundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    balance_weight: float = Field(default=0.0, ge=0, le=1_000_000)
    max_distance_km: float | None = Field(default=None, gt=0, le=20_000)
    commit: bool = False
    # Issue 15.4 (contract §5): what the plan maximises after the number of leads assigned.
    objective: Literal["distance", "tier_priority", "expected_value"] = "distance"
    tier_weights_km: dict[str, float] | None = None  # tier_priority; default mass 0/100/1000
    price_per_km_fen: int = Field(default=DEFAULT_PRICE_PER_KM_FEN, ge=1, le=10**9)
    # Issue 16.2: keep room for the arrivals expected before the next round: a number of places
    # or "auto" (the recent channel intake, app/rounds/reserve.py); null: none (the default).
    reserve_for_arrivals: (
        Annotated[int, Field(ge=0, le=MAX_RESERVE, strict=True)] | Literal["auto"] | None
    ) = None

    @field_validator("balance_weight", "max_distance_km")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("tier_weights_km")
    @classmethod
    def _weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for tier, km in (value or {}).items():
            if tier not in BUILT_IN_TIERS:
                raise ValueError(f"unknown tier {tier!r}; use {', '.join(BUILT_IN_TIERS)}")
            if not (math.isfinite(km) and 0 <= km <= MAX_VALUE_KM):
                raise ValueError(f"a tier weight is 0 to {MAX_VALUE_KM:g} km")
        return value


class BranchLoad(BaseModel):
    code: str
    capacity: int
    load: int
    # Issue 15.3: one more unit of capacity here saves this many km / takes in this many
    # leads, for at least `shadow_price_holds_for` units (null: every unit). Null throughout
    # when the round has no exact prices; absent in rounds solved before they existed.
    shadow_price_km: float | None = None
    marginal_leads: int | None = None
    shadow_price_holds_for: int | None = None
    # Issue 16.2: places the round kept free for arrivals (null: it kept none).
    kept_for_arrivals: int | None = None


class RoundRead(BaseModel):
    id: int
    status: str
    balance_weight: float
    max_distance_km: float | None
    solver_status: str | None
    pool_size: int
    assigned: int
    unassigned: int
    objective: float | None
    lower_bound: float | None
    gap: float | None
    solve_seconds: float | None
    branches: list[BranchLoad]
    report: dict[str, Any]
    created_by: str
    created_at: datetime
    committed_by: str | None
    committed_at: datetime | None


class AssignmentRead(BaseModel):
    lead_id: int
    branch_code: str | None
    distance_km: float | None
    cost: float | None
    reason: str | None
    explanation: str


class AssignmentList(BaseModel):
    items: list[AssignmentRead]
    total: int
