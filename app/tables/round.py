"""Allocation rounds, their assignments, and the lock that lets only one round run at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Text
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime, utcnow

ROUND_STATUSES = ("draft", "solved", "committed", "cancelled")


class AllocationRound(SQLModel, table=True):
    __tablename__ = "allocation_round"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'solved', 'committed', 'cancelled')", name="status_known"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="draft", max_length=16, index=True)
    method: str = Field(default="optimal", max_length=16)
    balance_weight: float = 0.0
    max_distance_km: float | None = None
    solver_status: str | None = Field(default=None, max_length=16)
    pool_size: int = 0
    assigned: int = 0
    unassigned: int = 0
    objective: float | None = None
    lower_bound: float | None = None
    gap: float | None = None
    solve_seconds: float | None = None
    report: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # REPORT.json fields
    # Branch specs and parameters as solved: with the leads' classes, enough to replay the round.
    instance: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    committed_by: str | None = Field(default=None, max_length=64)
    committed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )


class RoundAssignment(SQLModel, table=True):
    """One pooled lead's outcome in a round (kept for drafts too: the preview)."""

    __tablename__ = "round_assignment"

    round_id: int = Field(foreign_key="allocation_round.id", primary_key=True)
    lead_id: int = Field(sa_column=Column(BigIntKey, ForeignKey("lead.id"), primary_key=True))
    # The lead's customer, as the round read it: the commit opens, closes and counts owners by
    # customer without looking each lead up again. The database refuses any other customer
    # than the lead's (migration 0039).
    customer_id: int = Field(sa_column=Column(BigIntKey, nullable=False))
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    distance_km: float | None = None
    cost: float | None = None
    reason: str | None = Field(default=None, max_length=32)
    explanation: str = Field(default="", max_length=200)  # in English, as the API says it
    # The same as a code and its values (JSON), which the pages say in Chinese; NULL: none.
    explanation_code: str | None = Field(default=None, max_length=32)
    explanation_params: str | None = Field(default=None, max_length=200)
    # Another pooled lead of the same customer: this one goes wherever that one goes and gets
    # no ownership interval of its own (a customer has one owner at a time).
    follows_lead_id: int | None = Field(default=None, sa_column=Column(BigIntKey, nullable=True))
    lead_class: str | None = Field(default=None, max_length=100)  # tier (or exclusion class) solved


class RoundLock(SQLModel, table=True):
    """A single row: who is solving or committing a round now (NULL holder = free)."""

    __tablename__ = "round_lock"

    id: int = Field(default=1, primary_key=True)
    holder: str | None = Field(default=None, max_length=64)
    acquired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
