"""The audit log page and its CSV export (HQ and auditors)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from app import audit
from app.audit_log import ACTION_GROUPS, AuditQuery, records_csv, search
from app.auth import Principal
from app.deps import SessionDep, SettingsDep
from app.errors import InvalidInput
from app.web.form_fields import optional_day
from app.web.messages import error_text
from app.web.routes.base import page_router
from app.web.session import page_roles
from app.web.templating import render
from coded_messages import message

router = page_router("/audit")
Reader = Annotated[Principal, page_roles("hq", "auditor")]
Text = Annotated[str, Query(max_length=64)]
PageParam = Annotated[int, Query(ge=1, le=1_000_000)]
MAX_EXPORT = 100_000  # records per download; narrow the search for more


@router.get("")
def audit_page(request: Request, _reader: Reader, session: SessionDep, settings: SettingsDep,
               actor: Text = "", action: Text = "", lead: Text = "", start: Text = "",
               end: Text = "", page: PageParam = 1) -> Response:  # fmt: skip
    form = {"actor": actor, "action": action, "lead": lead, "start": start, "end": end}
    context: dict[str, object] = {"form": form, "groups": ACTION_GROUPS, "error": None}
    try:
        query = _query(form)
    except InvalidInput as refused:
        context |= {"error": error_text(refused), "records": [], "total": 0, "page": 1,
                    "pages": 1}  # fmt: skip
        return render(request, "audit.html", context, status_code=422)
    size = settings.default_page_size
    records, total = search(session, query=query, limit=size, offset=(page - 1) * size)
    pages = max((total + size - 1) // size, 1)
    if page > pages:
        page = pages
        records, total = search(session, query=query, limit=size, offset=(page - 1) * size)
    context |= {"records": records, "total": total, "page": page, "pages": pages}
    return render(request, "audit.html", context)


@router.get("/export.csv")
def audit_export(reader: Reader, session: SessionDep, actor: Text = "", action: Text = "",
                 lead: Text = "", start: Text = "", end: Text = "") -> Response:  # fmt: skip
    form = {"actor": actor, "action": action, "lead": lead, "start": start, "end": end}
    records, total = search(session, query=_query(form), limit=MAX_EXPORT, offset=0)
    if total > MAX_EXPORT:
        raise InvalidInput(message("audit.too_many", total=total, max=MAX_EXPORT))
    audit.record(session, actor=reader.username, action="audit.exported", entity_type="audit_log",
                 detail={"filters": form, "records": total})  # fmt: skip
    headers = {"Content-Disposition": 'attachment; filename="audit-log.csv"'}
    return Response(records_csv(records), media_type="text/csv; charset=utf-8", headers=headers)


def _query(form: dict[str, str]) -> AuditQuery:
    lead = form["lead"].strip().lstrip("#")
    if lead and not lead.isdigit():
        raise InvalidInput(message("audit.bad_lead", text=lead))
    start, end = _day(form["start"], "start"), _day(form["end"], "end")
    # AuditQuery refuses an end before the start.
    return AuditQuery(actor=form["actor"].strip(), action=form["action"].strip(),
                      lead=int(lead) if lead else None, start=start, end=end)  # fmt: skip


def _day(text: str, which: str) -> date | None:
    return optional_day(text, which=which, code="audit.bad_date")
