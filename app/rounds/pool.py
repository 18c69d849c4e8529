"""The pool of a round: which leads are up for allocation and how much room each branch has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.tables import Branch, Lead, Ownership

POOL_STATUSES = ("new", "returned", "reclaimed")
OPEN_STATUSES = ("assigned", "contacted")


@dataclass(frozen=True, slots=True)
class PoolLead:
    id: int
    lat: float | None
    lon: float | None
    tier: str
    region_code: str | None
    returned_by_branch_id: int | None
    stale_branch_id: int | None  # set when an uncontacted assignment is being reclaimed
    customer_id: int | None = None


def stale_condition(*, deadline: datetime) -> ColumnElement[bool]:
    """Assigned, never contacted, and past the follow-up deadline: reclaimed by the next round."""
    return and_(
        col(Lead.status) == "assigned",
        col(Lead.contacted_at).is_(None),
        col(Lead.assigned_at) < deadline,
    )


def pool_condition(*, deadline: datetime) -> ColumnElement[bool]:
    """Pooled or stale leads, except those whose customer is owned through another lead."""
    owned_elsewhere = (
        select(Ownership.id)
        .where(col(Ownership.customer_id) == col(Lead.customer_id))
        .where(col(Ownership.valid_to).is_(None), col(Ownership.lead_id) != col(Lead.id))
        .exists()
    )
    return and_(
        or_(col(Lead.status).in_(POOL_STATUSES), stale_condition(deadline=deadline)),
        ~owned_elsewhere,
    )


def load_pool(session: Session, *, now: datetime, followup_hours: int) -> list[PoolLead]:
    deadline = now - timedelta(hours=followup_hours)
    query = (
        sa_select(
            col(Lead.id),
            col(Lead.lat),
            col(Lead.lon),
            col(Lead.tier),
            col(Lead.region_code),
            col(Lead.returned_by_branch_id),
            col(Lead.status),
            col(Lead.branch_id),
            col(Lead.customer_id),
        )
        .where(pool_condition(deadline=deadline))
        .order_by(col(Lead.id))
    )
    return [
        PoolLead(
            id=row[0],
            lat=row[1],
            lon=row[2],
            tier=row[3],
            region_code=row[4],
            returned_by_branch_id=row[5],
            stale_branch_id=row[7] if row[6] == "assigned" else None,
            customer_id=row[8],
        )
        for row in session.execute(query)
    ]


def split_by_customer(pool: list[PoolLead]) -> tuple[list[PoolLead], dict[int, int]]:
    """(one representative lead per customer, follower lead id -> representative lead id).

    Two pooled leads of one customer (acquired twice, through two channels) are one unit of
    follow-up: only the first goes to the solver and the others go where it goes.
    """
    first_of: dict[int, int] = {}
    representatives: list[PoolLead] = []
    followers: dict[int, int] = {}
    for lead in pool:
        if lead.customer_id is not None and lead.customer_id in first_of:
            followers[lead.id] = first_of[lead.customer_id]
            continue
        if lead.customer_id is not None:
            first_of[lead.customer_id] = lead.id
        representatives.append(lead)
    return representatives, followers


def remaining_capacity(session: Session, *, now: datetime, followup_hours: int) -> dict[int, int]:
    """capacity minus the open leads each branch holds (stale ones are about to leave)."""
    deadline = now - timedelta(hours=followup_hours)
    held = (
        select(Lead.branch_id, func.count())
        .where(col(Lead.status).in_(OPEN_STATUSES))
        .where(~stale_condition(deadline=deadline))
        .group_by(col(Lead.branch_id))
    )
    counts = {branch_id: int(n) for branch_id, n in session.exec(held)}
    return {
        branch.id: max(branch.capacity - counts.get(branch.id, 0), 0)
        for branch in session.exec(select(Branch))
        if branch.id is not None
    }
