"""Opening and closing a customer's ownership, and keeping its leads in agreement with it.

Intervals are never rewritten, only closed. A customer's leads move together: all of them carry
the owning branch while the customer has an owner, and all of them are back in the pool when it
has none (see `app.ownership.holdings` for load and eligibility).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, insert, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.ownership.holdings import HELD_STATUSES, POOL_STATUSES
from app.tables import Lead, Ownership


def siblings(session: Session, lead: Lead) -> list[Lead]:
    """All leads of the lead's customer, the lead itself included, in id order."""
    query = select(Lead).where(Lead.customer_id == lead.customer_id).order_by(col(Lead.id))
    return list(session.exec(query))


def open_interval(
    session: Session,
    *,
    lead: Lead,
    branch_id: int,
    at: datetime,
    opened_by: str,
    round_id: int | None = None,
) -> Ownership:
    assert lead.id is not None
    interval = Ownership(
        lead_id=lead.id,
        customer_id=lead.customer_id,
        branch_id=branch_id,
        valid_from=at,
        opened_by=opened_by,
        round_id=round_id,
    )
    session.add(interval)
    return interval


def close_customer_interval(session: Session, *, lead: Lead, at: datetime, reason: str) -> int:
    """End the current ownership of the lead's customer at `at`; returns intervals closed."""
    query = select(Ownership).where(_of_customer(lead), col(Ownership.valid_to).is_(None))
    closed = 0
    for interval in session.exec(query):
        interval.valid_to = at
        interval.close_reason = reason
        session.add(interval)
        closed += 1
    session.flush()
    return closed


def move_customer(
    session: Session, *, lead: Lead, branch_id: int, at: datetime, opened_by: str
) -> list[Lead]:
    """Give the lead's customer (all its leads) to a branch from `at`; returns the leads."""
    close_customer_interval(session, lead=lead, at=at, reason="transferred")
    return take_customer(session, lead=lead, branch_id=branch_id, at=at, opened_by=opened_by)


def take_customer(
    session: Session,
    *,
    lead: Lead,
    branch_id: int,
    at: datetime,
    opened_by: str,
    round_id: int | None = None,
) -> list[Lead]:
    """Give an ownerless customer (all its leads) to a branch from `at`; returns the leads."""
    open_interval(
        session, lead=lead, branch_id=branch_id, at=at, opened_by=opened_by, round_id=round_id
    )
    leads = siblings(session, lead)
    for each in leads:
        each.branch_id = branch_id
        each.assigned_at = at
        each.updated_at = at
        if each.status not in HELD_STATUSES:
            each.status = "assigned"
        session.add(each)
    session.flush()
    return leads


_OPEN_INTERVAL = insert(Ownership)
_TO_BRANCH = (
    update(Lead)
    .where(col(Lead.id).in_(bindparam("lead_ids", expanding=True)))
    .values(branch_id=bindparam("to_branch"), assigned_at=bindparam("at"),
            updated_at=bindparam("at"), status="assigned")
)  # fmt: skip


def take_pool_customer(
    session: Session,
    *,
    customer_id: int,
    lead_ids: Sequence[int],
    branch_id: int,
    at: datetime,
    opened_by: str,
    round_id: int | None = None,
) -> None:
    """`take_customer` for a customer whose leads, all in the pool, the caller holds by id (the
    first is the round's representative): two statements built once and no ORM objects, for
    routing's hot path. The caller's session must not hold these leads as objects (they would
    go stale)."""
    connection = session.connection()
    connection.execute(_OPEN_INTERVAL, {
        "lead_id": lead_ids[0], "customer_id": customer_id, "branch_id": branch_id,
        "valid_from": at, "opened_by": opened_by, "round_id": round_id,
    })  # fmt: skip
    connection.execute(_TO_BRANCH, {"lead_ids": list(lead_ids), "to_branch": branch_id, "at": at})


def release_customer(
    session: Session, *, lead: Lead, at: datetime, reason: str, status: str, note: str | None
) -> list[Lead]:
    """Close the customer's ownership and put all its leads back in the pool as `status`.

    The branch that let the customer go is remembered: a round never sends it back there.
    """
    close_customer_interval(session, lead=lead, at=at, reason=reason)
    leads = [each for each in siblings(session, lead) if each.branch_id is not None]
    for each in leads:
        each.returned_by_branch_id = each.branch_id
        each.return_reason = note
        each.branch_id = None
        each.status = status
        each.updated_at = at
        session.add(each)
    session.flush()
    return leads


def current_owner_opened_by(session: Session, lead: Lead) -> str | None:
    """How the open ownership of the lead's customer was opened (None: no owner)."""
    query = select(Ownership.opened_by).where(_of_customer(lead), col(Ownership.valid_to).is_(None))
    return session.exec(query).first()


def _of_customer(lead: Lead) -> ColumnElement[bool]:
    return col(Ownership.customer_id) == lead.customer_id


def owner_of_customer(customer: object) -> Select[Any]:
    """The open owner's branch id of a customer id expression."""
    return (
        sa_select(col(Ownership.branch_id))
        .where(col(Ownership.customer_id) == customer, col(Ownership.valid_to).is_(None))
        .limit(1)
    )


def follow_owners(session: Session, *, customers: Select[Any], at: datetime) -> int:
    """Leads of the given customers join the customer's open owner (set-based).

    This is how a later lead of a customer, or one left in the pool while its sibling was
    allocated, ends up where the customer is: one owner, and the lead records agree with it.
    """
    owner = owner_of_customer(col(Lead.customer_id)).scalar_subquery()
    pooled = col(Lead.status).in_(POOL_STATUSES)
    statement = (
        update(Lead)
        .where(col(Lead.customer_id).in_(customers))
        .where(owner.is_not(None))
        .where(or_(pooled, col(Lead.branch_id).is_(None), col(Lead.branch_id) != owner))
        .values(
            branch_id=owner,
            status=case((pooled, "assigned"), else_=col(Lead.status)),
            assigned_at=at,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def release_ownerless(
    session: Session, *, customers: Select[Any], at: datetime, status: str
) -> int:
    """Leads of the given customers that still show a branch the customer no longer has go
    back to the pool as `status` (set-based), remembering that branch."""
    has_owner = owner_of_customer(col(Lead.customer_id)).exists()
    statement = (
        update(Lead)
        .where(col(Lead.customer_id).in_(customers))
        .where(col(Lead.status).in_(HELD_STATUSES))
        .where(~has_owner)
        .values(
            returned_by_branch_id=col(Lead.branch_id),
            branch_id=None,
            status=status,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
