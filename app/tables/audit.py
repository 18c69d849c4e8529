"""Append-only record of every state change and every reveal or export of personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime, utcnow


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=64)  # username, or "cli:<os user>" for terminal jobs
    action: str = Field(max_length=64, index=True)
    entity_type: str = Field(max_length=32)
    entity_id: str | None = Field(default=None, max_length=128)
    request_id: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
