"""Opening and closing a customer's ownership, and keeping its leads in agreement with it.

Intervals are never rewritten, only closed. A customer's leads move together: all of them carry
the owning branch while the customer has an owner, and all of them are back in the pool when it
has none (see `app.ownership.holdings` for load and eligibility).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
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


def settle_customers(
    session: Session, *, customers: Select[Any], at: datetime, released: str
) -> int:
    """The given customers' leads come into agreement with their customer's open owner: a
    customer with an owner has every lead there (pooled ones `assigned`, held ones keep their
    status); one without has no lead held, each goes back to the pool as `released`,
    remembering the branch it left. Returns the leads changed.

    The leads that disagree are found first, in one pass over the customers' leads and their
    open intervals (one per customer, a unique index), and only those are written. After a
    round commit there are usually none: two set-based updates each read every lead and
    every open interval to change nothing (1.3M leads: 2.6-3.4 s, bench/RESULTS.md, session 18).
    """
    astray: dict[int | None, list[int]] = defaultdict(list)
    for lead_id, owner in session.execute(sa_select(*_unsettled(customers).c)):
        astray[owner].append(lead_id)
    unchanged_in_session = {"synchronize_session": False}
    for owner, lead_ids in astray.items():
        if owner is None:
            values = {"lead_ids": lead_ids, "at": at, "released": released}
            session.execute(_RELEASE, values, execution_options=unchanged_in_session)
        else:
            values = {"lead_ids": lead_ids, "at": at, "owner": owner}
            session.execute(_TO_OWNER, values, execution_options=unchanged_in_session)
    return sum(len(lead_ids) for lead_ids in astray.values())


_WHERE_LEADS = col(Lead.id).in_(bindparam("lead_ids", expanding=True))
_TO_OWNER = (
    update(Lead)
    .where(_WHERE_LEADS)
    .values(branch_id=bindparam("owner"), assigned_at=bindparam("at"), updated_at=bindparam("at"),
            status=case((col(Lead.status).in_(POOL_STATUSES), "assigned"), else_=col(Lead.status)))
)  # fmt: skip
_RELEASE = (
    update(Lead)
    .where(_WHERE_LEADS)
    .values(returned_by_branch_id=col(Lead.branch_id), branch_id=None,
            status=bindparam("released"), updated_at=bindparam("at"))
)  # fmt: skip


def _unsettled(customers: Select[Any]) -> Any:
    """(lead id, its customer's open owner or NULL) for the customers' leads that disagree
    with that owner: shown elsewhere or pooled while there is one, held while there is none."""
    lead = aliased(Lead)
    owner = col(Ownership.branch_id)
    open_interval = and_(
        col(Ownership.customer_id) == col(lead.customer_id), col(Ownership.valid_to).is_(None)
    )
    astray = or_(
        col(lead.status).in_(POOL_STATUSES),
        col(lead.branch_id).is_(None),
        col(lead.branch_id) != owner,
    )
    unowned_but_held = and_(owner.is_(None), col(lead.status).in_(HELD_STATUSES))
    return (
        sa_select(col(lead.id).label("lead_id"), owner.label("owner"))
        .select_from(lead)
        .outerjoin(Ownership, open_interval)
        .where(col(lead.customer_id).in_(customers))
        .where(or_(and_(owner.is_not(None), astray), unowned_but_held))
        .subquery("unsettled")
    )
