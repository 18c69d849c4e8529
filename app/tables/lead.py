"""Customers (one per keyed mobile hash) and the online-acquired leads that point at them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime, utcnow

LEAD_STATUSES = ("new", "assigned", "contacted", "converted", "returned", "reclaimed")
FOLLOW_UP = "status IN ('assigned', 'contacted')"  # the statuses of holdings.FOLLOW_UP_STATUSES
CONVERTED = "status = 'converted'"
LOCATION_SOURCES = ("coordinates", "region_code", "mobile_prefix", "id_card", "address")


class Customer(SQLModel, table=True):
    __tablename__ = "customer"

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    # HMAC-SHA256 of the normalised mobile number: links a returning customer without
    # making the number itself the join key.
    customer_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        CheckConstraint(_in("status", LEAD_STATUSES), name="status_known"),
        CheckConstraint(
            "location_source IS NULL OR " + _in("location_source", LOCATION_SOURCES),
            name="location_source_known",
        ),
        CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),
        # Branch lead lists: by status and age, by age alone, and by id (each page of 50 is
        # then an ordered index scan with a LIMIT, not a sort of the branch's thousands).
        Index("ix_lead_branch_status_acquired", "branch_id", "status", "acquired_at"),
        Index("ix_lead_branch_acquired", "branch_id", "acquired_at", "id"),
        Index("ix_lead_branch_id", "branch_id", "id"),
        # A customer's leads move together (app/ownership): transfers, returns, linking.
        Index("ix_lead_customer_id", "customer_id"),
        # A branch's load (app/ownership/holdings.branch_load) read from the index alone: its
        # customers in follow-up, less those with a converted lead (migration 0022).
        Index("ix_lead_follow_up", "branch_id", "customer_id", "id", **_where(FOLLOW_UP)),
        Index("ix_lead_converted_customer", "customer_id", **_where(CONVERTED)),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    channel: str = Field(max_length=64)
    external_id: str = Field(max_length=128)
    customer_id: int | None = Field(
        default=None,
        sa_column=Column(BigIntKey, ForeignKey("customer.id"), nullable=True),
    )
    name: str | None = Field(default=None, max_length=200)
    # AES-GCM sealed ("v1:..."), see app/privacy/cipher.py; never compared or indexed.
    mobile: str | None = Field(default=None, max_length=80)
    tier: str = Field(default="mass", max_length=32)
    lat: float | None = None
    lon: float | None = None
    region_code: str | None = Field(default=None, max_length=6)
    location_source: str | None = Field(default=None, max_length=16)
    status: str = Field(default="new", max_length=16)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    # The branch that last returned this lead: a round never sends it back there automatically.
    returned_by_branch_id: int | None = Field(default=None, foreign_key="branch.id")
    return_reason: str | None = Field(default=None, max_length=500)
    assigned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    contacted_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    acquired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # Set when the person's data was erased (name, mobile, precise location blanked).
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
