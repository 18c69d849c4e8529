"""What-if scenarios HQ saved by name (issue 15.1), to run again or side by side."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.tables.base import UTCDateTime, utcnow


class SavedScenario(SQLModel, table=True):
    """The scenario's JSON as HQ typed it (valid when saved); saving a name again replaces it."""

    __tablename__ = "saved_scenario"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    saved_by: str = Field(max_length=64)
    saved_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
