"""Ledger use cases as the API and the CLI call them; core errors become typed app errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from app import audit_chain
from app.config import Settings
from app.errors import AppError, Conflict, FileRejected, InvalidInput, NotFound
from app.imports.csvfile import ErrorCollector
from app.journal import approvals, closing, suspense, verify
from app.journal.export import period_file
from app.journal.policies import versions
from app.journal.policies.policy_file import draft_from, read_policy_file
from app.journal.revenue_import import importer
from app.journal.schemas import (
    CloseRead,
    CorrectionRequestList,
    CorrectionRequestRead,
    EntryRead,
    PolicyCreate,
    PolicyList,
    PolicyRead,
    PostingRead,
    RevenueImportRead,
    StatementList,
    StatementRead,
)
from app.journal.store import stored_entry
from app.tables.base import utcnow
from app.tables.correction import CorrectionRequestRow
from app.tables.journal import StatementRow
from coded_messages import message
from ledger.errors import InvalidPeriodError, LedgerError, PeriodClosedError
from ledger.periods import Period, is_prior_period_adjustment, parse_period


def period_from(text: str) -> Period:
    try:
        return parse_period(text)
    except InvalidPeriodError as exc:
        raise InvalidInput(exc.said or str(exc)) from None


def import_revenue(
    session: Session, *, path: Path, actor: str, file_name: str | None = None,
    batch_rows: int = 5_000, now: datetime | None = None,
    progress: importer.Progress | None = None, parse_workers: int = 1,
) -> RevenueImportRead:  # fmt: skip
    try:
        report = importer.import_revenue(
            session, path=path, actor=actor, file_name=file_name, batch_rows=batch_rows,
            now=now, progress=progress, parse_workers=parse_workers,
        )  # fmt: skip
    except PeriodClosedError as exc:
        raise Conflict(exc.said or str(exc)) from None
    except LedgerError as exc:
        raise InvalidInput(exc.said or str(exc)) from None
    except OperationalError as exc:
        # SQLite has one writer: an import racing another one may be told to try again.
        if "locked" in str(exc.orig):
            raise Conflict(message("import.busy")) from None
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
    audit_chain.seal_once_committed(session)  # the close's record joins the chain at once
    items = [
        StatementRead(branch_code=s.branch_code, period=str(s.period), sha256=s.sha256,
                      line_count=s.line_count, closing_fen=s.closing_fen)
        for s in built
    ]  # fmt: skip
    return CloseRead(period=str(target), statements=items)


class ExportTooLarge(AppError):
    status = 422
    code = "export_too_large"


def export_period(
    session: Session, *, period: str, fmt: str, out: Path, actor: str, layout: str = "canonical",
    max_rows: int | None = None,
) -> period_file.ExportResult:  # fmt: skip
    """Write the period's export; with `max_rows`, a larger one is refused before anything is
    written (the API builds a download whole; the CLI streams any size)."""
    if max_rows is not None:
        rows = period_file.count_rows(session, period=period_from(period))
        if rows > max_rows:
            raise ExportTooLarge(
                message("export.too_large", period=period, rows=rows, limit=max_rows)
            )
    if fmt not in period_file.FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(period_file.FORMATS)}")
    if layout not in period_file.LAYOUTS:
        raise InvalidInput(f"layout must be one of {', '.join(period_file.LAYOUTS)}")
    return period_file.export_period(
        session, period=period_from(period), fmt=fmt, out=out, actor=actor, layout=layout
    )


def list_statements(
    session: Session, *, period: str | None = None, branch_code: str | None = None
) -> StatementList:
    query = select(StatementRow).order_by(col(StatementRow.period), col(StatementRow.branch_code))
    if period is not None:
        query = query.where(StatementRow.period == str(period_from(period)))
    if branch_code is not None:
        query = query.where(StatementRow.branch_code == branch_code)
    items = [_read(s) for s in session.exec(query)]
    return StatementList(items=items, total=len(items))


def statement_text(session: Session, *, period: str, branch_code: str) -> tuple[str, str]:
    """(canonical text, sha256) of one stored statement."""
    query = select(StatementRow).where(
        StatementRow.period == str(period_from(period)), StatementRow.branch_code == branch_code
    )
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"no statement of {branch_code} for {period}")
    return found.body, found.sha256


def verify_ledger(session: Session) -> list[str]:
    return verify.verify_ledger(session)


def _read(row: StatementRow) -> StatementRead:
    return StatementRead(
        branch_code=row.branch_code, period=row.period, sha256=row.sha256,
        line_count=row.line_count, closing_fen=row.closing_fen,
    )  # fmt: skip


def list_policies(session: Session) -> PolicyList:
    rows = versions.stored_rows(session)
    ends = {p.policy_id: p.valid_to for p in versions.book_of(rows).policies}
    items = [
        PolicyRead(
            policy_id=r.policy_id, revenue_type=r.revenue_type, valid_from=r.valid_from,
            valid_to=ends[r.policy_id], branch_bps=r.branch_bps, hq_online_bps=r.hq_online_bps,
            overlay_bps=r.overlay_bps, reason=r.reason, created_by=r.created_by,
            created_at=r.created_at,
        )
        for r in rows
    ]  # fmt: skip
    return PolicyList(items=items, total=len(items))


def add_policy_file(
    session: Session, *, path: Path, actor: str, file_name: str | None = None
) -> PolicyList:
    """Store every policy of a JSON or CSV file, or none (FileRejected names each error)."""
    errors = ErrorCollector(file=file_name or path.name)
    drafts = read_policy_file(path, errors=errors)
    versions.add_policies(session, drafts=drafts, errors=errors, actor=actor)
    return list_policies(session)


def add_policy(session: Session, *, body: PolicyCreate, actor: str) -> PolicyRead:
    """The API's one version: refusals as one English line (`column: reason; ...`)."""
    try:
        return add_policy_fields(session, values=body.model_dump(), actor=actor)
    except FileRejected as exc:
        raise InvalidInput("; ".join(f"{e.column}: {e.reason}" for e in exc.errors)) from None


