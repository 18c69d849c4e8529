"""Corrections waiting for a second finance user (issue 17.3, migration 0017).

A reversal or a reclassification that moves more than ``O2O_CORRECTION_APPROVAL_FEN`` is not
posted when it is asked for: it is stored here as pending, and posted only when a different
finance user approves it. The database refuses a decision by the requester whatever code
writes it, and holds at most one pending request per correction target.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, text
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime

CORRECTION_KINDS = ("reverse", "reclassify")
REQUEST_STATES = ("pending", "approved", "rejected")
PENDING = "status = 'pending'"


class CorrectionRequestRow(SQLModel, table=True):
    """One correction asked for by one finance user and decided by another."""

    __tablename__ = "ledger_correction_request"
    __table_args__ = (
        CheckConstraint("kind IN ('reverse', 'reclassify')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("(kind = 'reclassify') = (branch_code IS NOT NULL)", name="branch_named"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("(status = 'pending') = (decided_by IS NULL)", name="decided_when_done"),
        CheckConstraint("(status = 'approved') = (entry_id IS NOT NULL)", name="approved_posts"),
        # The second pair of eyes, in the database: nobody decides their own request.
        CheckConstraint("decided_by <> requested_by", name="four_eyes"),
        Index(  # one pending request per correction
            "uq_ledger_correction_request_pending",
            "kind",
            "target",
            unique=True,
            sqlite_where=text(PENDING),
            postgresql_where=text(PENDING),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    kind: str = Field(max_length=16)
    # The entry id of a reversal, the event id of a reclassification.
    target: str = Field(max_length=128)
    branch_code: str | None = Field(default=None, max_length=32)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(max_length=200)
    requested_by: str = Field(max_length=64)
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default="pending", max_length=16)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The entry the approval posted.
    entry_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
