"""Split policies: effective-dated, per revenue type, append-only (migration 0004).

A stored policy has only a start: it is in force from ``valid_from`` until the next version
of the same revenue type starts, so a new version supersedes the previous one from its
effective date without editing it. Shares are integer basis points; the branch and HQ online
shares total exactly 10,000 (checked here and, before that, by the core).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime, utcnow
from app.tables.journal import REVENUE_TYPES


class SplitPolicyRow(SQLModel, table=True):
    """One version of the split rule of one revenue type."""

    __tablename__ = "ledger_split_policy"
    __table_args__ = (
        UniqueConstraint("revenue_type", "valid_from"),
        CheckConstraint(
            "revenue_type IN (" + ", ".join(f"'{t}'" for t in REVENUE_TYPES) + ")",
            name="type_known",
        ),
        CheckConstraint("branch_bps >= 0 AND hq_online_bps >= 0", name="shares_non_negative"),
        CheckConstraint("branch_bps + hq_online_bps = 10000", name="shares_total_10000"),
        CheckConstraint("overlay_bps >= 0", name="overlay_non_negative"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    policy_id: str = Field(max_length=128, unique=True)
    revenue_type: str = Field(max_length=32)
    valid_from: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    branch_bps: int
    hq_online_bps: int
    overlay_bps: int
    reason: str = Field(default="", max_length=300)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
