"""A branch's notifications: the unread ones, and marking one read.

Scoping is one rule, as for leads (`app.leads.repository.visible_leads`): a branch user sees
only its branch's notifications, anyone else none, and a foreign notification answers the
same 404 as a missing one.
"""

from __future__ import annotations

import json

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.auth import Principal
from app.errors import NotFound
from app.messages import in_english
from app.notifications.schemas import NotificationList, NotificationRead
from app.notifications.writing import LEAD_IDS_SHOWN
from app.tables import Notification
from app.tables.base import utcnow
from coded_messages import Message, message

INBOX_SIZE = 50
KIND_CODES = {"assigned": "notice.assigned", "deadline_approaching":
              "notice.deadline_approaching", "reclaimed": "notice.reclaimed"}  # fmt: skip


def visible_notifications(principal: Principal) -> SelectOfScalar[Notification]:
    """The one scoping rule: a branch user's own branch's notifications; nobody else's."""
    branch_id = principal.branch_id if principal.is_branch else None
    return select(Notification).where(col(Notification.branch_id) == branch_id)


def notice_message(row: Notification) -> Message:
    return message(KIND_CODES[row.kind], count=row.lead_count, via=row.source)


def unread(session: Session, *, principal: Principal) -> tuple[list[Notification], int]:
    """The newest unread notifications (at most INBOX_SIZE) and how many are unread."""
    query = visible_notifications(principal).where(col(Notification.read_at).is_(None))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Notification.id).desc()).limit(INBOX_SIZE)).all()
    return list(rows), int(total)


def list_unread(session: Session, *, principal: Principal) -> NotificationList:
    rows, total = unread(session, principal=principal)
    return NotificationList(items=[notification_read(row) for row in rows], unread=total)


def mark_read(session: Session, *, principal: Principal, notification_id: int) -> NotificationRead:
    """Mark one of the branch's notifications read (again: no change); `read_by` says who."""
    query = visible_notifications(principal).where(col(Notification.id) == notification_id)
    row = session.exec(query).one_or_none()
    if row is None:
        raise NotFound(f"notification {notification_id} not found")
    if row.read_at is None:
        row.read_at, row.read_by = utcnow(), principal.username
        session.add(row)
        session.flush()
    return notification_read(row)


def notification_read(row: Notification) -> NotificationRead:
    assert row.id is not None
    lead_ids = sorted(json.loads(row.lead_ids))
    return NotificationRead(
        id=row.id, kind=row.kind, source=row.source, round_id=row.round_id,
        lead_count=row.lead_count, lead_ids=lead_ids,
        lead_ids_truncated=row.lead_count > min(len(lead_ids), LEAD_IDS_SHOWN),
        text=in_english(notice_message(row)), created_at=row.created_at, read_at=row.read_at,
    )  # fmt: skip
