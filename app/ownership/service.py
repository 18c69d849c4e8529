"""Opening and closing ownership intervals; never rewriting them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from app.tables import Lead, Ownership


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


def close_open_intervals(session: Session, *, lead: Lead, at: datetime, reason: str) -> int:
    """End the lead's current ownership at `at`; returns how many intervals were closed."""
    query = select(Ownership).where(Ownership.lead_id == lead.id, col(Ownership.valid_to).is_(None))
    closed = 0
    for interval in session.exec(query):
        interval.valid_to = at
        interval.close_reason = reason
        session.add(interval)
        closed += 1
    return closed
