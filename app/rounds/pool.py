"""The pool of a round: which leads are up for allocation and how much room each branch has."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.bulk import plain_rows
from app.ownership.holdings import (
    FOLLOW_UP_STATUSES,
    POOL_STATUSES,
    branch_loads,
    customer_tier,
    in_follow_up,
    stale_condition,
)
from app.tables import Branch, Lead, Ownership

__all__ = ["FOLLOW_UP_STATUSES", "POOL_STATUSES", "PoolLead", "load_pool", "pool_condition"]


class PoolLead(NamedTuple):
    """A pooled lead as a round sees it. A named tuple: immutable like a frozen dataclass, and
    a third of the time to build, which counts when a pool holds a million (1.3M: 0.45 s
    against 1.43 s, cyclic GC paused as in a round; bench/RESULTS.md, session 13)."""

    id: int
    lat: float | None
    lon: float | None
    tier: str
    region_code: str | None
    returned_by_branch_id: int | None
    stale_branch_id: int | None  # set when an uncontacted assignment is being reclaimed
    customer_id: int
    # The customer's tier over all its leads, pooled or not (set for customers with several).
    customer_tier: str | None = None
    channel: str = ""  # what the expected-value objective's rates are kept by

    @property
    def excluded_branch_id(self) -> int | None:
        """The branch that last let this lead go (lapsed or returned): never sent back there."""
        return self.stale_branch_id or self.returned_by_branch_id


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


def load_pool(session: Session, *, lapsed_before: datetime) -> list[PoolLead]:
    """Pooled leads, and leads assigned before `lapsed_before` and never contacted."""
    tier_of = {c: customer_tier(tiers) for c, tiers in _tiers_of_repeat_customers(session).items()}
    stale_branch_id = case((col(Lead.status) == "assigned", col(Lead.branch_id)), else_=None)
    query = (
        sa_select(
            col(Lead.id), col(Lead.lat), col(Lead.lon), col(Lead.tier), col(Lead.region_code),
            col(Lead.returned_by_branch_id), stale_branch_id, col(Lead.customer_id),
            col(Lead.channel),
        )
        .where(pool_condition(deadline=lapsed_before))
        .order_by(col(Lead.id))
    )  # fmt: skip
    # Positional, in PoolLead's field order: a pool may hold a million leads, and keyword
    # arguments cost a third more per lead.
    rows = plain_rows(session, query)
    return [
        PoolLead(id_, lat, lon, tier, region, ret, stale, cust, tier_of.get(cust), chan)
        for id_, lat, lon, tier, region, ret, stale, cust, chan in rows
    ]


def _tiers_of_repeat_customers(session: Session) -> dict[int, list[str]]:
    """Every lead tier of each customer with more than one lead (a stale lead's linked sibling
    is not in the pool, yet its tier decides where the customer may go)."""
    tiers: dict[int, list[str]] = {}
    repeat = _repeat_customers(session)
    for start in range(0, len(repeat), IDS_PER_QUERY):
        some = repeat[start : start + IDS_PER_QUERY]
        query = sa_select(col(Lead.customer_id), col(Lead.tier)).where(
            col(Lead.customer_id).in_(some)
        )
        for customer_id, tier in session.execute(query):
            tiers.setdefault(int(customer_id), []).append(str(tier))
    return tiers


IDS_PER_QUERY = 10_000  # bind parameters per IN list (psycopg allows 65,535 a statement)


def _repeat_customers(session: Session) -> list[int]:
    """Customers with more than one lead. Grouped over sorted ids: grouping by hash spills to
    disk on default settings at 1.3M leads (5.5 s, against 1.9 s sorted), and the few repeat
    customers' leads are then read through the customer index, not by joining every lead."""
    ordered = sa_select(col(Lead.customer_id)).order_by(col(Lead.customer_id)).subquery()
    query = (
        sa_select(ordered.c.customer_id).group_by(ordered.c.customer_id).having(func.count() > 1)
    )
    return [int(customer_id) for (customer_id,) in session.execute(query)]


def split_by_customer(pool: list[PoolLead]) -> tuple[list[PoolLead], dict[int, int]]:
    """(one representative lead per customer, follower lead id -> representative lead id).

    Two pooled leads of one customer (acquired twice, through two channels) are one unit of
    follow-up: only the first goes to the solver, with the customer's tier (the highest of its
    leads'), and the others go where it goes.
    """
    first_of: dict[int, int] = {}
    follower_tiers: dict[int, list[str]] = {}
    representatives: list[PoolLead] = []
    followers: dict[int, int] = {}
    for lead in pool:
        first = first_of.setdefault(lead.customer_id, lead.id)
        if first == lead.id:
            representatives.append(lead)
        else:
            followers[lead.id] = first
            follower_tiers.setdefault(lead.customer_id, []).append(lead.tier)
    return [
        _with_customer_tier(x, follower_tiers)
        if x.customer_tier or x.customer_id in follower_tiers
        else x  # a customer of one lead, most of a pool: nothing to work out
        for x in representatives
    ], followers


def _with_customer_tier(lead: PoolLead, follower_tiers: dict[int, list[str]]) -> PoolLead:
    tiers = [lead.tier, *follower_tiers.get(lead.customer_id, [])]
    tiers += [lead.customer_tier] if lead.customer_tier else []
    return lead._replace(tier=customer_tier(tiers))


def remaining_capacity(session: Session, *, lapsed_before: datetime) -> dict[int, int]:
    """Capacity minus the customers each branch holds (stale ones are about to leave)."""
    loads = branch_loads(session, stale_before=lapsed_before)
    return {
        branch.id: max(branch.capacity - loads.get(branch.id, 0), 0)
        for branch in session.exec(select(Branch))
        if branch.id is not None
    }


def load_held(
    session: Session, *, branch_ids: list[int], lapsed_before: datetime
) -> list[tuple[PoolLead, int]]:
    """Open leads (in follow-up, not already lapsing into the pool) of the given branches, as
    pool leads with the branch that holds them: what closing those branches would re-pool."""
    if not branch_ids:
        return []
    tiers = _tiers_of_repeat_customers(session)
    query = (
        sa_select(
            col(Lead.id), col(Lead.lat), col(Lead.lon), col(Lead.tier), col(Lead.region_code),
            col(Lead.customer_id), col(Lead.branch_id),
        )
        .where(in_follow_up(), col(Lead.branch_id).in_(branch_ids))
        .where(~pool_condition(deadline=lapsed_before))
        .order_by(col(Lead.id))
    )  # fmt: skip
    return [
        (
            PoolLead(
                id=row[0], lat=row[1], lon=row[2], tier=row[3], region_code=row[4],
                returned_by_branch_id=None, stale_branch_id=None, customer_id=row[5],
                customer_tier=customer_tier(tiers[row[5]]) if row[5] in tiers else None,
            ),
            int(row[6]),
        )
        for row in session.execute(query)
    ]  # fmt: skip
