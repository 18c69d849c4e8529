"""The branch inbox: the caller's own leads, oldest first, masked, with distance to the branch,
and the branch's unread notifications above them.

Reads go through `app.leads.repository.visible_leads`, the one scoping rule, so a branch user
sees exactly what the API would show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from allocation.geo import haversine_km
from app.auth import Principal
from app.leads.repository import visible_leads
from app.leads.search import search_condition
from app.leads.service import mask_mobile, shown_name
from app.notifications.inbox import notice_message, unread
from app.ownership.deadline import FollowUp
from app.privacy.cipher import MobileCipher, cipher_for
from app.tables import Branch, Lead
from app.tables.base import utcnow
from coded_messages import Message

INBOX_STATUSES = ("assigned", "contacted", "converted")
SORTS = ("oldest", "newest")


@dataclass(frozen=True, slots=True)
class InboxQuery:
    status: str | None = None
    sort: str = "oldest"
    page: int = 1
    page_size: int = 50
    search: str | None = None  # last four digits (or the whole number), a name, an external id


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    external_id: str
    name: str | None
    mobile: str | None
    status: str
    channel: str
    tier: str
    since: datetime | None
    distance_km: float | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    said: Message
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    counts: dict[str, int]
    query: InboxQuery
    pages: int
    notices: list[Notice]
    unread_notices: int


def _since() -> Any:
    """When the lead became this branch's job: assignment, else acquisition, else import."""
    return func.coalesce(Lead.assigned_at, Lead.acquired_at, Lead.created_at)


def status_counts(session: Session, *, principal: Principal) -> dict[str, int]:
    scoped = visible_leads(principal).subquery()
    query = select(scoped.c.status, func.count()).group_by(scoped.c.status)
    counts = dict.fromkeys(INBOX_STATUSES, 0)
    counts.update({status: int(n) for status, n in session.exec(query)})
    return counts


def _distance(lead: Lead, lat: float | None, lon: float | None) -> float | None:
    if lead.lat is None or lead.lon is None or lat is None or lon is None:
        return None
    return haversine_km(lead.lat, lead.lon, lat, lon)


def _row(
    lead: Lead, lat: float | None, lon: float | None, deadline: datetime, cipher: MobileCipher
) -> InboxRow:
    assert lead.id is not None
    since = lead.assigned_at or lead.acquired_at or lead.created_at
    return InboxRow(
        id=lead.id, external_id=lead.external_id, name=shown_name(lead.name, lead.erased_at),
        mobile=mask_mobile(cipher.open(lead.mobile)), status=lead.status, channel=lead.channel,
        tier=lead.tier, since=since, distance_km=_distance(lead, lat, lon),
        overdue=lead.status == "assigned" and since is not None and since < deadline,
    )  # fmt: skip


def inbox_page(
    session: Session, *, principal: Principal, query: InboxQuery, followup: FollowUp
) -> InboxPage:
    scoped = visible_leads(principal).add_columns(col(Branch.lat), col(Branch.lon))
    if query.status:
        scoped = scoped.where(Lead.status == query.status)
    if query.search:  # a branch's search opens its own numbers: no customer key needed
        scoped = scoped.where(search_condition(session, principal=principal, text=query.search,
                                               secret=b""))  # fmt: skip
    total = int(session.exec(select(func.count()).select_from(scoped.subquery())).one())
    pages = max((total + query.page_size - 1) // query.page_size, 1)
    page = min(query.page, pages)
    order = _since().asc() if query.sort == "oldest" else _since().desc()
    rows = session.exec(
        scoped.order_by(order, col(Lead.id))
        .limit(query.page_size)
        .offset((page - 1) * query.page_size)
    ).all()
    deadline = followup.cutoff(utcnow())
    notices, unread_notices = unread(session, principal=principal)
    return InboxPage(
        rows=[
            _row(lead, lat, lon, deadline, cipher_for(session)) for lead, _code, lat, lon in rows
        ],
        total=total,
        counts=status_counts(session, principal=principal),
        query=InboxQuery(query.status, query.sort, page, query.page_size, query.search),
        pages=pages,
        notices=[Notice(n.id or 0, notice_message(n), n.created_at) for n in notices],
        unread_notices=unread_notices,
    )


def overdue_count(session: Session, *, principal: Principal, followup: FollowUp) -> int:
    """Own leads still not contacted past the follow-up deadline (the next round reclaims them)."""
    deadline = followup.cutoff(utcnow())
    scoped = visible_leads(principal).where(Lead.status == "assigned", _since() < deadline)
    return int(session.exec(select(func.count()).select_from(scoped.subquery())).one())
