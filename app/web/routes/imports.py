"""HQ uploads lead and branch files (CSV in UTF-8 or GBK, or XLSX) and sees the report.

The uploads go through the API's own service (`app.imports.service`): the same size limit,
importers, audit records and errors. Each import runs in a unit of work of its own, so a
rejected file rolls back whole and the page can still list the past imports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.auth import Principal
from app.config import Settings
from app.db import session_scope
from app.deps import SessionDep, SettingsDep
from app.errors import AppError, FileRejected
from app.imports import service
from app.imports.examples import example_csv
from app.imports.job import is_big, start_lead_import_job
from app.imports.report import ImportReport
from app.imports.schemas import EncodingField
from app.web.pages.imports import recent_imports
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router("/hq/imports")
HqPage = Annotated[Principal, page_roles("hq")]
HqForm = Annotated[Principal, form_roles("hq")]
EncodingChoice = Annotated[EncodingField, Form()]
MAX_SHOWN_ERRORS = 200


@router.get("")
def imports_page(
    request: Request, _hq: HqPage, session: SessionDep, settings: SettingsDep
) -> Response:
    context = {"max_bytes": settings.max_upload_bytes, "recent": recent_imports(session)}
    return render(request, "hq_imports.html", context)


@router.post("/leads")
def upload_leads(
    request: Request, principal: HqForm, settings: SettingsDep, file: UploadFile,
    encoding: EncodingChoice = "auto",
    channel: Annotated[str, Form(max_length=64)] = "",
) -> Response:  # fmt: skip
    if is_big(file, settings):  # minutes of work: a job, whose page follows it
        return _queue(request, settings, file=file, actor=principal.username,
                      channel=channel.strip() or None, encoding=encoding)  # fmt: skip

    def run(session: Session) -> ImportReport:
        return service.import_uploaded_leads(
            session, upload=file, actor=principal.username, settings=settings,
            channel=channel.strip() or None, reading=service.reading_of(encoding, "auto"),
        )  # fmt: skip

    return _import(request, settings, kind="leads", run=run)


@router.post("/branches")
def upload_branches(
    request: Request, principal: HqForm, settings: SettingsDep, file: UploadFile,
    encoding: EncodingChoice = "auto",
) -> Response:  # fmt: skip
    def run(session: Session) -> ImportReport:
        return service.import_uploaded_branches(
            session, upload=file, actor=principal.username, settings=settings,
            reading=service.reading_of(encoding, "auto"),
        )  # fmt: skip

    return _import(request, settings, kind="branches", run=run)


@router.get("/templates/leads.csv")
def leads_template(_hq: HqPage) -> Response:
    return _template("leads")


@router.get("/templates/branches.csv")
def branches_template(_hq: HqPage) -> Response:
    return _template("branches")


def _import(
    request: Request, settings: Settings, *, kind: str, run: Callable[[Session], ImportReport]
) -> Response:
    engine = request.app.state.engine
    context: dict[str, object] = {"max_bytes": settings.max_upload_bytes, "kind": kind}
    status = 200
    try:
        with session_scope(engine) as session:
            context["result"] = run(session)
    except FileRejected as exc:
        context["rejected"] = exc
        context["shown_errors"] = exc.errors[:MAX_SHOWN_ERRORS]
        status = exc.status
    except AppError as exc:  # too large, the database busy
        context["problem"] = exc
        status = exc.status
    return _page(request, context, status)


def _page(request: Request, context: dict[str, object], status: int) -> Response:
    with session_scope(request.app.state.engine) as session:  # a fresh read: this import too
        context["recent"] = recent_imports(session)
    return render(request, "hq_imports.html", context, status_code=status)


def _queue(
    request: Request, settings: Settings, *, file: UploadFile, actor: str, channel: str | None,
    encoding: str,
) -> Response:  # fmt: skip
    try:
        job_id = start_lead_import_job(
            request.app.state.engine, settings=settings, upload=file, actor=actor,
            channel=channel, encoding=encoding, file_format="auto",
        )  # fmt: skip
    except AppError as exc:  # too large, the database busy
        context = {"max_bytes": settings.max_upload_bytes, "kind": "leads", "problem": exc}
        return _page(request, context, exc.status)
    return RedirectResponse(f"/hq/jobs/{job_id}", status_code=303)


def _template(kind: str) -> Response:
    disposition = f'attachment; filename="{kind}-template.csv"'
    return Response(
        example_csv(kind), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )  # fmt: skip
