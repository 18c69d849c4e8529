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
    assert lead.id is not None
    others = [each.id for each in siblings(session, lead) if each.id not in (lead.id, None)]
    take_customer(session, customer_id=lead.customer_id, lead_ids=[lead.id, *others],
                  branch_id=branch_id, at=at, opened_by=opened_by)  # fmt: skip
    query = select(Lead).where(Lead.customer_id == lead.customer_id).order_by(col(Lead.id))
    return list(session.exec(query.execution_options(populate_existing=True)))


_TO_BRANCH = (
    update(Lead)
    .where(col(Lead.id).in_(bindparam("lead_ids", expanding=True)))
    .values(branch_id=bindparam("to_branch"), assigned_at=bindparam("at"),
            updated_at=bindparam("at"),
            status=case((col(Lead.status).in_(HELD_STATUSES), col(Lead.status)), else_="assigned"))
)  # fmt: skip
_OPEN_INTERVAL = insert(Ownership).values(
    lead_id=bindparam("first_lead"), customer_id=bindparam("of_customer"),
    branch_id=bindparam("to_branch"), valid_from=bindparam("at"),
    opened_by=bindparam("opener"), round_id=bindparam("by_round"),
)  # fmt: skip
# PostgreSQL opens the interval and moves the leads in one statement (one round trip of a
# routed intake); SQLite has no writing CTE, so it runs the two in turn.
_TAKE = {
    "postgresql": (_TO_BRANCH.add_cte(_OPEN_INTERVAL.cte("opened")),),
    "sqlite": (_OPEN_INTERVAL, _TO_BRANCH),
}


def take_customer(
    session: Session,
    *,
    customer_id: int,
    lead_ids: Sequence[int],
    branch_id: int,
    at: datetime,
    opened_by: str,
    round_id: int | None = None,
) -> None:
    """Give an ownerless customer, all of whose leads the caller names by id (the first is the
    one its interval records), to a branch from `at`: the interval opens and every lead carries
    the branch, `assigned` unless a branch is already working it. Statements built once, no ORM
    objects (routing's hot path runs it): the caller flushes its own changes to these leads
    first and reads them again after."""
    connection = session.connection()
    params = {
        "first_lead": lead_ids[0], "of_customer": customer_id, "to_branch": branch_id, "at": at,
        "opener": opened_by, "by_round": round_id, "lead_ids": list(lead_ids),
    }  # fmt: skip
    for statement in _TAKE[connection.dialect.name]:
        connection.execute(statement, params)


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
    Joined to the open intervals (one per customer, a unique index), not a lookup per lead:
    after a 1.3M-lead round that was 2.6M index probes, 6.1 s to change nothing.
    """
    pooled = col(Lead.status).in_(POOL_STATUSES)
    owner = col(Ownership.branch_id)
    statement = (
        update(Lead)
        .where(col(Ownership.customer_id) == col(Lead.customer_id))
        .where(col(Ownership.valid_to).is_(None))
        .where(col(Lead.customer_id).in_(customers))
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
