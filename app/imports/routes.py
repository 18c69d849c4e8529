"""HTTP: HQ imports lead and branch files (CSV in UTF-8 or GBK, or XLSX), as the CLI does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile

from app.auth import Principal, require_roles
from app.deps import SessionDep, SettingsDep
from app.imports import service
from app.imports.schemas import EncodingField, FormatField, ImportReportRead

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])
HQ = Annotated[Principal, require_roles("hq")]
EncodingForm = Annotated[EncodingField, Form(description="Text encoding of a CSV file.")]
FormatForm = Annotated[
    FormatField, Form(alias="format", description="auto: a workbook by its content or name.")
]


@router.post("/leads", response_model=ImportReportRead)
def import_leads(
    file: UploadFile, principal: HQ, session: SessionDep, settings: SettingsDep,
    channel: Annotated[str | None, Form(max_length=64)] = None,
    encoding: EncodingForm = "auto", file_format: FormatForm = "auto",
) -> ImportReportRead:  # fmt: skip
    """Add new leads, idempotent by (channel, external_id); all or nothing (422 lists the rows)."""
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
