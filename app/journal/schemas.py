"""API schemas of the ledger (never table objects)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class RevenueImportRead(BaseModel):
    file: str
    rows: int
    new_events: int
    unchanged: int
    batch_id: int | None
    imported_fen: int
    branches_fen: int
    hq_fen: int
    suspense_fen: int
    seconds: float


class StatementRead(BaseModel):
    branch_code: str
    period: str
    sha256: str
    line_count: int
    closing_fen: int


class StatementList(BaseModel):
    items: list[StatementRead]
    total: int


class CloseRead(BaseModel):
    period: str
    statements: list[StatementRead]


class VerifyRead(BaseModel):
    ok: bool
    findings: list[str]


class PolicyCreate(BaseModel):
    """A new split-policy version; shares in basis points (10,000 = 100%)."""

    model_config = ConfigDict(extra="forbid")

    policy_id: str = Field(min_length=1, max_length=128)
    revenue_type: str = Field(max_length=32)
    valid_from: str = Field(
        max_length=40, description="ISO 8601; without an offset it is Asia/Shanghai time"
    )
    branch_bps: int = Field(ge=0, le=10_000)
    hq_online_bps: int = Field(ge=0, le=10_000)
    overlay_bps: int = Field(default=10_000, ge=0, le=1_000_000_000)
    reason: str = Field(default="", max_length=300)


class PolicyRead(BaseModel):
    policy_id: str
    revenue_type: str
    valid_from: datetime
    valid_to: datetime | None
    branch_bps: int
    hq_online_bps: int
    overlay_bps: int
    reason: str
    created_by: str
    created_at: datetime


class PolicyList(BaseModel):
    items: list[PolicyRead]
    total: int


class ReverseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


class ReclassifyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_code: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=200)


class PostingRead(BaseModel):
    account: str
    unit: str
    amount: int


class EntryRead(BaseModel):
    """A posted journal entry; ``amount`` is signed, debit positive."""

    id: int
    business_key: str
    kind: str
    event_id: str | None
    reverses: str | None
    occurred_at: datetime
    posted_at: datetime
    period: str
    prior_period_adjustment: bool
    memo: str
    postings: list[PostingRead]


class CorrectionRequestRead(BaseModel):
    """A correction above O2O_CORRECTION_APPROVAL_FEN: pending until another finance user
    approves it (then `entry_id` is the entry posted) or rejects it."""

    id: int
    kind: str  # reverse | reclassify
    target: str  # the entry id reversed, or the event id reclassified
    branch_code: str | None
    amount_fen: int
    reason: str
    requested_by: str
    requested_at: datetime
    status: str  # pending | approved | rejected
    decided_by: str | None
    decided_at: datetime | None
    entry_id: int | None


class CorrectionRequestList(BaseModel):
    items: list[CorrectionRequestRead]
    total: int
