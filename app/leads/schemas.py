"""API shapes for leads (never the table itself)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LeadRead(BaseModel):
    id: int
    external_id: str
    channel: str
    name: str | None
    # The person's data was erased (PIPL): name shows "(erased)", mobile and lat/lon are empty.
    erased: bool = False
    tier: str
    status: str
    branch_code: str | None
    mobile: str | None
    lat: float | None
    lon: float | None
    region_code: str | None
    location_source: str | None
    acquired_at: datetime | None
    # How the customer's current owner got it: round, routed (between rounds, at the last
    # round's prices), transfer or linked. Set on the single-lead read only; null in lists.
    assigned_by: str | None = None


class LeadList(BaseModel):
    items: list[LeadRead]
    total: int
    limit: int
    offset: int


class ReturnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    reason: str = Field(min_length=1, max_length=500)
    # Transfer even to a full branch or one not serving the customer's tier (audited).
    override: bool = False


class RevealedMobile(BaseModel):
    id: int
    mobile: str | None
