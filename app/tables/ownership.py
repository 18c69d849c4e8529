"""Effective-dated ownership: which branch owned a lead (and its customer) when.

Intervals are half-open [valid_from, valid_to); an open interval has valid_to NULL. Revenue
is credited to the owner at its `occurred_at`, so these rows are never rewritten, only closed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime

OPEN_REASONS = ("round", "transfer", "linked", "routed")  # routed: between rounds, round_id
CLOSE_REASONS = ("returned", "reclaimed", "transferred", "repooled")


class Ownership(SQLModel, table=True):
    __tablename__ = "ownership"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="interval_not_empty"),
        CheckConstraint(
            "opened_by IN ('round', 'transfer', 'linked', 'routed')", name="opened_by_known"
        ),
        CheckConstraint(
            "close_reason IS NULL OR "
            "close_reason IN ('returned', 'reclaimed', 'transferred', 'repooled')",
            name="close_reason_known",
        ),
        CheckConstraint("(valid_to IS NULL) = (close_reason IS NULL)", name="closed_with_reason"),
        Index("ix_ownership_customer_valid_from", "customer_id", "valid_from"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    lead_id: int = Field(sa_column=Column(BigIntKey, ForeignKey("lead.id"), nullable=False))
    customer_id: int = Field(sa_column=Column(BigIntKey, ForeignKey("customer.id"), nullable=False))
    branch_id: int = Field(foreign_key="branch.id")  # no index: nothing looks it up by branch
    valid_from: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    valid_to: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    opened_by: str = Field(max_length=16)
    # The allocation round that opened it, or whose prices routed it (opened_by 'routed').
    round_id: int | None = Field(default=None)
    close_reason: str | None = Field(default=None, max_length=16)
