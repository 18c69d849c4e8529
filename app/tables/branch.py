"""Branch offices that receive leads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, SQLModel

from app.tables.base import UTCDateTime, utcnow


class Branch(SQLModel, table=True):
    __tablename__ = "branch"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
        CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="lat_lon_range"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    lat: float
    lon: float
    region_code: str | None = Field(default=None, max_length=6)
    capacity: int
    # `|`-separated tier names; empty means the branch serves every tier.
    tiers: str = Field(default="", max_length=200)
    active: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
