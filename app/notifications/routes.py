"""HTTP: a branch's notifications (GET /api/v1/notifications, POST .../{id}/read) and HQ's view
of webhook deliveries with the dead letters (GET .../deliveries, POST .../{id}/retry)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from app.auth import Principal, require_roles
from app.deps import SessionDep
from app.ids import NotificationId as Id
from app.notifications import inbox, outbox
from app.notifications.schemas import DeliveryList, NotificationList, NotificationRead

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Worker = Annotated[Principal, require_roles("branch")]
Overseer = Annotated[Principal, require_roles("hq", "auditor")]
HQ = Annotated[Principal, require_roles("hq")]


@router.get("", response_model=NotificationList)
def list_notifications(principal: Worker, session: SessionDep) -> NotificationList:
    return inbox.list_unread(session, principal=principal)


@router.post("/{notification_id}/read", response_model=NotificationRead)
def mark_read(notification_id: Id, principal: Worker, session: SessionDep) -> NotificationRead:
    return inbox.mark_read(session, principal=principal, notification_id=notification_id)


@router.get("/deliveries", response_model=DeliveryList)
def deliveries(_principal: Overseer, session: SessionDep) -> DeliveryList:
    return outbox.deliveries(session)


@router.post("/deliveries/{delivery_id}/retry", status_code=204)
def retry(delivery_id: Id, principal: HQ, session: SessionDep) -> Response:
    outbox.retry_dead(session, delivery_id=delivery_id, actor=principal.username)
    return Response(status_code=204)
