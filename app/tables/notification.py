"""Notifications to branches (the inbox) and their webhook deliveries (the outbox).

A notification summarises one event for one branch (a round's assignments, a real-time
assignment, leads near their deadline, leads reclaimed): the count and the first lead ids, not a
row per lead. Each notification gets one outbox row in the same transaction, so a rolled-back
event sends nothing and a committed one is delivered by `o2o notify run`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Text
from sqlmodel import Field, SQLModel

from app.tables.base import BigIntKey, UTCDateTime, utcnow

NOTIFICATION_KINDS = ("assigned", "deadline_approaching", "reclaimed")
NOTIFICATION_SOURCES = ("round", "routing", "followup")
DELIVERY_STATUSES = ("pending", "sent", "dead", "unrouted")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="kind_known"),
        CheckConstraint(_in("source", NOTIFICATION_SOURCES), name="source_known"),
        # The inbox: a branch's unread notifications, newest first.
        Index("ix_notification_branch_read", "branch_id", "read_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    branch_id: int = Field(foreign_key="branch.id")
    kind: str = Field(max_length=32)
    source: str = Field(max_length=16)
    round_id: int | None = Field(default=None, foreign_key="allocation_round.id")
    lead_count: int
    lead_ids: str = Field(sa_column=Column(Text, nullable=False))  # JSON: the first ids only
    # The set-based write that made it: its outbox rows are inserted from it in one statement.
    batch: str = Field(max_length=32, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    read_by: str | None = Field(default=None, max_length=64)


class NotificationOutbox(SQLModel, table=True):
    """One webhook delivery: due at `next_attempt_at` while pending; `dead` after the last try."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status_known"),
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True))
    notification_id: int = Field(
        sa_column=Column(BigIntKey, ForeignKey("notification.id"), nullable=False, unique=True)
    )
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class DeadlineWarning(SQLModel, table=True):
    """A lead warned of its deadline, once per assignment (`assigned_at` names the deadline)."""

    __tablename__ = "deadline_warning"

    lead_id: int = Field(sa_column=Column(BigIntKey, ForeignKey("lead.id"), primary_key=True))
    assigned_at: datetime = Field(sa_column=Column(UTCDateTime, primary_key=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
