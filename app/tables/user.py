"""Staff accounts and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, SQLModel

from app.tables.base import UTCDateTime, utcnow

ROLES = ("hq", "branch", "finance", "auditor")


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role IN ('hq', 'branch', 'finance', 'auditor')", name="role_known"),
        # A branch user belongs to exactly one branch; nobody else belongs to any.
        CheckConstraint(
            "(role = 'branch') = (branch_id IS NOT NULL)", name="branch_iff_branch_role"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    active: bool = Field(default=True)
    # Bumped on deactivation, branch move or password change: every token issued before dies.
    security_stamp: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
