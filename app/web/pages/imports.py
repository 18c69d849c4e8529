"""The import page's read model: the latest lead and branch imports, from the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.tables import AuditRecord

IMPORT_ACTIONS = ("import.leads", "import.branches")


@dataclass(frozen=True, slots=True)
class PastImport:
    at: datetime
    actor: str
    kind: str  # "leads" or "branches"
    file: str
    file_format: str
    encoding: str | None
    sheet: str | None
    rows: int
    inserted: int
    updated: int


def recent_imports(session: Session, *, limit: int = 10) -> list[PastImport]:
    """The latest imports, newest first, whoever made them (CLI, API or this page)."""
    records = session.exec(
        select(AuditRecord)
        .where(col(AuditRecord.action).in_(IMPORT_ACTIONS))
        .order_by(col(AuditRecord.id).desc())
        .limit(limit)
    )
    return [_past(record) for record in records]


def _past(record: AuditRecord) -> PastImport:
    detail = json.loads(record.detail)
    return PastImport(
        at=record.at, actor=record.actor, kind=record.action.removeprefix("import."),
        file=str(detail.get("file", "")), file_format=str(detail.get("format", "csv")),
        encoding=detail.get("encoding", "utf-8"), sheet=detail.get("sheet"),
        rows=int(detail.get("rows", 0)), inserted=int(detail.get("inserted", 0)),
        updated=int(detail.get("updated", 0)),
    )  # fmt: skip
