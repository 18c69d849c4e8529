"""Routing between rounds: the branch prices a committed round left, and HQ's on/off switch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.tables.base import UTCDateTime


class RoundBranchPrice(SQLModel, table=True):
    """A branch's price in km from the exact solve of a round (what a place there is worth).

    NULL: no place there could be freed at any cost (the solver's price reached its penalty).
    A round solved without exact prices has no rows: routing after it prices every branch 0.
    """

    __tablename__ = "round_branch_price"

    round_id: int = Field(foreign_key="allocation_round.id", primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    price_km: float | None = None


class RoutingSwitch(SQLModel, table=True):
    """A single row: whether new leads are routed at once (HQ may switch it off)."""

    __tablename__ = "routing_switch"

    id: int = Field(default=1, primary_key=True)
    enabled: bool = True
    changed_by: str | None = Field(default=None, max_length=64)
    changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
