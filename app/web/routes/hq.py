"""Headquarters pages: the lead pool and lead search (HQ, auditors); the branches page is
app/web/routes/branches.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from app.auth import Principal
from app.deps import SessionDep, SettingsDep
from app.leads import service
from app.leads.repository import LeadFilter
from app.leads.schemas import LeadList
from app.tables.lead import LEAD_STATUSES
from app.web.pages.hq import POOL_STATUSES, pool_summary
from app.web.routes.base import page_router
from app.web.session import page_roles
from app.web.templating import render

router = page_router("/hq")
Viewer = Annotated[Principal, page_roles("hq", "auditor")]
StatusParam = Annotated[str, Query(pattern="^(" + "|".join(("", *LEAD_STATUSES)) + ")$")]


@router.get("/leads")
def leads(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    status: StatusParam = "",
    channel: Annotated[str, Query(max_length=64)] = "",
    tier: Annotated[str, Query(max_length=32)] = "",
    branch: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    sort: Annotated[str, Query(pattern="^(id|oldest|newest)$")] = "id",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    flt = LeadFilter(status=status or None, channel=channel or None, tier=tier or None,
                     branch_code=branch.strip() or None, sort=sort,
                     search=q.strip() or None)  # fmt: skip
    size = settings.default_page_size

    def page_of(n: int) -> LeadList:
        return service.list_leads(session, principal=viewer, flt=flt, limit=size,
                                  offset=(n - 1) * size, max_limit=settings.max_page_size,
                                  secret=settings.customer_key)  # fmt: skip

    found, asked = page_of(page), page
    pages = max((found.total + size - 1) // size, 1)
    if page > pages:  # past the end (a stale link, a typed number): show the last page
        page = pages
        found = page_of(page)
    context = {"found": found, "flt": flt, "page": page, "pages": pages, "asked": asked}
    return render(request, "hq_leads.html", context)


@router.get("/pool")
def pool(request: Request, _viewer: Viewer, session: SessionDep) -> Response:
    summary = pool_summary(session)
    return render(request, "hq_pool.html", {"pool": summary, "pool_statuses": POOL_STATUSES})
