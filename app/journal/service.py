"""Ledger use cases as the API and the CLI call them; core errors become typed app errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.errors import Conflict, InvalidInput, NotFound
from app.journal import closing, export, importer, verify
from app.journal.schemas import CloseRead, RevenueImportRead, StatementList, StatementRead
from app.tables.base import utcnow
from app.tables.journal import Statement
from ledger.errors import InvalidPeriodError, LedgerError, PeriodClosedError
from ledger.periods import Period, parse_period


def period_from(text: str) -> Period:
    try:
        return parse_period(text)
    except InvalidPeriodError as exc:
        raise InvalidInput(str(exc)) from None


def import_revenue(
    session: Session, *, path: Path, actor: str, file_name: str | None = None,
    batch_rows: int = 5_000, now: datetime | None = None,
    progress: importer.Progress | None = None,
) -> RevenueImportRead:  # fmt: skip
    try:
        report = importer.import_revenue(
            session, path=path, actor=actor, file_name=file_name, batch_rows=batch_rows,
            now=now, progress=progress,
        )  # fmt: skip
    except PeriodClosedError as exc:
        raise Conflict(str(exc)) from None
    except LedgerError as exc:
        raise InvalidInput(str(exc)) from None
    except OperationalError as exc:
        # SQLite has one writer: an import racing another one may be told to try again.
        if "locked" in str(exc.orig):
            raise Conflict("another ledger write is in progress; retry the import") from None
        raise
    t = report.totals
    return RevenueImportRead(
        file=report.file, rows=report.rows, new_events=report.new_events,
        unchanged=report.unchanged, batch_id=report.batch_id, imported_fen=t.imported_fen,
        branches_fen=t.branches_fen, hq_fen=t.hq_fen, suspense_fen=t.suspense_fen,
        seconds=round(report.seconds, 3),
    )  # fmt: skip


def close_period(
    session: Session, *, period: str, actor: str, now: datetime | None = None
) -> CloseRead:
    target = period_from(period)
    built = closing.close_period(session, period=target, actor=actor, now=now or utcnow())
    items = [
        StatementRead(branch_code=s.branch_code, period=str(s.period), sha256=s.sha256,
                      line_count=s.line_count, closing_fen=s.closing_fen)
        for s in built
    ]  # fmt: skip
    return CloseRead(period=str(target), statements=items)


def export_period(
    session: Session, *, period: str, fmt: str, out: Path, actor: str
) -> export.ExportResult:
    if fmt not in export.FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(export.FORMATS)}")
    return export.export_period(session, period=period_from(period), fmt=fmt, out=out, actor=actor)


def list_statements(
    session: Session, *, period: str | None = None, branch_code: str | None = None
) -> StatementList:
    query = select(Statement).order_by(col(Statement.period), col(Statement.branch_code))
    if period is not None:
        query = query.where(Statement.period == str(period_from(period)))
    if branch_code is not None:
        query = query.where(Statement.branch_code == branch_code)
    items = [_read(s) for s in session.exec(query)]
    return StatementList(items=items, total=len(items))


def statement_text(session: Session, *, period: str, branch_code: str) -> tuple[str, str]:
    """(canonical text, sha256) of one stored statement."""
    query = select(Statement).where(
        Statement.period == str(period_from(period)), Statement.branch_code == branch_code
    )
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"no statement of {branch_code} for {period}")
    return found.body, found.sha256


def verify_ledger(session: Session) -> list[str]:
    return verify.verify_ledger(session)


def _read(row: Statement) -> StatementRead:
    return StatementRead(
        branch_code=row.branch_code, period=row.period, sha256=row.sha256,
        line_count=row.line_count, closing_fen=row.closing_fen,
    )  # fmt: skip
