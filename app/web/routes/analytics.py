"""The funnel page and its CSV (HQ and auditors: every lead; a branch: its own)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from app.analytics.export import csv_download
from app.analytics.funnel import BadFunnelQuery, Funnel
from app.analytics.service import funnel_for
from app.auth import Principal
from app.deps import SessionDep, SettingsDep
from app.web.form_fields import optional_day
from app.web.messages import error_text
from app.web.pages.funnel import DIMENSION_LABELS, funnel_view
from app.web.routes.base import page_router
from app.web.session import page_roles
from app.web.templating import render

router = page_router("/analytics")
Viewer = Annotated[Principal, page_roles("hq", "branch", "auditor")]
# Dates arrive as text: an empty or malformed field is shown back with a message, not a 422.
DateText = Annotated[str, Query(max_length=10)]


@router.get("/funnel")
def funnel_page(request: Request, viewer: Viewer, session: SessionDep, settings: SettingsDep,
                by: Annotated[str, Query(max_length=16)] = "channel", start: DateText = "",
                end: DateText = "") -> Response:  # fmt: skip
    form = {"by": by, "start": start, "end": end}
    page: dict[str, object] = {"form": form, "dimensions": DIMENSION_LABELS, "error": None}
    try:
        found = _funnel(session, viewer, settings, form)
    except BadFunnelQuery as refused:
        page |= {"error": error_text(refused), "view": None}
        return render(request, "funnel.html", page, status_code=422)
    return render(request, "funnel.html", page | {"view": funnel_view(session, found=found)})


@router.get("/funnel.csv")
def funnel_file(viewer: Viewer, session: SessionDep, settings: SettingsDep,
                by: Annotated[str, Query(max_length=16)] = "channel", start: DateText = "",
                end: DateText = "") -> Response:  # fmt: skip
    return csv_download(_funnel(session, viewer, settings, {"by": by, "start": start, "end": end}))


def _funnel(session: SessionDep, viewer: Principal, settings: SettingsDep,
            form: dict[str, str]) -> Funnel:  # fmt: skip
    return funnel_for(session, principal=viewer, settings=settings, by=form["by"],
                      start=_day(form["start"], "start"), end=_day(form["end"], "end"))  # fmt: skip


def _day(text: str, which: str) -> date | None:
    return optional_day(text, which=which, code="funnel.bad_date", error=BadFunnelQuery)
