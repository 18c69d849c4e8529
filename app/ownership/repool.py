"""Customers a branch may no longer hold go back to the pool (branch closed, tier dropped).

Their ownership closes at that instant with reason `repooled`: revenue that occurs from then
until a new owner's interval opens is credited to suspense, like any revenue without an owner.
"""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from app import audit
from app.ownership.holdings import HELD_STATUSES, customer_tier, serves
from app.ownership.service import release_customer
from app.tables import Branch, Lead, LeadPlacement
from app.tables.base import utcnow


def repool_ineligible(session: Session, *, branch: Branch, actor: str) -> int:
    """Release every customer of `branch` it may no longer hold; returns how many."""
    held = session.exec(
        select(Lead)
        .join(LeadPlacement, col(LeadPlacement.lead_id) == col(Lead.id))
        .where(col(LeadPlacement.branch_id) == branch.id)
        .where(col(LeadPlacement.status).in_(HELD_STATUSES))
        .order_by(col(Lead.id))
    )
    customers: dict[int, list[Lead]] = defaultdict(list)
    for lead in held:
        customers[lead.customer_id].append(lead)
    now = utcnow()
    released = 0
    for leads in customers.values():
        tier = customer_tier(x.tier for x in leads)
        if serves(branch, tier):
            continue
        why = f"branch {branch.code} closed" if not branch.active else f"{tier} not served"
        for lead in release_customer(
            session, lead=leads[0], at=now, reason="repooled", status="reclaimed", note=why
        ):
            detail: dict[str, object] = {"branch": branch.code, "reason": why}
            audit.record(
                session, actor=actor, action="lead.repooled", entity_type="lead",
                entity_id=lead.id, detail=detail,
            )  # fmt: skip
        released += 1
    return released
