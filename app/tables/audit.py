"""Append-only record of every state change and every reveal or export of personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
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


class AuditSeal(SQLModel, table=True):
    """One link of the hash chain over ``audit_log`` (app/audit_chain.py), append-only.

    ``hash`` is SHA-256 over the previous link's hash and the record's canonical bytes, so
    changing, removing or reordering a sealed record breaks every later link.
    """

    __tablename__ = "audit_seal"

    audit_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: str = Field(max_length=64)
    sealed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class AuditSealMark(SQLModel, table=True):
    """How far sealing may go once every transaction older than the mark has ended.

    Ids up to ``upto_id`` were handed out before transaction id ``xid_bound`` was; when no
    transaction below ``xid_bound`` is still running, no record with such an id can still
    appear (PostgreSQL; on SQLite a mark is final at once, ``xid_bound`` 0).
    """

    __tablename__ = "audit_seal_mark"

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    upto_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    xid_bound: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