def add_policy_fields(session: Session, *, values: Mapping[str, Any], actor: str) -> PolicyRead:
    """Store one version from its fields (the API's body, the finance page's form), or raise
    FileRejected naming each bad field as a code (the page says it beside the field)."""
    errors = ErrorCollector(file="request")
    draft = draft_from(values, line=1, errors=errors)
    errors.raise_if_any()
    assert draft is not None  # no error was collected
    versions.add_policies(session, drafts=[draft], errors=errors, actor=actor)
    return next(p for p in list_policies(session).items if p.policy_id == draft.policy_id)


def reverse_entry(
    session: Session, *, entry_id: int, reason: str, actor: str, settings: Settings,
    now: datetime | None = None,
) -> EntryRead | CorrectionRequestRead:  # fmt: skip
    """Reverse the entry, or ask a second finance user to when it moves more than the
    approval threshold (`app.journal.approvals`)."""
    asked = approvals.Correction(
        kind=approvals.REVERSE, target=str(entry_id), reason=_reason(reason)
    )
    return _ask(session, asked, actor=actor, settings=settings, now=now)


def reverse_event_credit(
    session: Session, *, event_id: str, reason: str, actor: str, settings: Settings,
    now: datetime | None = None,
) -> EntryRead | CorrectionRequestRead:  # fmt: skip
    """The suspense workbench's reversal: the mirror of the event's crediting entry."""
    entry_id = suspense.credit_of(session, event_id=event_id)
    if entry_id is None:
        raise NotFound(message("ledger.no_event", event=event_id))
    return reverse_entry(session, entry_id=entry_id, reason=reason, actor=actor,
                         settings=settings, now=now)  # fmt: skip


def reclassify_event(
    session: Session, *, event_id: str, branch_code: str, reason: str, actor: str,
    settings: Settings, now: datetime | None = None,
) -> EntryRead | CorrectionRequestRead:  # fmt: skip
    """Move the event's suspense balance to the branch, or ask a second finance user to."""
    asked = approvals.Correction(kind=approvals.RECLASSIFY, target=event_id,
                                 reason=_reason(reason), branch_code=branch_code)  # fmt: skip
    return _ask(session, asked, actor=actor, settings=settings, now=now)


def _ask(
    session: Session, asked: approvals.Correction, *, actor: str, settings: Settings,
    now: datetime | None,
) -> EntryRead | CorrectionRequestRead:  # fmt: skip
    with _correction_errors():
        done = approvals.ask(session, correction=asked, actor=actor, now=now or utcnow(),
                             above_fen=settings.correction_approval_fen)  # fmt: skip
    if isinstance(done, CorrectionRequestRow):
        return correction_read(done)
    return _entry_read(done)


def approve_correction(
    session: Session, *, request_id: int, actor: str, now: datetime | None = None
) -> EntryRead:
    with _correction_errors():
        posted = approvals.approve(session, request_id=request_id, actor=actor, now=now or utcnow())
    return _entry_read(posted)


def reject_correction(
    session: Session, *, request_id: int, actor: str, now: datetime | None = None
) -> CorrectionRequestRead:
    row = approvals.reject(session, request_id=request_id, actor=actor, now=now or utcnow())
    return correction_read(row)


def list_corrections(
    session: Session, *, pending_only: bool = False, limit: int = 200
) -> CorrectionRequestList:
    items = [correction_read(r) for r in approvals.requests(session, pending_only=pending_only,
                                                              limit=limit)]  # fmt: skip
    return CorrectionRequestList(items=items, total=len(items))


def correction_read(row: CorrectionRequestRow) -> CorrectionRequestRead:
    assert row.id is not None  # flushed
    return CorrectionRequestRead(
        id=row.id, kind=row.kind, target=row.target, branch_code=row.branch_code,
        amount_fen=row.amount_fen, reason=row.reason, requested_by=row.requested_by,
        requested_at=row.requested_at, status=row.status, decided_by=row.decided_by,
        decided_at=row.decided_at, entry_id=row.entry_id,
    )  # fmt: skip


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason or len(reason) > 200 or not reason.isprintable():
        raise InvalidInput(message("ledger.bad_reason"))
    return reason


@contextmanager
def _correction_errors() -> Iterator[None]:
    """Core and database refusals of a correction, as typed app errors."""
    try:
        yield
    except PeriodClosedError as exc:
        raise Conflict(exc.said or str(exc)) from None
    except LedgerError as exc:
        raise InvalidInput(exc.said or str(exc)) from None
    except IntegrityError:
        raise Conflict(message("ledger.posted_concurrently")) from None
    except OperationalError as exc:
        if "locked" in str(exc.orig):
            raise Conflict(message("ledger.write_busy")) from None
        raise


def _entry_read(written: stored_entry.StoredEntry) -> EntryRead:
    entry = written.entry
    return EntryRead(
        id=written.entry_id, business_key=entry.business_key, kind=entry.kind.value,
        event_id=entry.event_id, reverses=entry.reverses, occurred_at=entry.occurred_at,
        posted_at=written.posted_at, period=str(written.period),
        prior_period_adjustment=is_prior_period_adjustment(
            occurred_at=entry.occurred_at, period=written.period
        ),
        memo=entry.memo[:300],
        postings=[PostingRead(account=p.account.code, unit=p.unit.value, amount=p.amount)
                  for p in entry.postings],
    )  # fmt: skip
