"""API schemas of the ledger (never table objects)."""

from __future__ import annotations

from pydantic import BaseModel


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
