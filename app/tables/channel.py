"""API keys of channel systems (app, WeChat mini program, partners) that push leads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.tables.base import UTCDateTime, utcnow


class ChannelKey(SQLModel, table=True):
    """One key of one channel. Only a hash of the secret is stored; revoked keys stay."""

    __tablename__ = "channel_key"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=16, unique=True)  # the public part, shown in lists and logs
    channel: str = Field(max_length=64, index=True)
    secret_sha256: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
