"""HTTP: finance imports revenue, closes months, downloads exports, adds split policies,
reverses entries and reclassifies suspense (above a threshold, with a second finance user's
approval); auditors read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse, Response

from app.auth import Principal, require_roles
from app.deps import SessionDep, SettingsDep
from app.journal import http_files, service
from app.journal.schemas import (
    CloseRead,
    CorrectionRequestList,
    CorrectionRequestRead,
    EntryRead,
    PolicyCreate,
    PolicyList,
    PolicyRead,
    ReclassifyCreate,
    RevenueImportRead,
    ReverseCreate,
    StatementList,
    VerifyRead,
)

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
Finance = Annotated[Principal, require_roles("finance")]
Reader = Annotated[Principal, require_roles("finance", "auditor")]
PeriodParam = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.post("/revenue-imports", response_model=RevenueImportRead)
def import_revenue(
    file: UploadFile, principal: Finance, session: SessionDep, settings: SettingsDep
) -> RevenueImportRead:
    return http_files.import_uploaded_revenue(
        session, upload=file, actor=principal.username, settings=settings
    )


@router.post("/periods/{period}/close", response_model=CloseRead)
def close_period(
    period: str, principal: Finance, session: SessionDep,
) -> CloseRead:  # fmt: skip
    return service.close_period(session, period=period, actor=principal.username)


@router.get("/export")
def export_period(
    period: PeriodParam,
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    layout: Annotated[str, Query(pattern="^(canonical|accountant)$")] = "canonical",
) -> FileResponse:
    return http_files.export_download(
        session, period=period, fmt=format, layout=layout, actor=principal.username,
        settings=settings,
    )  # fmt: skip


@router.get("/statements", response_model=StatementList)
def list_statements(
    principal: Reader,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    branch_code: Annotated[str | None, Query(max_length=32)] = None,
) -> StatementList:
    return service.list_statements(session, period=period, branch_code=branch_code)


# response_class=Response (no media type of its own), so the errors are documented as JSON.
_STATEMENT_CSV: dict[int | str, dict[str, Any]] = {
    200: {"description": "The statement, canonical CSV", "content": {"text/csv": {}}}
}


@router.get("/statements/{period}/{branch_code}", response_class=Response, responses=_STATEMENT_CSV)
def statement_text(
    period: str, branch_code: str, principal: Reader, session: SessionDep
) -> PlainTextResponse:
    body, sha256 = service.statement_text(session, period=period, branch_code=branch_code)
    return PlainTextResponse(
        body, media_type="text/csv; charset=utf-8", headers={"X-Content-SHA256": sha256}
    )


@router.get("/verify", response_model=VerifyRead)
def verify_ledger(principal: Reader, session: SessionDep) -> VerifyRead:
    findings = service.verify_ledger(session)
    return VerifyRead(ok=not findings, findings=findings)


@router.get("/policies", response_model=PolicyList)
def list_policies(principal: Reader, session: SessionDep) -> PolicyList:
    return service.list_policies(session)


@router.post("/policies", response_model=PolicyRead, status_code=201)
def add_policy(body: PolicyCreate, principal: Finance, session: SessionDep) -> PolicyRead:
    return service.add_policy(session, body=body, actor=principal.username)


# Above O2O_CORRECTION_APPROVAL_FEN a correction is stored for a second finance user: 202.
_PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": CorrectionRequestRead, "description": "Waiting for a second finance user"}
}


@router.post("/entries/{entry_id}/reverse", response_model=EntryRead | CorrectionRequestRead,
             status_code=201, responses=_PENDING)  # fmt: skip
def reverse_entry(
    entry_id: int, body: ReverseCreate, principal: Finance, session: SessionDep,
    settings: SettingsDep, response: Response,
) -> EntryRead | CorrectionRequestRead:  # fmt: skip
    done = service.reverse_entry(
        session, entry_id=entry_id, reason=body.reason, actor=principal.username,
        settings=settings,
    )  # fmt: skip
    return _pending_is_accepted(done, response)


@router.post("/events/{event_id}/reclassify", response_model=EntryRead | CorrectionRequestRead,
             status_code=201, responses=_PENDING)  # fmt: skip
def reclassify_event(
    event_id: str, body: ReclassifyCreate, principal: Finance, session: SessionDep,
    settings: SettingsDep, response: Response,
) -> EntryRead | CorrectionRequestRead:  # fmt: skip
    done = service.reclassify_event(
        session, event_id=event_id, branch_code=body.branch_code, reason=body.reason,
        actor=principal.username, settings=settings,
    )  # fmt: skip
    return _pending_is_accepted(done, response)


def _pending_is_accepted(
    done: EntryRead | CorrectionRequestRead, response: Response
) -> EntryRead | CorrectionRequestRead:
    if isinstance(done, CorrectionRequestRead):
        response.status_code = 202
    return done


@router.get("/corrections", response_model=CorrectionRequestList)
def list_corrections(
    principal: Reader, session: SessionDep, pending: bool = False
) -> CorrectionRequestList:
    return service.list_corrections(session, pending_only=pending)


@router.post("/corrections/{request_id}/approve", response_model=EntryRead, status_code=201)
def approve_correction(request_id: int, principal: Finance, session: SessionDep) -> EntryRead:
    """Post a pending correction; refused (403) to the finance user who asked for it."""
    return service.approve_correction(session, request_id=request_id, actor=principal.username)


@router.post("/corrections/{request_id}/reject", response_model=CorrectionRequestRead)
def reject_correction(
    request_id: int, principal: Finance, session: SessionDep
) -> CorrectionRequestRead:
    return service.reject_correction(session, request_id=request_id, actor=principal.username)
