"""Long work (a round, a big import) run by a worker: the job's durable state.

The queue (huey) only carries a job's id; everything the pages and the CLI show lives here, on
either database. `lane` names work of which only one may be queued or running at once (a round):
a partial unique index refuses a second, atomically on both databases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.tables.base import UTCDateTime, utcnow

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = "status IN ('queued', 'running')"


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name="status_known",
        ),
        Index(
            "uq_job_one_active_per_lane",
            "lane",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    lane: str | None = Field(default=None, max_length=32)
    status: str = Field(default="queued", max_length=16, index=True)
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    # Progress: phase `step` of `steps`, and within it `done` of `total` (NULL: unknown).
    phase: str | None = Field(default=None, max_length=32)
    step: int = 0
    steps: int = 1
    done: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    total: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    result: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # e.g. the round id
    error_code: str | None = Field(default=None, max_length=64)
    error_params: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cancel_requested: bool = False
    attempts: int = 0
    worker: str | None = Field(default=None, max_length=128)
    requested_by: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The worker renews its lease while it runs; a lease past its end means the worker died.
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
