"""Finance: revenue imports, the ledger by month, period close, statements and exports.

The role rules are the ledger API's (`app.journal.routes`): finance writes, finance and
auditors read, everybody else is refused. Uploads and downloads go through the API's own
handlers, so the size limit, the audit records and the file bytes are the same.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.auth import Principal
from app.db import session_scope
from app.deps import SessionDep, SettingsDep
from app.errors import AppError, FileRejected
from app.journal import http_files, service
from app.web.pages.finance import imports_view, kpi_report, ledger_view, statements_view
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router("/finance")
Reader = Annotated[Principal, page_roles("finance", "auditor")]
KpiReader = Annotated[Principal, page_roles("finance", "auditor", "hq")]
FinanceForm = Annotated[Principal, form_roles("finance")]
PERIOD = r"^\d{4}-\d{2}$"
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
MAX_SHOWN_ERRORS = 200


@router.get("")
def finance_home() -> Response:
    return RedirectResponse("/finance/ledger", status_code=303)


@router.get("/imports")
def imports(
    request: Request, _reader: Reader, session: SessionDep, settings: SettingsDep, page: Page = 1
) -> Response:
    context = {"view": imports_view(session, page=page), "max_bytes": settings.max_upload_bytes}
    return render(request, "finance_imports.html", context)


@router.post("/imports")
def upload(
    request: Request, principal: FinanceForm, settings: SettingsDep, file: UploadFile
) -> Response:
    """Import in a unit of work of its own: a rejected file rolls back, nothing is written."""
    engine = request.app.state.engine
    context: dict[str, object] = {"max_bytes": settings.max_upload_bytes}
    status = 200
    try:
        with session_scope(engine) as session:
            result = http_files.import_uploaded_revenue(
                session, upload=file, actor=principal.username, settings=settings
            )
        context["result"] = result
    except FileRejected as exc:
        context["rejected"] = exc
        context["shown_errors"] = exc.errors[:MAX_SHOWN_ERRORS]
        status = exc.status
    except AppError as exc:  # too large, a closed period, another import writing
        context["problem"] = exc
        status = exc.status
    with session_scope(engine) as session:  # a fresh read: the list includes the new batch
        context["view"] = imports_view(session, page=1)
    return render(request, "finance_imports.html", context, status_code=status)


@router.get("/ledger")
def ledger(
    request: Request, _reader: Reader, session: SessionDep, period: PeriodQuery = None,
    done: Annotated[str, Query(pattern="^(closed)?$")] = "",
) -> Response:  # fmt: skip
    view = ledger_view(session, period=period)
    return render(request, "finance_ledger.html", {"view": view, "done": done})


@router.post("/close")
def close(
    request: Request,
    principal: FinanceForm,
    session: SessionDep,
    period: Annotated[str, Form(pattern=PERIOD)],
    confirm: Annotated[str, Form(pattern="^yes$")],
) -> Response:
    service.close_period(session, period=period, actor=principal.username)
    return RedirectResponse(f"/finance/ledger?period={period}&done=closed", status_code=303)


@router.get("/statements")
def statements(
    request: Request, _reader: Reader, session: SessionDep, period: PeriodQuery = None
) -> Response:
    view = statements_view(session, period=period)
    return render(request, "finance_statements.html", {"view": view})


@router.get("/statements/{period}/{branch_code}")
def statement_file(
    principal: Reader,
    session: SessionDep,
    period: Annotated[str, Path(pattern=PERIOD)],
    branch_code: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")],
) -> Response:
    body, sha256 = service.statement_text(session, period=period, branch_code=branch_code)
    name = f"statement-{period}-{branch_code}.csv"
    headers = {"X-Content-SHA256": sha256, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/export")
def export(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    period: Annotated[str, Query(pattern=PERIOD)],
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    layout: Annotated[str, Query(pattern="^(canonical|accountant)$")] = "canonical",
) -> Response:
    """The API's download (audited by the export service), behind the session cookie."""
    return http_files.export_download(
        session, period=period, fmt=format, layout=layout, actor=principal.username,
        settings=settings,
    )  # fmt: skip


@router.get("/kpi")
def kpi(request: Request, _reader: KpiReader, session: SessionDep) -> Response:
    """The channels' overlay points by month (the online department's KPI, never money)."""
    return render(request, "finance_kpi.html", {"report": kpi_report(session)})
