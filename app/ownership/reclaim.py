"""Reclaiming customers whose follow-up deadline passed, on a schedule (`o2o followup run`).

Rounds reclaim lapsed customers too, when they commit; this lets a cron job do it between
rounds, so a lapsed customer is back in the pool within the hour, with the same rules: the
whole customer goes, its ownership closes, and the branch that let it lapse is remembered.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from app import audit
from app.config import Settings
from app.notifications.service import notify_reclaimed
from app.ownership.deadline import followup_rule
from app.ownership.service import release_customer
from app.rounds.pool import pool_condition
from app.tables import Lead

NOTE = "follow-up deadline passed"


def reclaim_lapsed(session: Session, *, settings: Settings, actor: str, now: datetime) -> int:
    """Release every customer whose assignment lapsed; returns how many customers."""
    cutoff = followup_rule(settings).cutoff(now)
    lapsed = session.exec(
        select(Lead)
        .where(pool_condition(deadline=cutoff), col(Lead.status) == "assigned")
        .order_by(col(Lead.id))
    ).all()
    customers = 0
    released_from: list[tuple[int, int]] = []  # (branch that lost it, lead)
    for lead in lapsed:
        if lead.branch_id is None:  # released already, with another lead of its customer
            continue
        for released in release_customer(
            session, lead=lead, at=now, reason="reclaimed", status="reclaimed", note=NOTE
        ):
            audit.record(session, actor=actor, action="lead.reclaimed", entity_type="lead",
                         entity_id=released.id, detail={"reason": NOTE})  # fmt: skip
            if released.returned_by_branch_id is not None and released.id is not None:
                released_from.append((released.returned_by_branch_id, released.id))
        customers += 1
    notify_reclaimed(session, released=released_from)
    if customers:  # an hourly cron that found nothing leaves no trace
        summary: dict[str, object] = {"customers": customers, "lapsed_before": cutoff.isoformat()}
        audit.record(session, actor=actor, action="followup.run", entity_type="lead",
                     detail=summary)  # fmt: skip
    return customers
