"""Reading the audit log: search by user, action, lead and time, newest first; CSV export.

HQ and auditors read it (the routes check the role). Records are never changed; reading them
changes nothing, but an export is itself recorded (it copies personal data out).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.errors import InvalidInput
from app.tables import AuditRecord
from coded_messages import message
from ledger.periods import SHANGHAI
from spreadsheet_cells import escape_cell

ACTION_GROUPS = ("lead", "round", "ledger", "import", "intake", "followup", "auth", "user",
                 "channel", "privacy")  # fmt: skip
CSV_HEADER = ("id", "at", "actor", "action", "entity_type", "entity_id", "request_id", "detail")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str = ""  # exact username (or "cli:..." for terminal jobs)
    action: str = ""  # an action, or its group ("lead" finds "lead.returned", ...)
    lead: int | None = None  # records about this lead
    start: date | None = None  # Shanghai calendar days, inclusive
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise InvalidInput(message("audit.reversed", start=str(self.start), end=str(self.end)))


def search(
    session: Session, *, query: AuditQuery, limit: int, offset: int
) -> tuple[list[AuditRecord], int]:
    statement = _filtered(query)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    page = session.exec(statement.order_by(col(AuditRecord.id).desc()).limit(limit).offset(offset))
    return list(page), int(total)


def _filtered(query: AuditQuery) -> Any:
    statement = select(AuditRecord)
    if query.actor:
        statement = statement.where(col(AuditRecord.actor) == query.actor)
    if query.action:
        action = query.action
        statement = statement.where(
            (col(AuditRecord.action) == action)
            | col(AuditRecord.action).startswith(action + ".", autoescape=True)
        )
    if query.lead is not None:
        statement = statement.where(
            col(AuditRecord.entity_type) == "lead", col(AuditRecord.entity_id) == str(query.lead)
        )
    if query.start:
        statement = statement.where(col(AuditRecord.at) >= _day_start(query.start))
    if query.end:
        statement = statement.where(col(AuditRecord.at) < _day_start(query.end + timedelta(days=1)))
    return statement


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def records_csv(records: list[AuditRecord]) -> str:
    """Every column as stored; text cells escaped so a spreadsheet runs no formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in records:
        writer.writerow((r.id, r.at.isoformat(), escape_cell(r.actor), r.action, r.entity_type,
                         escape_cell(r.entity_id or ""), r.request_id or "",
                         escape_cell(r.detail)))  # fmt: skip
    return out.getvalue()
