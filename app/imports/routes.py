"""HTTP: HQ imports lead and branch files (CSV in UTF-8 or GBK, or XLSX), as the CLI does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile

from app.auth import Principal, require_roles
from app.deps import SessionDep, SettingsDep
from app.imports import service
from app.imports.job import start_lead_import_job
from app.imports.schemas import EncodingField, FormatField, ImportReportRead
from app.jobs.routes import queued_response
from app.jobs.schemas import JobRead

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])
HQ = Annotated[Principal, require_roles("hq")]
EncodingForm = Annotated[EncodingField, Form(description="Text encoding of a CSV file.")]
FormatForm = Annotated[
    FormatField, Form(alias="format", description="auto: a workbook by its content or name.")
]


@router.post(
    "/leads",
    response_model=ImportReportRead,
    responses={202: {"model": JobRead, "description": "Queued as a job (`?async=true`)."}},
)
def import_leads(
    file: UploadFile, principal: HQ, request: Request, session: SessionDep,
    settings: SettingsDep, channel: Annotated[str | None, Form(max_length=64)] = None,
    encoding: EncodingForm = "auto", file_format: FormatForm = "auto",
    run_async: Annotated[bool, Query(alias="async")] = False,
) -> Any:  # fmt: skip
    """Add new leads, idempotent by (channel, external_id); all or nothing (422 lists the rows).
    With `?async=true` the import is queued as a job: 202 and the job at `Location`."""
    if run_async:
        job_id = start_lead_import_job(
            request.app.state.engine, settings=settings, upload=file,
            actor=principal.username, channel=channel or None, encoding=encoding,
            file_format=file_format,
        )  # fmt: skip
        return queued_response(request.app.state.engine, job_id)
    report = service.import_uploaded_leads(
        session, upload=file, actor=principal.username, settings=settings,
        channel=channel or None, reading=service.reading_of(encoding, file_format),
    )  # fmt: skip
    return ImportReportRead.of(report)


@router.post("/branches", response_model=ImportReportRead)
def import_branches(
    file: UploadFile, principal: HQ, session: SessionDep, settings: SettingsDep,
    encoding: EncodingForm = "auto", file_format: FormatForm = "auto",
) -> ImportReportRead:  # fmt: skip
    """Upsert branches by code; all or nothing (422 lists the rows)."""
    report = service.import_uploaded_branches(
        session, upload=file, actor=principal.username, settings=settings,
        reading=service.reading_of(encoding, file_format),
    )  # fmt: skip
    return ImportReportRead.of(report)
