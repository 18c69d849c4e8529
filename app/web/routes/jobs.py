"""Jobs as HQ watches them: the job page (refreshing while the job runs) and its cancel button."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.auth import Principal
from app.deps import SessionDep
from app.ids import JobId
from app.jobs.service import cancel_job
from app.web.pages.jobs import job_page
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router("/hq/jobs")
Viewer = Annotated[Principal, page_roles("hq", "auditor")]
HqForm = Annotated[Principal, form_roles("hq")]
FollowParam = Annotated[int, Query(ge=0, le=1)]


@router.get("/{job_id}")
def job_detail(
    request: Request, job_id: JobId, _viewer: Viewer, session: SessionDep, follow: FollowParam = 0
) -> Response:
    """With `follow=1` (the page refreshing itself), a finished round job goes to its round."""
    view = job_page(session, job_id=job_id)
    if follow and view.leads_to:
        return RedirectResponse(view.leads_to, status_code=303)
    return render(request, "hq_job.html", {"view": view})


@router.post("/{job_id}/cancel")
def cancel(request: Request, job_id: JobId, _hq: HqForm) -> Response:
    cancel_job(request.app.state.engine, job_id=job_id)
    return RedirectResponse(f"/hq/jobs/{job_id}", status_code=303)
