"""What a channel system sends and gets back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH = 1_000


class IntakeLead(BaseModel):
    """One lead, with the columns of a lead import file (validated by the same rules)."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    mobile: str | None = Field(default=None, max_length=32)
    tier: str | None = Field(default=None, max_length=32)
    lat: float | None = Field(default=None, allow_inf_nan=False)
    lon: float | None = Field(default=None, allow_inf_nan=False)
    region_code: str | None = Field(default=None, max_length=6)
    id_card: str | None = Field(default=None, max_length=18)
    address: str | None = Field(default=None, max_length=500)
    acquired_at: str | None = Field(default=None, max_length=40)


class IntakeBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: list[IntakeLead] = Field(min_length=1, max_length=MAX_BATCH)


class IntakeOutcome(BaseModel):
    external_id: str
    lead_id: int
    outcome: Literal["created", "unchanged"]
    status: str
    branch_code: str | None  # the owner: the customer's, which it joined, or the routed one
    routed: bool = False  # assigned by this request at the last round's prices (issue 16.2)


class IntakeResult(BaseModel):
    channel: str
    created: int
    unchanged: int
    linked: int
    routed: int  # leads assigned at once (a routed customer's leads all count)
    leads: list[IntakeOutcome]
