"""Customers (one per keyed mobile hash) and the online-acquired leads that point at them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime, bytewise, utcnow

LEAD_STATUSES = ("new", "assigned", "contacted", "converted", "returned", "reclaimed")
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
        # Only columns that never change after import are indexed here: a round commit then
        # rewrites 1.3M leads in place (HOT, with room on each page for a second version of
        # every row: fillfactor 45, migration 0036)
        # instead of adding index entries. What is looked up by branch is in LeadPlacement.
        # A customer's leads move together (app/ownership): transfers, returns, linking.
        Index("ix_lead_customer_id", "customer_id"),
        {"postgresql_with": {"fillfactor": 45}},
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    # Compared byte by byte on PostgreSQL (migration 0037): the two are keys, never sorted for
    # people, and their indexes took each of 1.3M imported leads with strcoll comparisons.
    channel: str = Field(sa_column=Column(bytewise(64), nullable=False))
    external_id: str = Field(sa_column=Column(bytewise(128), nullable=False))
    # Every lead has one (migration 0024): without a mobile number, a customer of its own.
    customer_id: int = Field(sa_column=Column(BigIntKey, ForeignKey("customer.id"), nullable=False))
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


class LeadPlacement(SQLModel, table=True):
    """Where a placed lead is: one narrow row per lead with a branch, kept by the database
    (triggers on `lead`, migration 0025), never written by the application. It carries the
    indexes of everything read by branch (lead lists, loads), so that writing a lead's branch
    and status touches no index of the wide `lead` row."""

    __tablename__ = "lead_placement"
    __table_args__ = (
        # Branch lead lists: by status and age, by age alone, and by id (the key below; each
        # page of 50 is then an ordered index scan with a LIMIT, not a sort of thousands).
        Index("ix_lead_placement_branch_status_acquired", "branch_id", "status", "acquired_at"),
        Index("ix_lead_placement_branch_acquired", "branch_id", "acquired_at", "lead_id"),
        # Keyed by branch first: every read finds placements by branch, and the key then
        # serves the lists by id; keyed by lead, each placement written took one more index,
        # in random order (migration 0035).
        PrimaryKeyConstraint("branch_id", "lead_id", name="pk_lead_placement"),
    )

    lead_id: int = Field(sa_column=Column(BigIntKey, primary_key=True, autoincrement=False))
    branch_id: int = Field(primary_key=True)
    status: str = Field(max_length=16)
    acquired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    customer_id: int = Field(sa_column=Column(BigIntKey, nullable=False))
