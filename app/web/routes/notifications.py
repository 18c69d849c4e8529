"""Webhook deliveries for HQ (issue 16.4): counts by state, the dead letters, and a retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.auth import Principal
from app.deps import SessionDep
from app.ids import NotificationId as DeliveryId
from app.notifications.outbox import deliveries, retry_dead
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router("/hq/notifications")
Viewer = Annotated[Principal, page_roles("hq", "auditor")]
HqForm = Annotated[Principal, form_roles("hq")]


@router.get("")
def notifications_page(
    request: Request,
    _viewer: Viewer,
    session: SessionDep,
    done: Annotated[str, Query(pattern="^(retried)?$")] = "",
) -> Response:
    return render(request, "hq_notifications.html", {"view": deliveries(session), "done": done})


@router.post("/{delivery_id}/retry")
def retry(delivery_id: DeliveryId, hq: HqForm, session: SessionDep) -> Response:
    retry_dead(session, delivery_id=delivery_id, actor=hq.username)
    return RedirectResponse("/hq/notifications?done=retried", status_code=303)
